"""The conformance report the payment form ships says what the suite says today."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from hub.testing.report import NOT_APPLICABLE, PASSED, Report, shipped_report

REPO = Path(__file__).resolve().parents[2]


def test_the_shipped_report_of_the_payment_form_is_what_the_suite_says_today(tmp_path: Path) -> None:
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
            "tests/payment_form/test_conformance.py",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )

    assert result.returncode == 0, result.stdout[-3000:]
    fresh = Report.from_json((tmp_path / "payment_form.json").read_text())
    assert shipped_report("payment_form", "payment_form") == fresh, (
        "payment_form/conformance/payment_form.json is out of date: regenerate it with "
        "`pytest tests/payment_form/test_conformance.py --bluepaid-report payment_form/conformance`"
    )
    assert all(b.outcome in (PASSED, NOT_APPLICABLE) for b in fresh.behaviours)
