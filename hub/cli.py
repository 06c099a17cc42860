"""The ``bluepaid`` command. Our errors become one line on stderr and exit code 1."""

from __future__ import annotations

import copy
import json
import logging
import os
import re
import sys
import threading
from collections.abc import Callable
from typing import Any

import click
from sqlalchemy.exc import SQLAlchemyError

from bluepaid_plugins.domain import Schedule
from bluepaid_plugins.errors import BluepaidError, PluginError, ValidationError
from bluepaid_plugins.money import Money
from hub import migrate
from hub.config import HubConfig
from hub.context import Hub, build_hub
from hub.outbox import Outcome, Worker, replay
from hub.pay import get_shop, pay_url_template
from hub.payments import list_payments, list_tasks, show_payment, task_summary
from hub.plugins import Plugins, make_plugins
from hub.shops import add_shop, list_shops, shop_summary
from sandbox.cli import sandbox


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


def _hub(ctx: click.Context) -> Hub:
    holder: HubHolder = ctx.ensure_object(HubHolder)
    return holder.get()


def emit(data: Any, as_json: bool, text: Callable[[Any], str]) -> None:
    """Print ``data`` as JSON for scripts, or as ``text(data)`` for people."""
    click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str) if as_json else text(data))


def table(keys: list[str], empty: str) -> Callable[[list[dict[str, Any]]], str]:
    """A text renderer for a list of records: one tab-separated line per record."""

    def render(rows: list[dict[str, Any]]) -> str:
        lines = ("\t".join(_cell(row[k]) for k in keys) for row in rows)
        return "\n".join(lines) or empty

    return render


def _cell(value: Any) -> str:
    return ",".join(value) if isinstance(value, list) else str(value)


json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """bluepaid: the hub between your shop and the Bluepaid payment page."""


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--with-worker", is_flag=True, help="Also run the outbox worker in this process.")
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, with_worker: bool) -> None:
    """Serve the hub (development server; use gunicorn 'hub.wsgi:app' in production)."""
    from hub.app import create_app
    from hub.serving import start_server

    hub = _hub(ctx)
    app = create_app(hub=hub)
    stop = threading.Event()
    if with_worker:
        threading.Thread(target=Worker(hub).run_forever, args=(stop,), daemon=True, name="outbox").start()
    server, thread = start_server(app, host, port)
    click.echo(f"hub listening on http://{host}:{port}/ — Ctrl-C to stop", err=True)
    try:
        thread.join()
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
        server.shutdown()


@cli.command()
@click.option("--once", is_flag=True, help="Run the due tasks once, then exit.")
@click.option("--idle", default=1.0, show_default=True, help="Seconds to sleep when nothing is due.")
@click.option("--json", "as_json", is_flag=True, help="With --once: print the outcomes as JSON.")
@click.pass_context
def worker(ctx: click.Context, once: bool, idle: float, as_json: bool) -> None:
    """Deliver outbox tasks (update shops, mails, hooks) with retries."""
    hub = _hub(ctx)

    def report(outcome: Outcome) -> None:
        extra = f": {outcome.error}" if outcome.error else ""
        click.echo(f"task {outcome.task_id} {outcome.state.value}{extra}", err=True)

    runner = Worker(hub)
    if once:
        outcomes = runner.run_once()
        for outcome in outcomes:
            report(outcome)
        if as_json:
            emit([{"task": o.task_id, "state": o.state.value, "error": o.error} for o in outcomes], True, str)
        return
    click.echo("worker running; Ctrl-C to stop", err=True)
    stop = threading.Event()
    try:
        runner.run_forever(stop, idle=idle, on_outcome=report)
    except KeyboardInterrupt:
        stop.set()


@cli.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@json_option
@click.pass_context
def db_upgrade(ctx: click.Context, as_json: bool) -> None:
    """Create or migrate the database schema to the newest version."""
    hub = _hub(ctx)
    migrate.upgrade(hub.db)
    emit(
        {"revision": migrate.current_revision(hub.db)},
        as_json,
        lambda d: f"database is at revision {d['revision']}",
    )


