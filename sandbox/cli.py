"""``bluepaid sandbox``: serve the sandbox platform and manage its accounts."""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
from datetime import timedelta
from typing import Any

import click

from sandbox.accounts import account_summary, add_account, get_account, set_account
from sandbox.app import create_sandbox_app
from sandbox.cards import TEST_CARDS
from sandbox.config import SandboxConfig
from sandbox.delivery import deliver_due
from sandbox.masking import mask_url
from sandbox.platform import Platform
from sandbox.serving import (
    PUBLIC_ENV,
    PUBLIC_FLAG,
    AccessLog,
    BackgroundServer,
    access_logger,
    bind,
    checked_listen_host,
    run_until_stopped,
)
from sandbox.subscriptions import run_due

logger = logging.getLogger(__name__)

json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")


def _platform(ctx: click.Context) -> Platform:
    if "platform" not in ctx.meta:
        ctx.meta["platform"] = Platform(SandboxConfig.from_env(os.environ))
    platform: Platform = ctx.meta["platform"]
    return platform


def _emit(data: dict[str, Any], as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
    else:
        click.echo("\n".join(f"{key}: {value}" for key, value in data.items()))


def background_loop(platform: Platform, stop: threading.Event, every: float = 0.5) -> None:
    """Run due subscription debits and deliver due confirmations until ``stop``.

    A step that raises is logged and tried again next round: one bad debit or
    delivery must not silently stop every later one.
    """
    while not stop.wait(every):
        for step in (run_due, deliver_due):
            try:
                step(platform)
            except Exception:
                logger.exception("sandbox background %s failed; trying again in %s s", step.__name__, every)


def card_rows() -> list[dict[str, str]]:
    """The test cards as ``bluepaid sandbox cards --json`` prints them."""
    return [
        {
            "number": card.number,
            "type": card.type.value,
            "scenario": card.scenario.value,
            "description": card.description,
        }
        for card in TEST_CARDS
    ]


def print_test_cards() -> None:
    click.echo("test cards (any future expiry, any 3-digit CVV2):")
    for card in TEST_CARDS:
        click.echo(f"  {card.number}  {card.type.value:<10}  {card.description}")


def serve_sandbox(platform: Platform, host: str, port: int, *, allow_public: bool = False) -> None:
    """Print the test cards, then serve the sandbox with its background deliveries until
    Ctrl-C or SIGTERM (:func:`~sandbox.serving.run_until_stopped`).

    A ``host`` beyond loopback is refused unless ``allow_public``
    (:func:`~sandbox.serving.checked_listen_host`), and a port in use too
    (:func:`~sandbox.serving.bind`): ConfigurationError, before anything is
    printed or started.
    """
    host = checked_listen_host(host, platform.config.public_url, allow_public=allow_public)
    sock = bind(host, port)
    print_test_cards()
    stop = threading.Event()
    loop = threading.Thread(target=background_loop, args=(platform, stop), daemon=True, name="sandbox")
    loop.start()
    server = start_sandbox_server(platform, sock)
    click.echo(f"sandbox platform on http://{host}:{port}/ (console: /console/) — Ctrl-C to stop", err=True)
    run_until_stopped(stop, servers=[server], threads=[loop])


def start_sandbox_server(platform: Platform, sock: socket.socket) -> BackgroundServer:
    """The sandbox's app served on ``sock`` (bound by :func:`~sandbox.serving.bind`),
    its access log on stdout with confirmation URLs and long query values masked."""
    app = AccessLog(create_sandbox_app(platform=platform), access_logger("sandbox.access"), mask_url)
    return BackgroundServer(app, sock, name="sandbox")


@click.group(invoke_without_command=True)
@click.option(
    "--host", default="127.0.0.1", show_default=True, help="Address to listen on (loopback unless told)."
)
@click.option("--port", default=5001, show_default=True, type=int, help="Port to listen on.")
@click.option(
    PUBLIC_FLAG,
    "allow_public",
    is_flag=True,
    envvar=PUBLIC_ENV,
    show_envvar=True,
    help="Let --host be an address beyond loopback (the console has no login).",
)
@click.pass_context
def sandbox(ctx: click.Context, host: str, port: int, allow_public: bool) -> None:
    """The offline Bluepaid platform: without a subcommand, serve it (on loopback only,
    unless --i-know-it-is-public)."""
    if ctx.invoked_subcommand is None:
        serve_sandbox(_platform(ctx), host, port, allow_public=allow_public)


@sandbox.command("cards")
@json_option
def cards(as_json: bool) -> None:
    """List the test cards and what each one does."""
    if as_json:
        click.echo(json.dumps(card_rows(), indent=2, ensure_ascii=False))
    else:
        print_test_cards()


@sandbox.group()
def account() -> None:
    """Sandbox merchant accounts."""


_account_options = [
    click.option("--name", default=None, help="The shop's name, shown on the payment page."),
    click.option(
        "--mode",
        type=click.Choice(["test", "production"]),
        default=None,
        help="Test or production (production locks the form settings: FAQ 12, 28).",
    ),
    click.option(
        "--referrer-url", default=None, help="The page buyers must come from (FAQ 23; empty: no check)."
    ),
    click.option("--url-retour-ok", default=None, help="Where the buyer returns after an accepted payment."),
    click.option("--url-retour-stop", default=None, help="Where the buyer returns after a refusal."),
    click.option(
        "--url-confirmation", default=None, help="Where confirmations are posted (the shop's secret URL)."
    ),
    click.option("--ban-country", "banned_countries", multiple=True, help="ISO alpha-2 code (repeat)."),
    click.option(
        "--buyer-form/--no-buyer-form", default=None, help="Ask the buyer's name and address on the page."
    ),
    click.option(
        "--plan", type=click.Choice(["START", "PRO"]), default=None, help="The 2016 price plan (fees)."
    ),
    click.option("--merchant-email", default=None, help="Where the merchant's sale mails go."),
    json_option,
]


def _with_account_options(command: Any) -> Any:
    for option in reversed(_account_options):
        command = option(command)
    return command


def _values(options: dict[str, Any]) -> dict[str, Any]:
    values = {k: v for k, v in options.items() if v is not None and k != "banned_countries"}
    if options.get("banned_countries"):
        values["banned_countries"] = [c.upper() for c in options["banned_countries"]]
    return values


@account.command("add")
@click.argument("id_boutique")
@_with_account_options
@click.pass_context
def account_add(ctx: click.Context, /, id_boutique: str, as_json: bool, **options: Any) -> None:
    """Create an account (test mode unless --mode production)."""
    _emit(account_summary(add_account(_platform(ctx), id_boutique, **_values(options))), as_json)


@account.command("show")
@click.argument("id_boutique")
@json_option
@click.pass_context
def account_show(ctx: click.Context, id_boutique: str, as_json: bool) -> None:
    """Show an account's settings."""
    _emit(account_summary(get_account(_platform(ctx), id_boutique)), as_json)


@account.command("set")
@click.argument("id_boutique")
@_with_account_options
@click.pass_context
def account_set(ctx: click.Context, /, id_boutique: str, as_json: bool, **options: Any) -> None:
    """Change settings (form settings are locked in production: FAQ 12, 28)."""
    _emit(account_summary(set_account(_platform(ctx), id_boutique, **_values(options))), as_json)


@sandbox.command()
@click.option("--days", default=0.0, type=float, help="Days to move the clock forward.")
@click.option("--hours", default=0.0, type=float, help="Hours to move the clock forward.")
@json_option
@click.pass_context
def tick(ctx: click.Context, days: float, hours: float, as_json: bool) -> None:
    """Advance the sandbox clock, then run the debits and deliveries now due."""
    platform = _platform(ctx)
    now = platform.advance(timedelta(days=days, hours=hours))
    debits = run_due(platform)
    delivered = deliver_due(platform)
    _emit({"now": now.isoformat(), "debits": debits, "deliveries": delivered}, as_json)
