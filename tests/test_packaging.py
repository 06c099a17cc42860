"""The wheel a partner or a merchant installs holds every room, its data and its entry points."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ROOMS = ("bluepaid_plugins", "sandbox", "hub", "connectors", "payment_form", "cart")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    folder = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(folder), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (built,) = folder.glob("bluepaid_plugins-*.whl")
    return zipfile.ZipFile(built)


def _source_files(*patterns: str) -> set[str]:
    found: set[str] = set()
    for room in ROOMS:
        for pattern in patterns:
            found |= {
                str(p.relative_to(ROOT))
                for p in (ROOT / room).rglob(pattern)
                if "__pycache__" not in p.parts and p.is_file()
            }
    return found


@pytest.mark.slow
def test_every_module_and_data_file_of_the_rooms_is_in_the_wheel(wheel: zipfile.ZipFile) -> None:
    shipped = set(wheel.namelist())
    wanted = _source_files("*.py", "*.html", "*.mako", "*.json", "*.tmpl", "py.typed")

    assert sorted(wanted - shipped) == []


@pytest.mark.slow
def test_the_wheel_declares_the_command_the_builtin_connector_and_the_pytest_plugin(
    wheel: zipfile.ZipFile,
) -> None:
    (entry_points,) = [n for n in wheel.namelist() if n.endswith(".dist-info/entry_points.txt")]
    text = wheel.read(entry_points).decode()

    assert "bluepaid = hub.cli:main" in text
    assert "payment_link = connectors.payment_link" in text
    assert "woocommerce = connectors.woocommerce" in text
    assert "prestashop = connectors.prestashop" in text
    assert "pretix = connectors.pretix" in text
    assert "payment_form = payment_form" in text
    assert "cart = cart" in text
    assert "[pytest11]\nbluepaid = hub.testing.pytest_plugin" in text


def test_the_wheel_carries_the_modules_merchants_install_in_their_shops(wheel: zipfile.ZipFile) -> None:
    names = set(wheel.namelist())

    assert "connectors/woocommerce/shop/bluepaid-hub-gateway/bluepaid-hub-gateway.php" in names
    assert "connectors/prestashop/shop/bluepaid/bluepaid.php" in names
    assert "connectors/prestashop/shop/bluepaid/controllers/front/redirect.php" in names
    assert {
        "connectors/pretix/shop/pretix-bluepaid/pyproject.toml",
        "connectors/pretix/shop/pretix-bluepaid/pretix_bluepaid/payment.py",
        "connectors/pretix/shop/pretix-bluepaid/pretix_bluepaid/locale/fr/LC_MESSAGES/django.mo",
    } <= names
    assert {
        "connectors/woocommerce/conformance/woocommerce.json",
        "connectors/prestashop/conformance/prestashop.json",
        "connectors/pretix/conformance/pretix.json",
        "cart/conformance/cart.json",
        "cart/templates/cart/checkout.html",
    } <= names