@cli.command()
@json_option
@click.pass_context
def plugins(ctx: click.Context, as_json: bool) -> None:
    """List the loaded plugins, their versions and hooks."""
    loaded = _hub(ctx).plugins
    data = [
        {
            "name": p.name,
            "version": p.version,
            "hooks": list(p.hooks),
            "connectors": [{"id": c.id, "label": c.label, "version": c.version} for c in p.connectors],
        }
        for p in loaded.info()
    ]
    data += [{"name": name, "error": reason} for name, reason in sorted(loaded.failures.items())]
    # Always JSON: this listing is meant for scripts and bug reports; --json is accepted for symmetry.
    del as_json
    emit(data, True, str)


@cli.group()
def shop() -> None:
    """Shops (merchant accounts) served by this hub."""


def _shop_text(data: dict[str, Any]) -> str:
    return "\n".join(f"{key}: {value}" for key, value in data.items())


@shop.command("add")
@click.argument("slug")
@click.option("--id-boutique", required=True, help="The merchant id on the platform.")
@click.option("--name", default="")
@click.option("--connector", default="payment_link", show_default=True)
@click.option(
    "--setting", "settings", multiple=True, metavar="NAME=VALUE", help="A connector setting (repeat)."
)
@click.option("--production", is_flag=True, help="Live shop (default: test mode).")
@click.option(
    "--accept-test/--refuse-test", default=None, help="Accept test payments (default: in test mode only)."
)
@click.option(
    "--allow-ip",
    "allowed_ips",
    multiple=True,
    help="Source address allowed to confirm (repeat; default: the platform's).",
)
@click.option("--platform-url", default="", help="Platform base URL (default: BLUEPAID_PLATFORM_URL).")
@click.option(
    "--redirect", "redirect_method", type=click.Choice(["get", "post"]), default="get", show_default=True
)
@click.option("--return-url", default="", help="Where the 'back to shop' link of the return page goes.")
@click.option(
    "--send-confirmation-url",
    is_flag=True,
    help="Send the confirmation URL with each payment (url_retour_bo); the buyer can then see it.",
)
@click.option("--language", default="FR", show_default=True)
@click.option("--notify-email", default="")
@json_option
@click.pass_context
def shop_add(
    ctx: click.Context,
    /,
    slug: str,
    settings: tuple[str, ...],
    production: bool,
    allowed_ips: tuple[str, ...],
    as_json: bool,
    **options: Any,
) -> None:
    """Add a shop and print the URLs to register with the platform and the shop."""
    parsed: dict[str, str] = {}
    for item in settings:
        name, sep, value = item.partition("=")
        if not sep:
            raise ValidationError([], f"--setting {item!r} must be NAME=VALUE")
        parsed[name] = value
    hub = _hub(ctx)
    created = add_shop(
        hub,
        slug=slug,
        settings=parsed,
        test_mode=not production,
        allowed_ips=list(allowed_ips) or None,
        **options,
    )
    emit(shop_summary(hub, created), as_json, _shop_text)


@shop.command("list")
@json_option
@click.pass_context
def shop_list(ctx: click.Context, as_json: bool) -> None:
    """List the shops."""
    hub = _hub(ctx)
    data = [shop_summary(hub, s) for s in list_shops(hub)]
    emit(data, as_json, table(["shop", "id_boutique", "connector", "test_mode"], "no shops"))


@shop.command("show")
@click.argument("slug")
@json_option
@click.pass_context
def shop_show(ctx: click.Context, slug: str, as_json: bool) -> None:
    """Show one shop and its URLs."""
    hub = _hub(ctx)
    emit(shop_summary(hub, get_shop(hub, slug)), as_json, _shop_text)


@cli.group()
def link() -> None:
    """Payment links: orders you create here and send to a buyer."""


