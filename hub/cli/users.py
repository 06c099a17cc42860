"""``bluepaid user``, ``bluepaid reconcile`` and ``bluepaid doctor``: back-office accounts,
putting payments and shop orders in agreement, and the go-live check."""

from __future__ import annotations

from datetime import timedelta

import click

from bluepaid_plugins.errors import ValidationError
from hub.backoffice.doctor import doctor as run_doctor
from hub.backoffice.reconcile import PENDING_MAX_AGE, disagreements, expire_stale
from hub.backoffice.users import add_user, set_password
from hub.cli.base import cli, emit, hub_of, json_option
from hub.models import Role


@cli.group()
def user() -> None:
    """Back-office users."""


def _password() -> str:
    # Prompted (hidden, typed twice), or read from stdin for scripts: never an argument,
    # which would stay in the shell's history and the process list.
    return str(click.prompt("Password", hide_input=True, confirmation_prompt=True))


@user.command("add")
@click.argument("email")
@click.option("--shop", "shops", multiple=True, required=True, help="A shop the user works on (repeatable).")
@click.option(
    "--role",
    type=click.Choice([r.value for r in Role]),
    default=Role.OWNER.value,
    show_default=True,
    help="owner: may act; read_only: may only look.",
)
@json_option
@click.pass_context
def user_add(ctx: click.Context, email: str, shops: tuple[str, ...], role: str, as_json: bool) -> None:
    """Create a back-office user (or give an existing one these shops); asks for the password."""
    account = add_user(hub_of(ctx), email, _password(), {slug: Role(role) for slug in shops})
    emit(
        {"email": account.email, "shops": list(shops), "role": role},
        as_json,
        lambda d: f"user {d['email']} saved ({d['role']} of {', '.join(d['shops'])})",
    )


@user.command("reset-password")
@click.argument("email")
@click.pass_context
def user_reset_password(ctx: click.Context, email: str) -> None:
    """Set a new password for a user (their sessions end); asks for it."""
    set_password(hub_of(ctx), email, _password())
    click.echo(f"password of {email.strip().lower()} changed")


@cli.command()
@click.option(
    "--older-than",
    default=int(PENDING_MAX_AGE.total_seconds() // 3600),
    show_default=True,
    help="Hours after which a payment still pending expires.",
)
@click.option("--no-shops", is_flag=True, help="Only expire payments: ask no shop about its orders.")
@json_option
@click.pass_context
def reconcile(ctx: click.Context, older_than: int, no_shops: bool, as_json: bool) -> None:
    """Expire payments left pending, then list paid payments whose shop order disagrees
    (fix them from the back office's reconciliation page)."""
    if older_than < 1:
        raise ValidationError([], "--older-than must be at least 1 hour")
    hub = hub_of(ctx)
    expired = expire_stale(hub, timedelta(hours=older_than))
    found = [] if no_shops else disagreements(hub)
    data = {
        "expired": expired,
        "disagreements": [
            {
                "shop": d.shop,
                "payment": d.payment,
                "order_ref": d.order_ref,
                "hub": d.hub_state,
                "shop_status": d.shop_status,
            }
            for d in found
        ],
    }

    def text(d: dict[str, list[object]]) -> str:
        lines = [f"{len(d['expired'])} payment(s) expired"]
        lines += [
            f"disagreement: shop {x['shop']} order {x['order_ref']}: hub {x['hub']}, shop {x['shop_status']}"  # type: ignore[index]
            for x in d["disagreements"]
        ]
        return "\n".join(lines)

    emit(data, as_json, text)


@cli.command()
@click.argument("slug")
@json_option
@click.pass_context
def doctor(ctx: click.Context, slug: str, as_json: bool) -> None:
    """The go-live check of a shop: exit code 1 when a check fails."""
    checks = run_doctor(hub_of(ctx), slug)
    emit(
        [{"check": c.name, "ok": c.ok, "detail": c.detail} for c in checks],
        as_json,
        lambda rows: "\n".join(f"{'ok  ' if r['ok'] else 'FAIL'} {r['check']}: {r['detail']}" for r in rows),
    )
    if not all(c.ok for c in checks):
        ctx.exit(1)
