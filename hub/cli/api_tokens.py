"""``bluepaid api-token``: the JSON API's tokens, one shop each."""

from __future__ import annotations

import click

from hub.api.tokens import create, list_tokens, revoke
from hub.cli.base import cli, emit, hub_of, json_option, table


@cli.group("api-token")
def api_token() -> None:
    """Tokens of the JSON API (/api/v1)."""


@api_token.command("create")
@click.option("--shop", "slug", required=True, help="The shop the token opens.")
@click.option("--name", default="", help="What the token is for (a script, a partner).")
@json_option
@click.pass_context
def token_create(ctx: click.Context, slug: str, name: str, as_json: bool) -> None:
    """Create a token; it is printed once, keep it (only its digest is stored)."""
    info, token = create(hub_of(ctx), slug, name)
    emit({"id": info.id, "shop": info.shop, "name": info.name, "token": token}, as_json, lambda d: d["token"])


@api_token.command("list")
@json_option
@click.pass_context
def token_list(ctx: click.Context, as_json: bool) -> None:
    """The tokens, by their first characters (revoked ones with their date)."""
    rows = [
        {"id": t.id, "shop": t.shop, "name": t.name, "shown": t.shown, "revoked_at": t.revoked_at or ""}
        for t in list_tokens(hub_of(ctx))
    ]
    emit(rows, as_json, table(["id", "shop", "name", "shown", "revoked_at"], "no API tokens"))


@api_token.command("revoke")
@click.argument("token_id", type=int)
@click.pass_context
def token_revoke(ctx: click.Context, token_id: int) -> None:
    """Revoke a token: it opens nothing from now on."""
    revoke(hub_of(ctx), token_id)
    click.echo(f"API token {token_id} revoked")