_EVERY = re.compile(r"^([1-9][0-9]?)([MSJ])$")


def _schedule(
    currency: str, occurrences: int | None, every: str, initial: str, tolerance_days: int, tolerance_max: int
) -> Schedule | None:
    if occurrences is None:
        return None
    match = _EVERY.match(every.upper())
    if not match:
        raise ValidationError(
            [], f"--every {every!r}: a count and M (months), S (weeks) or J (days), like 1M"
        )
    return Schedule(
        occurrences=occurrences,
        period_count=int(match.group(1)),
        period_type=match.group(2),
        initial=Money.parse(initial, currency, field="initial") if initial else None,
        tolerance_days=tolerance_days,
        tolerance_max=tolerance_max,
    )


@link.command("create")
@click.option("--shop", "slug", required=True)
@click.option(
    "--amount", required=True, help="In major units with a dot: 12.50 (per debit for a subscription)"
)
@click.option("--currency", default="EUR", show_default=True)
@click.option("--description", default="")
@click.option("--email", default="", help="The buyer's e-mail, passed to the platform.")
@click.option("--ref", default="", help="Your order reference (default: generated).")
@click.option("--language", default="", help="FR, EN...")
@click.option("--occurrences", type=int, default=None, help="A subscription of this many debits.")
@click.option(
    "--every", default="1M", show_default=True, help="Subscription period: 1M, 2S (weeks), 10J (days)."
)
@click.option("--initial", default="", help="Subscription: a different first debit.")
@click.option(
    "--tolerance-days", type=int, default=0, help="Subscription: days before a refused debit is retried."
)
@click.option(
    "--tolerance-max", type=int, default=0, help="Subscription: how many retries of a refused debit."
)
@json_option
@click.pass_context
def link_create(
    ctx: click.Context,
    /,
    slug: str,
    amount: str,
    currency: str,
    as_json: bool,
    occurrences: int | None,
    every: str,
    initial: str,
    tolerance_days: int,
    tolerance_max: int,
    **options: str,
) -> None:
    """Create a payment-link order (or subscription) and print the link to send."""
    from hub.orders import create_link_order

    hub = _hub(ctx)
    target = get_shop(hub, slug)
    if target.connector != "payment_link":
        raise ValidationError([], f"shop {slug!r} uses connector {target.connector!r}, not payment_link")
    currency = currency.upper()
    schedule = _schedule(currency, occurrences, every, initial, tolerance_days, tolerance_max)
    price = Money.parse(amount, currency, field="amount")
    order = create_link_order(hub.db, target, price, now=hub.clock(), schedule=schedule, **options)
    data: dict[str, Any] = {
        "shop": slug,
        "ref": order.ref,
        "amount": str(order.amount),
        "currency": order.currency,
        "description": order.description,
        "pay_url": pay_url_template(hub, target).format(order_ref=order.ref),
    }
    if schedule is not None:
        data["schedule"] = order.schedule
    emit(data, as_json, lambda d: f"{d['ref']}: {d['amount']} {d['currency']}\n{d['pay_url']}")


@cli.group()
def payments() -> None:
    """Payments and their event logs."""


@payments.command("list")
@click.option("--shop", "slug", default=None)
@click.option("--state", default=None)
@click.option("--limit", default=100, show_default=True)
@json_option
@click.pass_context
def payments_list(ctx: click.Context, slug: str | None, state: str | None, limit: int, as_json: bool) -> None:
    """List payments, newest first."""
    data = list_payments(_hub(ctx), slug, state, limit)
    emit(
        data,
        as_json,
        table(["id", "shop", "order_ref", "amount", "currency", "state", "flags"], "no payments"),
    )


