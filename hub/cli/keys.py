"""``bluepaid keys``: the keys connector secrets are sealed with."""

from __future__ import annotations

import click

from hub.cli.base import cli, emit, hub_of, json_option
from hub.shops import rotate_secrets
from hub.vault import KEYS_VARIABLE, new_key


@cli.group()
def keys() -> None:
    """Encryption keys of the connector secrets (BLUEPAID_SETTINGS_KEYS)."""


@keys.command("new")
@json_option
def keys_new(as_json: bool) -> None:
    """Print a new key; put it first in BLUEPAID_SETTINGS_KEYS, then run `bluepaid keys rotate`."""
    emit({"key": new_key(), "variable": KEYS_VARIABLE}, as_json, lambda d: d["key"])


@keys.command("rotate")
@json_option
@click.pass_context
def keys_rotate(ctx: click.Context, as_json: bool) -> None:
    """Seal every stored connector secret again with the first key of BLUEPAID_SETTINGS_KEYS."""
    count = rotate_secrets(hub_of(ctx))
    emit(
        {"shops": count},
        as_json,
        lambda d: f"secrets of {d['shops']} shop(s) sealed with the first key; older keys can now go",
    )
