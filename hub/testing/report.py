"""The conformance report: one line per behaviour of the suite, passed or not.

The test kit writes it at the end of a run (``--bluepaid-report PATH``); a
connector ships it as ``conformance/<id>.json`` in its package, where
``bluepaid plugins`` and ``bluepaid connector show`` read it. Only the
standard library here: the CLI reads reports without the test kit installed.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

PASSED = "passed"
FAILED = "failed"
NOT_APPLICABLE = "not applicable"


@dataclass(frozen=True)
class Behaviour:
    """One behaviour of the suite and its outcome (``reason`` says why not applicable)."""

    name: str
    outcome: str
    reason: str = ""

    def line(self) -> str:
        mark = {PASSED: "PASS", FAILED: "FAIL", NOT_APPLICABLE: "N/A "}.get(self.outcome, "NOT RUN")
        return f"{mark}  {self.name}" + (f" ({self.reason})" if self.reason else "")


@dataclass(frozen=True)
class Report:
    """The conformance report of one connector."""

    connector: str
    version: str
    contract: str
    behaviours: tuple[Behaviour, ...] = field(default_factory=tuple)

    @property
    def passed(self) -> bool:
        return all(b.outcome != FAILED for b in self.behaviours) and bool(self.behaviours)

    def lines(self) -> list[str]:
        head = f"conformance of connector {self.connector} {self.version} (contract {self.contract})"
        return [head, *(b.line() for b in self.behaviours)]

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, ensure_ascii=False) + "\n"

    @classmethod
    def from_json(cls, text: str) -> Report:
        data: dict[str, Any] = json.loads(text)
        behaviours = tuple(Behaviour(**b) for b in data.get("behaviours", ()))
        return cls(str(data["connector"]), str(data["version"]), str(data["contract"]), behaviours)


def shipped_report(connector_module: str, connector_id: str) -> Report | None:
    """The report a connector's package ships (``conformance/<id>.json`` beside its
    module), or None when it ships none or an unreadable one."""
    package = connector_module.rpartition(".")[0] or connector_module
    try:
        text = (resources.files(package) / "conformance" / f"{connector_id}.json").read_text("utf-8")
        return Report.from_json(text)
    except (OSError, ValueError, KeyError, TypeError, ModuleNotFoundError):
        return None


def report_file(connector_module: str, connector_id: str) -> Path:
    """Where the shipped report of a connector in a source checkout lives."""
    package = connector_module.rpartition(".")[0] or connector_module
    return Path(str(resources.files(package))) / "conformance" / f"{connector_id}.json"