@payments.command("show")
@click.argument("payment_id")
@json_option
@click.pass_context
def payments_show(ctx: click.Context, payment_id: str, as_json: bool) -> None:
    """Show one payment and its events."""

    def text(d: dict[str, Any]) -> str:
        head = "\n".join(f"{k}: {v}" for k, v in d.items() if k != "events")
        events = "\n".join(
            f"  {e['at']} {e['kind']} {e['from']} -> {e['to']} {e['id_trans']} {e['detail']}"
            for e in d["events"]
        )
        return f"{head}\nevents:\n{events or '  none'}"

    emit(show_payment(_hub(ctx), payment_id), as_json, text)


@cli.group()
def outbox() -> None:
    """Outbox tasks: effects delivered by the worker."""


@outbox.command("list")
@click.option("--state", type=click.Choice(["pending", "running", "done", "dead"]), default=None)
@click.option("--limit", default=100, show_default=True)
@json_option
@click.pass_context
def outbox_list(ctx: click.Context, state: str | None, limit: int, as_json: bool) -> None:
    """List outbox tasks, newest first (``--state dead`` for the dead letters)."""
    data = list_tasks(_hub(ctx), state, limit)
    emit(data, as_json, table(["id", "kind", "state", "attempts", "order_ref", "last_error"], "no tasks"))


@outbox.command("replay")
@click.argument("task_id", type=int)
@json_option
@click.pass_context
def outbox_replay(ctx: click.Context, task_id: int, as_json: bool) -> None:
    """Make a dead task due again now (the worker then delivers it)."""
    task = replay(_hub(ctx), task_id)
    emit(task_summary(task), as_json, lambda d: f"task {d['id']} is due again")


@cli.command()
@click.option("--dir", "folder", default="bluepaid-demo", show_default=True, help="Folder for the databases.")
@click.option("--port", default=5000, show_default=True, type=int, help="The hub's port.")
@click.option("--sandbox-port", default=5001, show_default=True, type=int)
@click.option("--no-serve", is_flag=True, help="Set up and print, but do not start the servers.")
def demo(folder: str, port: int, sandbox_port: int, no_serve: bool) -> None:
    """Run the hub, its worker and the sandbox platform with a demo shop, on SQLite."""
    from hub.demo import run_demo

    run_demo(folder, port, sandbox_port, serve=not no_serve)


cli.add_command(sandbox)


def _register_plugin_commands(group: click.Group, loaded: Plugins) -> None:

    def register(command: Any) -> None:
        if not isinstance(command, click.Command) or not command.name:
            raise PluginError(f"{command!r} is not a named click command")
        if command.name in group.commands:
            click.echo(
                f"warning: plugin command {command.name!r} clashes with an existing one; skipped", err=True
            )
            return
        group.add_command(command)

    loaded.hook.bluepaid_register_commands(register=register)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script; returns the exit code."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        config = HubConfig.from_env(os.environ)
        # A command table of its own per run: plugin commands must not outlive the run that loaded them.
        group = copy.copy(cli)
        group.commands = dict(cli.commands)
        # Loaded once: for the plugins' commands, then for the hub the command uses.
        loaded = make_plugins(allow=config.load_plugins, strict=config.strict_plugins)
        _register_plugin_commands(group, loaded)
        group.main(args=argv, prog_name="bluepaid", standalone_mode=False, obj=HubHolder(config, loaded))
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except click.Abort:
        click.echo("aborted", err=True)
        return 1
    except BluepaidError as exc:
        click.echo(f"error: {exc}", err=True)
        return 1
    except SQLAlchemyError as exc:
        click.echo(
            f"error: database: {str(exc).splitlines()[0]}"
            " (is the schema up to date? run `bluepaid db upgrade`)",
            err=True,
        )
        return 1
    except OSError as exc:
        click.echo(f"error: {exc}", err=True)
        return 1
    except Exception as exc:
        if os.environ.get("BLUEPAID_DEBUG"):
            raise
        problem = f"unexpected {type(exc).__name__}: {exc}"
        click.echo(f"error: {problem} (BLUEPAID_DEBUG=1 shows the details)", err=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
