"""``bluepaid new-connector``: the package it writes installs, lints and passes the conformance suite."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest

from hub.cli import main
from hub.scaffold import new_connector
from hub.testing.conformance import BEHAVIOURS

ROOT = Path(__file__).resolve().parents[2]

EXPECTED_FILES = [
    ".gitignore",
    "LICENSE",
    "README.md",
    "pyproject.toml",
    "src/acme_shop/__init__.py",
    "src/acme_shop/connector.py",
    "src/acme_shop/plugin.py",
    "src/acme_shop/py.typed",
    "tests/examples/errors.json",
    "tests/examples/note.json",
    "tests/examples/order.json",
    "tests/examples/shop.json",
    "tests/fake_shop.py",
    "tests/test_conformance.py",
    "tests/test_connector.py",
]


@dataclass(frozen=True)
class Venv:
    """A virtual environment of its own, with pip, as a partner makes one.

    ``bin`` holds its ``python``, ``pip``, and the commands what it installs adds
    (``bluepaid``, ``pytest``).
    """

    folder: Path

    @property
    def bin(self) -> Path:
        return self.folder / "bin"

    @property
    def python(self) -> Path:
        return self.bin / "python"

    def env(self, **extra: str) -> dict[str, str]:
        """The environment of a shell in this venv: none of the outer test run's settings."""
        outer = ("BLUEPAID_", "PYTEST_", "PYTHON", "VIRTUAL_ENV")
        env = {name: value for name, value in os.environ.items() if not name.startswith(outer)}
        env["PATH"] = f"{self.bin}{os.pathsep}{env.get('PATH', '')}"
        return {**env, **extra}

    def run(self, *args: str | Path, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(arg) for arg in args],
            cwd=cwd,
            env=self.env(**env),
            capture_output=True,
            text=True,
            timeout=600,
        )


