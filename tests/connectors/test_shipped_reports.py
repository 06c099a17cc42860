"""The conformance report each built-in connector ships (what `bluepaid plugins` and
`bluepaid connector show` print) says what the suite says today."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from hub.testing.report import NOT_APPLICABLE, PASSED, Report, shipped_report

REPO = Path(__file__).resolve().parents[2]

#: Connector id, the module its class lives in, where its report is shipped, its suite.
BUILT_IN = [
    (
        "payment_link",
        "connectors.payment_link",
        "connectors/conformance",
        "tests/connectors/test_payment_link_conformance.py",
    ),
    (
        "woocommerce",
        "connectors.woocommerce.connector",
        "connectors/woocommerce/conformance",
        "tests/connectors/test_woocommerce_conformance.py",
    ),
    (
        "prestashop",
        "connectors.prestashop.connector",
        "connectors/prestashop/conformance",
        "tests/connectors/test_prestashop_conformance.py",
    ),
    (
        "pretix",
        "connectors.pretix.connector",
        "connectors/pretix/conformance",
        "tests/connectors/test_pretix_conformance.py",
    ),
    (
        "magento2",
        "connectors.magento2.connector",
        "connectors/magento2/conformance",
        "tests/connectors/test_magento_conformance.py",
    ),
    (
        "shopware6",
        "connectors.shopware6.connector",
        "connectors/shopware6/conformance",
        "tests/connectors/test_shopware_conformance.py",
    ),
    (
        "payment_form",
        "payment_form.connector",
        "payment_form/conformance",
        "tests/payment_form/test_conformance.py",
    ),
    ("cart", "cart.connector", "cart/conformance", "tests/cart/test_conformance.py"),
]


@pytest.mark.slow
@pytest.mark.parametrize(("connector", "module", "folder", "suite"), BUILT_IN, ids=[b[0] for b in BUILT_IN])
def test_the_shipped_report_is_what_the_suite_says_today(
    tmp_path: Path, connector: str, module: str, folder: str, suite: str
) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "--bluepaid-report",
            str(tmp_path),
            suite,
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )

    assert result.returncode == 0, result.stdout[-3000:]
    fresh = Report.from_json((tmp_path / f"{connector}.json").read_text())
    assert shipped_report(module, connector) == fresh, (
        f"{folder}/{connector}.json is out of date: regenerate it with "
        f"`pytest {suite} --bluepaid-report {folder}`"
    )
    assert all(b.outcome in (PASSED, NOT_APPLICABLE) for b in fresh.behaviours)
