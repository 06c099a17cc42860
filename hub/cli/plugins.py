"""``bluepaid plugins`` and ``bluepaid connector``: what is installed, and how to set it up."""

from __future__ import annotations

from collections import Counter
from typing import Any

import click

from bluepaid_plugins.connector import Connector
from hub.cli.base import cli, emit, json_option, plugins_of, table
from hub.plugins import Plugins
from hub.testing.report import FAILED, shipped_report


def _conformance_summary(cls: type[Connector]) -> str:
    """One line on the report ``cls``'s package ships: how many behaviours had each outcome,
    and which failed (``bluepaid connector show`` lists them all)."""
    report = shipped_report(cls.__module__, cls.id)
    if report is None:
        return "conformance: no report shipped"
    outcomes = Counter(b.outcome for b in report.behaviours)
    counts = ", ".join(f"{count} {outcome}" for outcome, count in sorted(outcomes.items()))
    failed = [b.name for b in report.behaviours if b.outcome == FAILED]
    return f"conformance: {counts or 'no behaviour'}" + (f" ({', '.join(failed)})" if failed else "")


def connector_info(cls: type[Connector]) -> dict[str, Any]:
    """What a merchant or partner needs to know of one connector class."""
    report = shipped_report(cls.__module__, cls.id)
    return {
        "id": cls.id,
        "label": cls.label,
        "version": cls.version,
        "contract": cls.contract,
        "ownership": cls.ownership.value,
        "capabilities": sorted(c.value for c in cls.capabilities),
        "settings": [
            {
                "name": f.name,
                "label": f.label,
                "type": f.type,
                "required": f.required and f.default is None,
                "secret": f.secret,
                "default": f.default,
                "choices": list(f.choices),
                "range": f.range_text(),
                "help": f.help,
            }
            for f in cls.settings_schema
        ],
        "statuses": dict(cls.statuses),
        "custom_statuses": cls.custom_statuses,
        "default_status_mapping": {str(k): v for k, v in cls.default_status_mapping.items()},
        "conformance": report.lines() if report else None,
    }


@cli.command()
@json_option
@click.pass_context
def plugins(ctx: click.Context, as_json: bool) -> None:
    """List the loaded plugins, their versions, hooks and connectors, and those that failed."""
    loaded = plugins_of(ctx)
    data: list[dict[str, Any]] = [
        {
            "name": p.name,
            "version": p.version,
            "builtin": p.builtin,
            "hooks": list(p.hooks),
            "connectors": [connector_info(c) for c in p.connectors],
        }
        for p in loaded.info()
    ]
    data += [{"name": name, "error": reason} for name, reason in sorted(loaded.failures.items())]
    emit(data, as_json, lambda _: _plugins_text(loaded))


def _plugins_text(loaded: Plugins) -> str:
    """A paragraph per plugin (name, version, hooks, each connector it registers), then
    one line per plugin that failed to load."""
    paragraphs = []
    for plugin in loaded.info():
        lines = [f"{plugin.name} {plugin.version}" + (" (built in)" if plugin.builtin else "")]
        lines.append(f"  hooks: {', '.join(plugin.hooks) or 'none'}")
        for cls in plugin.connectors:
            lines.append(f"  connector {cls.id}: {cls.label} {cls.version}, contract {cls.contract}")
            lines.append(
                f"    capabilities: {', '.join(sorted(c.value for c in cls.capabilities)) or 'none'}"
            )
            lines.append(f"    {_conformance_summary(cls)}")
        paragraphs.append("\n".join(lines))
    paragraphs += [f"{name}: failed to load: {reason}" for name, reason in sorted(loaded.failures.items())]
    return "\n\n".join(paragraphs) or "no plugins"


@cli.group()
def connector() -> None:
    """Installed connectors: their settings, statuses and conformance."""


@connector.command("list")
@json_option
@click.pass_context
def connector_list(ctx: click.Context, as_json: bool) -> None:
    """List the installed connectors."""
    loaded = plugins_of(ctx)
    data = [
        {
            "id": cls.id,
            "label": cls.label,
            "version": cls.version,
            "plugin": loaded.owner(cls.id),
            "capabilities": sorted(c.value for c in cls.capabilities),
        }
        for cls in sorted(loaded.connectors.values(), key=lambda c: c.id)
    ]
    emit(data, as_json, table(["id", "label", "version", "plugin", "capabilities"], "no connectors"))


@connector.command("show")
@click.argument("connector_id")
@json_option
@click.pass_context
def connector_show(ctx: click.Context, connector_id: str, as_json: bool) -> None:
    """Show a connector's settings (with help), statuses, default mapping and conformance."""
    info = connector_info(plugins_of(ctx).connector(connector_id))
    emit(info, as_json, _connector_text)


def _connector_text(info: dict[str, Any]) -> str:
    lines = [
        f"{info['label']} ({info['id']} {info['version']}, contract {info['contract']})",
        f"capabilities: {', '.join(info['capabilities']) or 'none'}",
        f"order proof: {info['ownership']}",
        "settings (--setting NAME=VALUE):",
    ]
    for s in info["settings"]:
        kind = f"one of {'|'.join(s['choices'])}" if s["type"] == "choice" else s["type"]
        if s["range"]:
            kind += f" {s['range']}"
        need = "required" if s["required"] else "optional"
        default = f", default {s['default']}" if s["default"] not in (None, "") else ""
        secret = ", secret" if s["secret"] and s["type"] != "secret" else ""
        lines.append(f"  {s['name']} ({kind}{secret}, {need}{default}): {s['label']}")
        if s["help"]:
            lines.append(f"      {s['help']}")
    if not info["settings"]:
        lines.append("  none")
    lines.append("statuses:")
    lines += [f"  {code}: {label}" for code, label in info["statuses"].items()] or ["  none"]
    if info["custom_statuses"]:
        lines.append(f"  and the shop's own statuses matching {info['custom_statuses']}")
    lines.append("default status mapping (--status EVENT=STATUS):")
    mapping = info["default_status_mapping"]
    lines += [f"  {event}: {status or '(left alone)'}" for event, status in mapping.items()] or ["  none"]
    lines += ["", *(info["conformance"] or ["no conformance report shipped"])]
    return "\n".join(lines)
