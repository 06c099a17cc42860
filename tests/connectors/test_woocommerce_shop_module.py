"""The shop side of WooCommerce: the gateway plugin in PHP, linted by Debian's ``php -l``
and its redirect logic run against stubs of the WordPress and WooCommerce it uses."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

import connectors.woocommerce

PLUGIN = Path(connectors.woocommerce.__file__).parent / "shop" / "bluepaid-hub-gateway"
TESTS = Path(__file__).parent / "php"
PHP = shutil.which("php")

pytestmark = pytest.mark.skipif(PHP is None, reason="Debian's php-cli is not installed (.ci/run installs it)")


def php(*args: str) -> subprocess.CompletedProcess[str]:
    assert PHP is not None
    return subprocess.run([PHP, *args], capture_output=True, text=True, timeout=60, check=False)


@pytest.mark.parametrize("path", sorted([*PLUGIN.rglob("*.php"), *TESTS.glob("*.php")]), ids=lambda p: p.name)
def test_php_lint(path: Path) -> None:
    linted = php("-l", str(path))
    assert linted.returncode == 0, linted.stdout + linted.stderr


def test_the_gateway_sends_the_buyer_to_the_hub_with_the_order_key() -> None:
    ran = php(str(TESTS / "gateway_test.php"), str(PLUGIN / "bluepaid-hub-gateway.php"))
    assert ran.returncode == 0 and ran.stdout.endswith("all passed\n"), ran.stdout + ran.stderr
    assert "ok redirect" in ran.stdout.splitlines()


def test_the_plugin_ships_with_the_package() -> None:
    assert (PLUGIN / "bluepaid-hub-gateway.php").is_file()
    header = (PLUGIN / "bluepaid-hub-gateway.php").read_text("utf-8")[:1200]
    assert "Plugin Name:" in header and "WC requires at least: 3.5" in header
