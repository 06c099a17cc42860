"""The conformance suite catches what it claims to: each flawed connector fails
exactly the behaviours its flaw breaks, and the right one passes them all."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from hub.testing.report import FAILED, NOT_APPLICABLE, PASSED, Report, shipped_report

SUBJECTS = Path(__file__).with_name("conformance_subjects.py")
REPO = Path(__file__).resolve().parents[2]

FLAWED = ("WritesTwice", "PlainRequests", "EverythingRetried", "LeaksItsKey", "FloatMoney")
TESTS = "from subjects import *\n" + "".join(
    f"\n\nclass Test{name}(RightShopHarness):\n    connector = {name}\n" for name in ("RightShop", *FLAWED)
)


def run_pytest(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BLUEPAID_")}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Report]:
    folder = tmp_path_factory.mktemp("suite")
    shutil.copy(SUBJECTS, folder / "subjects.py")
    (folder / "test_subjects.py").write_text(TESTS)
    result = run_pytest(folder, "--bluepaid-report", str(folder / "reports"), "test_subjects.py")
    assert result.returncode == 1, result.stdout[-3000:] + result.stderr[-3000:]
    return {p.stem: Report.from_json(p.read_text()) for p in (folder / "reports").glob("*.json")}


def failed(report: Report) -> set[str]:
    return {b.name for b in report.behaviours if b.outcome == FAILED}


def test_a_connector_done_right_passes_every_applicable_behaviour(reports: dict[str, Report]) -> None:
    report = reports["right_shop"]

    # Not installed as a distribution here: the one thing it cannot pass.
    assert failed(report) == {"entry point"}
    assert {b.name for b in report.behaviours if b.outcome == NOT_APPLICABLE} == {
        "subscription debits",
        "webhooks",
    }


@pytest.mark.parametrize(
    ("connector", "broken"),
    [
        ("writes_twice", {"re-applying an event is a no-op"}),
        (
            "plain_requests",
            {
                "ownership proof checked",
                "a timeout on every call",
                "no redirect followed",
                "retryable versus permanent errors",
                "unknown order is not found",
                "check_connection",
            },
        ),
        (
            "everything_retried",
            {
                "ownership proof checked",
                "retryable versus permanent errors",
                "unknown order is not found",
                "check_connection",
                "no redirect followed",
            },
        ),
        ("leaks_its_key", {"secrets absent from logs and error messages"}),
        ("float_money", {"currencies with 0, 2 and 3 decimals"}),
    ],
)
def test_each_flaw_fails_the_behaviours_it_breaks(
    reports: dict[str, Report], connector: str, broken: set[str]
) -> None:
    assert failed(reports[connector]) == broken | {"entry point"}


def test_a_failure_says_what_the_connector_did_and_what_was_expected(tmp_path: Path) -> None:
    shutil.copy(SUBJECTS, tmp_path / "subjects.py")
    (tmp_path / "test_subjects.py").write_text(
        "from subjects import *\n\n\nclass TestWritesTwice(RightShopHarness):\n    connector = WritesTwice\n"
    )

    result = run_pytest(tmp_path, "test_subjects.py", "-k", "writes_nothing")

    assert "applying the paid event again added a note" in result.stdout
    assert "FAIL  re-applying an event is a no-op" in result.stdout


def test_the_shipped_report_of_payment_links_is_what_the_suite_says_today(tmp_path: Path) -> None:
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
            "tests/connectors/test_payment_link_conformance.py",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )

    assert result.returncode == 0, result.stdout[-3000:]
    fresh = Report.from_json((tmp_path / "payment_link.json").read_text())
    shipped = shipped_report("connectors.payment_link", "payment_link")
    assert shipped == fresh, (
        "connectors/conformance/payment_link.json is out of date: regenerate it with "
        "`pytest tests/connectors --bluepaid-report connectors/conformance`"
    )
    assert all(b.outcome in (PASSED, NOT_APPLICABLE) for b in fresh.behaviours)
