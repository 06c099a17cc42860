"""The conformance suite catches what it claims to: each flawed connector fails
exactly the behaviours its flaw breaks, and the right one passes them all.

The right subject declares every capability, so every behaviour runs on it and on
each flawed variant. The subjects run in two processes: about a minute on two free
cores, two minutes on a busy one.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from hub.testing.conformance import BEHAVIOURS
from hub.testing.report import FAILED, PASSED, Report

SUBJECTS = Path(__file__).with_name("conformance_subjects.py")
REPO = Path(__file__).resolve().parents[2]

#: Each flawed subject of ``conformance_subjects.py`` and the behaviours its flaw breaks. None is
#: installed as a distribution here, so each also fails "entry point".
FLAWS: dict[str, tuple[str, set[str]]] = {
    "WritesTwice": ("writes_twice", {"re-applying an event is a no-op"}),
    "PlainRequests": (
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
    "EverythingRetried": (
        "everything_retried",
        {
            "ownership proof checked",
            "retryable versus permanent errors",
            "unknown order is not found",
            "check_connection",
            "no redirect followed",
        },
    ),
    "LeaksItsKey": ("leaks_its_key", {"secrets absent from logs and error messages"}),
    "FloatMoney": ("float_money", {"currencies with 0, 2 and 3 decimals"}),
    "SwapsNames": ("swaps_names", {"order mapping"}),
    "EveryOrderOpen": ("every_order_open", {"order states", "non-payable orders refused"}),
    "MarksEverythingPaid": (
        "marks_everything_paid",
        {"each event applied exactly once", "partial and full refunds"},
    ),
    "IgnoresRefunds": ("ignores_refunds", {"partial and full refunds"}),
    "ChecksOnlyTheStatus": ("checks_only_the_status", {"subscription debits"}),
    "NoIdempotencyKey": ("no_idempotency_key", {"each event applied exactly once"}),
    "UnsignedAccepted": ("unsigned_accepted", {"webhooks"}),
    "NoHandshake": ("no_handshake", {"webhooks"}),
    "ReadsNoChange": ("reads_no_change", {"webhooks"}),
}
SUBJECT_CLASSES = ("RightShop", *FLAWS)


def subjects_module(names: tuple[str, ...] | list[str]) -> str:
    return "from subjects import *\n" + "".join(
        f"\n\nclass Test{name}(RightShopHarness):\n    connector = {name}\n" for name in names
    )


def pytest_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args]


@dataclass(frozen=True)
class SuiteRun:
    """The suite run on every subject: each connector's report, and what pytest printed."""

    reports: dict[str, Report]
    output: str


@pytest.fixture(scope="module")
def suite(tmp_path_factory: pytest.TempPathFactory) -> SuiteRun:
    """The subjects run in two pytest processes side by side (a subject takes about 7 s)."""
    folder = tmp_path_factory.mktemp("suite")
    shutil.copy(SUBJECTS, folder / "subjects.py")
    env = {k: v for k, v in os.environ.items() if not k.startswith("BLUEPAID_")}
    runs = []
    for half in (0, 1):
        name = f"test_subjects_{half}.py"
        (folder / name).write_text(subjects_module(SUBJECT_CLASSES[half::2]))
        command = pytest_command("--bluepaid-report", str(folder / "reports"), name)
        runs.append(
            subprocess.Popen(
                command, cwd=folder, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
            )
        )
    outputs = [run.communicate(timeout=600)[0] for run in runs]
    for run, output in zip(runs, outputs, strict=True):
        assert run.returncode == 1, output[-3000:]
    reports = {p.stem: Report.from_json(p.read_text()) for p in (folder / "reports").glob("*.json")}
    return SuiteRun(reports, "\n".join(outputs))


def failed(report: Report) -> set[str]:
    return {b.name for b in report.behaviours if b.outcome == FAILED}


def test_a_connector_done_right_passes_every_behaviour(suite: SuiteRun) -> None:
    report = suite.reports["right_shop"]

    # Not installed as a distribution here: the one thing it cannot pass.
    assert failed(report) == {"entry point"}
    assert {b.outcome for b in report.behaviours} == {PASSED, FAILED}
    assert len(report.behaviours) == len(BEHAVIOURS)


def test_a_connector_declaring_idempotency_keys_is_reported_as_sending_them(suite: SuiteRun) -> None:
    lines = suite.reports["right_shop"].lines()

    assert "PASS  each event applied exactly once (event.id sent as the shop's idempotency key)" in lines


@pytest.mark.parametrize(("subject", "connector", "broken"), [(k, *v) for k, v in FLAWS.items()])
def test_each_flaw_fails_the_behaviours_it_breaks(
    suite: SuiteRun, subject: str, connector: str, broken: set[str]
) -> None:
    assert failed(suite.reports[connector]) == broken | {"entry point"}


def test_every_behaviour_is_failed_by_some_flaw(suite: SuiteRun) -> None:
    caught = set().union(*(failed(suite.reports[connector]) for connector, _ in FLAWS.values()))

    assert [name for name in BEHAVIOURS if name not in caught] == ["registration"]


@pytest.mark.parametrize(
    "message",
    [
        # re-applying (WritesTwice)
        "applying the paid event again added a note: ['Bluepaid: paid 36.60 EUR (TEST), transaction BP",
        # order states (EveryOrderOpen)
        "an order the shop holds as failed was read as open",
        "the pay link of a paid order answered 302, expected a refusal page",
        # unknown order (EverythingRetried): what it raised, what was expected
        "fetch_order('999999') of an order the shop does not have raised ShopUnavailable: Right shop: "
        "Right shop answered 404 for order 999999",
        "; expected OrderNotFound",
        # errors (PlainRequests)
        "429 with Retry-After: 120 on fetch_order raised retry_after=None, expected 120",
        "fetch_order with the shop redirecting to https://169.254.169.254/latest/meta-data/ raised "
        "ConnectionError",
        # the idempotency key (NoIdempotencyKey)
        "the connector declares idempotency_keys, but these writes do not carry the event's id "
        "'ev_conformance' as the shop's idempotency key: PUT /orders/",
        # webhooks (UnsignedAccepted, NoHandshake, ReadsNoChange)
        "a webhook without its signature headers was answered 200",
        "the shop's handshake was answered 401, expected 2xx: handshake() did not recognise it",
        "the pay link of an order the shop cancelled answered 302, expected 409: read_webhook() did not "
        "tell the hub it was cancelled",
        # refunds (IgnoresRefunds) and debits (ChecksOnlyTheStatus)
        "after a partial refund the order is 'paid'; the mapping says 'partially_refunded'",
        "has 0 notes with transaction BP000000000002, expected exactly 1",
        # the report
        "FAIL  re-applying an event is a no-op",
    ],
)
def test_a_failure_says_what_the_connector_did_and_what_was_expected(suite: SuiteRun, message: str) -> None:
    assert message in suite.output
