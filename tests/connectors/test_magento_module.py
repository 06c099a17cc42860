"""The Magento side: the Bluepaid_Hub payment module in PHP, linted by Debian's ``php -l``
and its redirect logic run against stubs of the Magento classes it uses."""

from __future__ import annotations

import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import connectors.magento2

MODULE = Path(connectors.magento2.__file__).parent / "shop" / "Bluepaid" / "Hub"
TESTS = Path(__file__).parent / "php" / "magento"
PHP = shutil.which("php")

needs_php = pytest.mark.skipif(PHP is None, reason="Debian's php-cli is not installed (.ci/run installs it)")


def php(*args: str) -> subprocess.CompletedProcess[str]:
    assert PHP is not None
    return subprocess.run([PHP, *args], capture_output=True, text=True, timeout=60, check=False)


@needs_php
@pytest.mark.parametrize("path", sorted([*MODULE.rglob("*.php"), *TESTS.glob("*.php")]), ids=lambda p: p.name)
def test_php_lint(path: Path) -> None:
    linted = php("-l", str(path))
    assert linted.returncode == 0, linted.stdout + linted.stderr


@needs_php
def test_the_module_sends_the_buyer_to_the_hub_with_the_protect_code() -> None:
    ran = php(str(TESTS / "magento_test.php"), str(MODULE))
    assert ran.returncode == 0 and ran.stdout.endswith("all passed\n"), ran.stdout + ran.stderr
    assert "ok redirect" in ran.stdout.splitlines()


@pytest.mark.parametrize("path", sorted(MODULE.rglob("*.xml")), ids=lambda p: p.name)
def test_the_modules_xml_is_well_formed(path: Path) -> None:
    ET.parse(path)


def test_the_module_declares_its_payment_method() -> None:
    config = ET.parse(MODULE / "etc" / "config.xml").getroot()
    assert config.findtext("default/payment/bluepaid_hub/model") == "Bluepaid\\Hub\\Model\\Payment"
    assert config.findtext("default/payment/bluepaid_hub/active") == "0"
