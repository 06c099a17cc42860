"""``bluepaid plugins`` shows what each built-in connector's shipped conformance report says."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from hub.cli import main
from hub.testing.conformance import BEHAVIOURS
from hub.testing.report import NOT_APPLICABLE, PASSED, Report, shipped_report


@pytest.fixture
def shipped() -> Report:
    report = shipped_report("connectors.payment_link", "payment_link")
    assert report is not None, "connectors/conformance/payment_link.json is not shipped"
    return report


def plugins(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp: Path, *args: str
) -> str:
    monkeypatch.setenv("BLUEPAID_DATABASE_URL", f"sqlite:///{tmp / 'hub.sqlite3'}")
    capsys.readouterr()
    assert main(["plugins", *args]) == 0
    return capsys.readouterr().out


def test_the_text_gives_the_conformance_summary_of_payment_links(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path, shipped: Report
) -> None:
    out = plugins(capsys, monkeypatch, tmp_path)

    [paragraph] = [p for p in out.split("\n\n") if p.startswith("payment_link ")]
    counts = Counter(b.outcome for b in shipped.behaviours)
    assert counts[PASSED] + counts[NOT_APPLICABLE] == len(BEHAVIOURS)
    summary = f"    conformance: {counts[NOT_APPLICABLE]} not applicable, {counts[PASSED]} passed"
    assert paragraph.splitlines()[4] == summary
    assert paragraph.splitlines()[2].startswith("  connector payment_link: ")


def test_the_json_gives_the_conformance_report_of_payment_links(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path, shipped: Report
) -> None:
    data = json.loads(plugins(capsys, monkeypatch, tmp_path, "--json"))

    [connector] = next(p for p in data if p["name"] == "payment_link")["connectors"]
    assert connector["conformance"] == shipped.lines()
    assert connector["conformance"][0] == "conformance of connector payment_link 1.0 (contract >=1.0,<2)"
    assert "PASS  each event applied exactly once" in connector["conformance"]
    assert len(connector["conformance"]) == 1 + len(BEHAVIOURS)
