"""What every ``bluepaid`` command shares: the group, the lazily built hub, output."""

from __future__ import annotations

import json
from collections.abc import Callable
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import click

from bluepaid_plugins.errors import ValidationError
from hub.config import HubConfig
from hub.context import Hub, build_hub
from hub.plugins import Plugins


def _version() -> str:
    try:
        return version("bluepaid-plugins")
    except PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "unknown"


class HubHolder:
    """Builds the hub on first use, so ``--help`` never opens a database."""

    def __init__(self, config: HubConfig, plugins: Plugins | None = None) -> None:
        self.config = config
        self.plugins = plugins
        self._hub: Hub | None = None

    def get(self) -> Hub:
        if self._hub is None:
            self._hub = build_hub(self.config, plugins=self.plugins)
            # main() also runs in-process (tests, embedding): close the pool with the command.
            click.get_current_context().call_on_close(self._hub.db.dispose)
        return self._hub


def hub_of(ctx: click.Context) -> Hub:
    holder: HubHolder = ctx.ensure_object(HubHolder)
    return holder.get()


def plugins_of(ctx: click.Context) -> Plugins:
    """The loaded plugins, without opening the database."""
    holder: HubHolder = ctx.ensure_object(HubHolder)
    if holder.plugins is None:
        holder.plugins = holder.get().plugins
    return holder.plugins


def emit(data: Any, as_json: bool, text: Callable[[Any], str]) -> None:
    """Print ``data`` as JSON for scripts, or as ``text(data)`` for people."""
    click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str) if as_json else text(data))


def table(keys: list[str], empty: str) -> Callable[[list[dict[str, Any]]], str]:
    """A text renderer for a list of records: a header, then one tab-separated line per record."""

    def render(rows: list[dict[str, Any]]) -> str:
        if not rows:
            return empty
        lines = ["\t".join(keys), *("\t".join(_cell(row[k]) for k in keys) for row in rows)]
        return "\n".join(lines)

    return render


def _cell(value: Any) -> str:
    return ",".join(value) if isinstance(value, list) else str(value)


def record_text(data: dict[str, Any]) -> str:
    """One ``key: value`` line per entry (nested mappings indented)."""
    lines = []
    for key, value in data.items():
        if isinstance(value, dict):
            lines.append(f"{key}:")
            lines += [f"  {k}: {'' if v is None else v}" for k, v in value.items()]
        else:
            lines.append(f"{key}: {_cell(value)}")
    return "\n".join(lines)


def pairs(items: tuple[str, ...], option: str) -> dict[str, str]:
    """``NAME=VALUE`` command-line items as a mapping; ValidationError for a bad one."""
    parsed: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise ValidationError([], f"{option} {item!r} must be NAME=VALUE")
        parsed[name.strip()] = value
    return parsed


json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(_version(), "--version", prog_name="bluepaid", message="%(prog)s %(version)s")
def cli() -> None:
    """bluepaid: the hub between your shop and the Bluepaid payment page."""
