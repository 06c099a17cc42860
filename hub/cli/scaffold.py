"""``bluepaid new-connector``: the package of a new connector, ready to adapt and test."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

import click

from hub.cli.base import cli, emit, json_option
from hub.scaffold import Written, new_connector


@cli.command("new-connector")
@click.argument("name")
@click.option(
    "--dir",
    "folder",
    type=click.Path(path_type=Path),
    default=None,
    help="The folder to write the package into (default: ./bluepaid-NAME, with '-' for '_').",
)
@click.option("--label", default="", help="The shop software's name shown to merchants (default: from NAME).")
@click.option(
    "--force", is_flag=True, help="Write into a non-empty folder; files of the same path are replaced."
)
@json_option
def new_connector_command(name: str, folder: Path | None, label: str, force: bool, as_json: bool) -> None:
    """Write a pip-installable package for connector NAME (like acme_shop).

    It talks to an imaginary shop REST API and passes the conformance suite
    as written; its README says what to change for the real shop.
    """
    written = new_connector(name, folder, label=label, force=force)
    emit(_summary(written), as_json, _text)


def _summary(written: Written) -> dict[str, Any]:
    return {
        "connector": written.names.package,
        "label": written.names.label,
        "folder": str(written.folder),
        "files": list(written.files),
        "next": [f"cd {shlex.quote(str(written.folder))}", "pip install -e '.[test]'", "pytest"],
    }


def _text(summary: dict[str, Any]) -> str:
    lines = [f"wrote connector {summary['connector']} ({summary['label']}) in {summary['folder']}/"]
    lines += [f"  {name}" for name in summary["files"]]
    lines += ["", "next:", *(f"  {command}" for command in summary["next"])]
    return "\n".join(lines)