def source_copy(folder: Path) -> Path:
    """The checkout's files (tracked, or new and not ignored) copied to ``folder``, so that
    pip builds what a release would hold: nothing left in ``build/`` by an earlier build,
    nothing ignored."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
        timeout=60,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():
            target = folder / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    return folder


def fresh_venv(folder: Path) -> Venv:
    """A new venv in ``folder`` with bluepaid-plugins installed from a copy of this checkout
    by its own pip, with the dependencies it declares (from the package index, through
    pip's cache): nothing is borrowed from the environment running the tests."""
    subprocess.run([sys.executable, "-m", "venv", str(folder)], check=True, timeout=120)
    venv = Venv(folder)
    source = source_copy(folder.parent / f"{folder.name}-source")
    installed = venv.run(venv.python, "-m", "pip", "install", "-q", source, cwd=folder.parent)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    return venv


ISOLATION_CHECK = """
import importlib.util, sys
import hub
print(sys.prefix if hub.__file__.startswith(sys.prefix) else hub.__file__)
print([m for m in ("hypothesis", "sphinx", "playwright") if importlib.util.find_spec(m)])
"""


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def conformance_report(output: str, connector_id: str) -> list[str]:
    """The lines of the conformance report pytest printed for ``connector_id``."""
    section = output.split(f" bluepaid conformance: {connector_id} ", 1)[1].splitlines()[1:]
    head, *rest = section
    behaviours = [line for line in rest[: len(BEHAVIOURS)] if line.startswith(("PASS ", "FAIL ", "N/A "))]
    return [head, *behaviours]


def files_under(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def test_the_package_has_every_file_and_no_placeholder_left(tmp_path: Path) -> None:
    written = new_connector("acme_shop", tmp_path / "pkg")

    assert list(written.files) == EXPECTED_FILES
    assert files_under(tmp_path / "pkg") == EXPECTED_FILES
    for name in EXPECTED_FILES:
        assert "{{" not in (tmp_path / "pkg" / name).read_text("utf-8"), name


def test_the_names_derive_from_the_connector_name(tmp_path: Path) -> None:
    written = new_connector("north_wind", tmp_path / "pkg", label="Northwind Traders")
    pyproject = tomllib.loads((tmp_path / "pkg" / "pyproject.toml").read_text("utf-8"))
    connector = (tmp_path / "pkg" / "src" / "north_wind" / "connector.py").read_text("utf-8")

    assert pyproject["project"]["name"] == "bluepaid-north-wind"
    assert pyproject["project"]["entry-points"]["bluepaid"] == {"north_wind": "north_wind.plugin"}
    assert pyproject["project"]["optional-dependencies"]["test"][0].startswith("bluepaid-plugins[kit]")
    assert pyproject["tool"]["setuptools"]["package-data"]["north_wind"] == ["py.typed", "conformance/*.json"]
    assert 'id = "north_wind"' in connector and 'label = "Northwind Traders"' in connector
    assert "class NorthWindConnector(Connector):" in connector
    assert written.names.test_class == "TestNorthWindConformance"


def test_the_command_says_what_it_wrote_and_what_to_run_next(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)

    code, out, err = run_cli(capsys, "new-connector", "acme_shop")

    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0] == "wrote connector acme_shop (Acme Shop) in bluepaid-acme-shop/"
    assert lines[1 : 1 + len(EXPECTED_FILES)] == [f"  {name}" for name in EXPECTED_FILES]
    assert lines[-3:] == ["  cd bluepaid-acme-shop", "  pip install -e '.[test]'", "  pytest"]
    assert files_under(tmp_path / "bluepaid-acme-shop") == EXPECTED_FILES


def test_the_json_output_names_the_folder_and_the_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _err = run_cli(
        capsys, "new-connector", "acme_shop", "--dir", str(tmp_path / "my dir"), "--json"
    )

    assert code == 0
    data = json.loads(out)
    assert data["folder"] == str(tmp_path / "my dir")
    assert data["files"] == EXPECTED_FILES
    assert data["next"][0] == f"cd '{tmp_path / 'my dir'}'"


@pytest.mark.parametrize("name", ["Acme", "acme-shop", "1shop", "acme shop", "class", "", "a" * 65])
def test_a_name_that_is_not_a_lower_case_identifier_is_refused_in_one_line(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_cli(capsys, "new-connector", name, "--dir", str(tmp_path / "pkg"))

    assert code == 1 and out == ""
    assert err.count("\n") == 1 and err.startswith("error: NAME: ")
    assert "lower-case Python identifier" in err
    assert not (tmp_path / "pkg").exists()


@pytest.mark.parametrize("name", ["json", "hub"])
def test_a_name_that_would_hide_a_module_is_refused(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _out, err = run_cli(capsys, "new-connector", name, "--dir", str(tmp_path / "pkg"))

    assert code == 1
    assert (
        err == f"error: NAME: {name!r} is already a module of Python or of bluepaid-plugins; choose another\n"
    )


def test_a_label_that_would_break_the_code_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _out, err = run_cli(
        capsys, "new-connector", "acme", "--label", 'Acme "Pro"', "--dir", str(tmp_path)
    )

    assert code == 1 and err.startswith("error: --label: ")
    assert list(tmp_path.iterdir()) == []


def test_an_existing_folder_is_refused_and_left_as_it_was(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "pkg"
    folder.mkdir()
    (folder / "README.md").write_text("mine\n")

    code, _out, err = run_cli(capsys, "new-connector", "acme_shop", "--dir", str(folder))

    assert code == 1
    assert (
        err
        == f"error: {folder}/ exists and is not empty: choose another --dir, or --force to write into it\n"
    )
    assert files_under(folder) == ["README.md"]
    assert (folder / "README.md").read_text() == "mine\n"


def test_force_writes_into_an_existing_folder_and_keeps_the_other_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "pkg"
    folder.mkdir()
    (folder / "README.md").write_text("mine\n")
    (folder / "NOTES.txt").write_text("keep\n")

    code, _out, _err = run_cli(capsys, "new-connector", "acme_shop", "--dir", str(folder), "--force")

    assert code == 0
    assert files_under(folder) == sorted([*EXPECTED_FILES, "NOTES.txt"])
    assert (folder / "NOTES.txt").read_text() == "keep\n"
    assert (folder / "README.md").read_text().startswith("# bluepaid-acme-shop")


def test_an_empty_existing_folder_is_used(tmp_path: Path) -> None:
    assert list(new_connector("acme_shop", tmp_path).files) == EXPECTED_FILES


@pytest.mark.parametrize(("name", "label"), [("acme_shop", ""), ("north_wind_traders_v2", "Northwind & Co.")])
def test_the_generated_package_passes_ruff(name: str, label: str, tmp_path: Path) -> None:
    new_connector(name, tmp_path / "pkg", label=label)

    for command in (["check", "."], ["format", "--check", "."]):
        result = subprocess.run(
            [sys.executable, "-m", "ruff", *command, "--no-cache"],
            cwd=tmp_path / "pkg",
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stdout + result.stderr


def test_the_generated_package_lints_with_our_rules(tmp_path: Path) -> None:
    new_connector("acme_shop", tmp_path / "pkg")
    ours = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["tool"]
    theirs = tomllib.loads((tmp_path / "pkg" / "pyproject.toml").read_text("utf-8"))["tool"]

    assert theirs["ruff"]["lint"]["select"] == ours["ruff"]["lint"]["select"]
    assert theirs["ruff"]["lint"]["ignore"] == ours["ruff"]["lint"]["ignore"]
    assert theirs["ruff"]["line-length"] == ours["ruff"]["line-length"]
    assert theirs["mypy"]["strict"] is ours["mypy"]["strict"] is True


@pytest.mark.slow
def test_the_generated_package_installs_and_passes_the_conformance_suite(tmp_path: Path) -> None:
    package = tmp_path / "bluepaid-north-wind"
    new_connector("north_wind", package, label="Northwind Traders")
    venv = fresh_venv(tmp_path / "venv")

    # As the generated README says; pip installs what the package declares (the kit, the linters).
    installed = venv.run("pip", "install", "-q", "-e", f"{package}[test,lint]", cwd=tmp_path)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    # mypy --strict with the package's own settings, against our package as pip installed it.
    mypy = subprocess.Popen(
        [venv.python, "-m", "mypy", "--cache-dir", str(tmp_path / "mypy-cache")],
        cwd=package,
        env=venv.env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    tests = venv.run(venv.bin / "pytest", "-p", "no:cacheprovider", cwd=package)
    database = f"sqlite:///{tmp_path / 'hub.sqlite3'}"
    listed = venv.run(
        venv.bin / "bluepaid", "plugins", "--json", cwd=tmp_path, BLUEPAID_DATABASE_URL=database
    )
    text = venv.run(venv.bin / "bluepaid", "plugins", cwd=tmp_path, BLUEPAID_DATABASE_URL=database)
    # Nothing borrowed: our package is the copy pip installed, and our own test tools are not there.
    origin = venv.run(venv.python, "-c", ISOLATION_CHECK, cwd=tmp_path)
    checked, _ = mypy.communicate(timeout=300)

    assert origin.stdout.split() == [str(tmp_path / "venv"), "[]"], origin.stdout + origin.stderr
    assert tests.returncode == 0, tests.stdout + tests.stderr
    report = conformance_report(tests.stdout, "north_wind")
    assert report[0] == "conformance of connector north_wind 0.1.0 (contract >=1,<2)"
    assert len(report) == 1 + len(BEHAVIOURS)
    assert [line for line in report[1:] if not line.startswith(("PASS  ", "N/A   "))] == []
    not_applicable = [line.split(" (")[0].removeprefix("N/A   ") for line in report if line.startswith("N/A")]
    assert not_applicable == ["subscription debits", "webhooks"]
    plugins = {p["name"]: p for p in json.loads(listed.stdout)}
    assert listed.returncode == 0, listed.stderr
    [connector] = plugins["north_wind"]["connectors"]
    assert (connector["id"], connector["label"]) == ("north_wind", "Northwind Traders")
    assert plugins["north_wind"]["version"] == "0.1.0" and not plugins["north_wind"]["builtin"]
    assert "north_wind 0.1.0\n  hooks: bluepaid_register_connectors\n" in text.stdout
    assert "  connector north_wind: Northwind Traders 0.1.0, contract >=1,<2\n" in text.stdout
    assert mypy.returncode == 0, checked
