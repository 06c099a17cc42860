"""Lint, format, types and the rooms' import rule are part of the test run."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ROOMS_WITHOUT_HUB = ("bluepaid_plugins", "connectors", "payment_form", "cart")


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
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("room", ROOMS_WITHOUT_HUB)
def test_room_never_imports_the_hub(room: str) -> None:
    offenders = [
        str(p.relative_to(ROOT)) for p in (ROOT / room).rglob("*.py") if "hub" in _imported_modules(p)
    ]
    assert offenders == []


def test_contract_imports_only_what_the_architecture_allows() -> None:
    allowed = {"bluepaid_plugins", "pluggy", "requests", "babel", *sys.stdlib_module_names}
    # The sandbox is a Flask application and its console uses forms: it is the one part
    # of the contract package allowed the web stack (see the architecture's rooms table).
    web = {
        "flask",
        "wtforms",
        "flask_wtf",
        "werkzeug",
        "stdnum",
        "jinja2",
        "markupsafe",
        "click",
        "geoip2fast",
    }
    found = {}
    for path in (ROOT / "bluepaid_plugins").rglob("*.py"):
        extra = _imported_modules(path) - allowed
        if "sandbox" in path.parts:
            extra -= web | {"sqlalchemy"}
        if path.name == "db.py":
            # The one shared database module (engine settings for the hub, the sandbox, the cart).
            extra -= {"sqlalchemy"}
        if extra:
            found[str(path.relative_to(ROOT))] = sorted(extra)
    assert found == {}
