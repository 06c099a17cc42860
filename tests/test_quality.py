"""Lint, format, types and the rooms' import rule are part of the test run."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=600
    )


@pytest.mark.parametrize(
    "command",
    [("ruff", "check", "."), ("ruff", "format", "--check", "."), ("mypy",)],
    ids=["ruff-lint", "ruff-format", "mypy"],
)
def test_code_passes(command: tuple[str, ...]) -> None:
    result = _run(*command)
    assert result.returncode == 0, result.stdout + result.stderr


def _imported_modules(path: Path) -> set[str]:
    """Top-level names of every absolute import in ``path``, lazy ones included."""
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def _offenders(room: str, forbidden: set[str]) -> dict[str, list[str]]:
    found = {}
    for path in (ROOT / room).rglob("*.py"):
        bad = _imported_modules(path) & forbidden
        if bad:
            found[str(path.relative_to(ROOT))] = sorted(bad)
    return found


def test_contract_imports_only_what_the_architecture_allows() -> None:
    """``bluepaid_plugins`` imports the stdlib, pluggy, requests and babel; its
    database helpers (``db.py``) SQLAlchemy too, its shop HTTP client (``http.py``)
    urllib3, requests' own transport, where it checks and pins each connection.
    Nothing else, no other room."""
    allowed = {"bluepaid_plugins", "pluggy", "requests", "babel", *sys.stdlib_module_names}
    found = {}
    for path in (ROOT / "bluepaid_plugins").rglob("*.py"):
        extra = _imported_modules(path) - allowed
        if path.name == "db.py":
            extra -= {"sqlalchemy"}
        if path.name == "http.py":
            extra -= {"urllib3"}
        if extra:
            found[str(path.relative_to(ROOT))] = sorted(extra)
    assert found == {}


def test_sandbox_never_imports_the_hub() -> None:
    """The sandbox is the platform's side: it speaks to the hub over HTTP only."""
    assert _offenders("sandbox", {"hub", "connectors", "payment_form", "cart"}) == {}


@pytest.mark.parametrize("room", ["connectors", "payment_form", "cart"])
def test_plugin_rooms_speak_to_the_hub_only_through_the_contract(room: str) -> None:
    assert _offenders(room, {"hub", "sandbox"}) == {}
