"""The PrestaShop module that sends buyers to the hub: it lints with Debian's PHP, and its
redirect logic, run against stubs of PrestaShop's classes, creates the order awaiting payment
and sends the buyer to the hub's pay URL with the order's id and secure_key."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
MODULE = ROOT / "connectors" / "prestashop" / "shop" / "bluepaid"
HARNESS = Path(__file__).parent / "prestashop_module"
PHP = shutil.which("php")

pytestmark = pytest.mark.skipif(PHP is None, reason="php is not installed (Debian: apt-get install php-cli)")

CHECKOUT = "index.php?controller=order&step=1"


@pytest.fixture(scope="module")
def scenarios() -> dict[str, Any]:
    assert PHP is not None
    run = subprocess.run(
        [PHP, str(HARNESS / "run.php")],
        env={**os.environ, "BLUEPAID_MODULE_DIR": str(MODULE)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    result: dict[str, Any] = json.loads(run.stdout)
    return result


@pytest.mark.parametrize("path", sorted(MODULE.rglob("*.php")), ids=lambda p: str(p.relative_to(MODULE)))
def test_the_module_lints(path: Path) -> None:
    assert PHP is not None
    lint = subprocess.run([PHP, "-l", str(path)], capture_output=True, text=True, timeout=60, check=False)
    assert lint.returncode == 0, lint.stdout + lint.stderr


def test_the_buyer_is_sent_to_the_hub_with_the_orders_id_and_secure_key(scenarios: dict[str, Any]) -> None:
    done = scenarios["configured"]

    assert done["redirect"] == "https://hub.example/pay/boutique/42?key=b44a6d9efd7a0076a0fbce6b15eaf3b1"
    # cart, the module's waiting state, the cart's total, the method's name, the customer's key
    (call,) = done["validated"]
    assert call == [7, 14, 36.6, "Bluepaid", None, [], 1, False, "b44a6d9efd7a0076a0fbce6b15eaf3b1"]


def test_the_key_is_encoded_in_the_pay_url(scenarios: dict[str, Any]) -> None:
    assert scenarios["odd_key"]["redirect"] == "https://hub.example/pay/boutique/42?key=a%20b%26c%2Fd"


@pytest.mark.parametrize("case", ["not_configured", "no_state", "unknown_customer"])
def test_without_everything_needed_no_order_is_made_and_the_buyer_is_back_at_checkout(
    scenarios: dict[str, Any], case: str
) -> None:
    assert scenarios[case]["redirect"] == CHECKOUT
    assert scenarios[case]["validated"] == []


def test_the_payment_option_shows_only_once_configured(scenarios: dict[str, Any]) -> None:
    assert scenarios["configured"]["options"] == [
        {
            "setModuleName": "bluepaid",
            "setCallToActionText": "Pay by card with Bluepaid",
            "setAction": "https://shop.example/module/bluepaid/redirect",
        }
    ]
    assert scenarios["not_configured"]["options"] == []
    assert scenarios["no_state"]["options"] == []


def test_only_a_hub_pay_url_template_is_accepted(scenarios: dict[str, Any]) -> None:
    assert scenarios["templates"] == {"good": True, "no_key": False, "javascript": False, "empty": False}
