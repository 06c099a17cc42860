"""``bluepaid payments`` and ``bluepaid outbox``: what happened, and what is owed to shops."""

from __future__ import annotations

from typing import Any

import click

from hub.cli.base import cli, emit, hub_of, json_option, table
from hub.outbox import list_tasks, replay, show_task, task_summary
from hub.payments import list_payments, show_payment


@cli.group()
def payments() -> None:
    """Payments and their event logs."""


@payments.command("list")
@click.option("--shop", "slug", default=None, help="Only this shop's payments.")
@click.option("--state", default=None, help="Only payments in this state (paid, refused...).")
@click.option("--limit", default=100, show_default=True, help="At most this many, newest first.")
@json_option
@click.pass_context
def payments_list(ctx: click.Context, slug: str | None, state: str | None, limit: int, as_json: bool) -> None:
    """List payments, newest first."""
    data = list_payments(hub_of(ctx), slug, state, limit)
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
        lines = [f"{k}: {v}" for k, v in d.items() if k not in ("events", "order")]
        if "order" in d:
            lines += ["order:", *(f"  {k}: {v}" for k, v in d["order"].items())]
        lines.append("events:")
        lines += [
            f"  {e['at']} {e['kind']} {e['from']} -> {e['to']} {e['id_trans']} {e['detail']}"
            for e in d["events"]
        ] or ["  none"]
        return "\n".join(lines)

    emit(show_payment(hub_of(ctx), payment_id), as_json, text)


@cli.group()
def outbox() -> None:
    """Outbox tasks: effects delivered by the worker."""


@outbox.command("list")
@click.option(
    "--state",
    type=click.Choice(["pending", "running", "done", "dead"]),
    default=None,
    help="Only tasks in this state (dead: the dead letters).",
)
@click.option("--limit", default=100, show_default=True, help="At most this many, newest first.")
@json_option
@click.pass_context
def outbox_list(ctx: click.Context, state: str | None, limit: int, as_json: bool) -> None:
    """List outbox tasks, newest first (``--state dead`` for the dead letters)."""
    data = list_tasks(hub_of(ctx), state, limit)
    emit(data, as_json, table(["id", "kind", "state", "attempts", "order_ref", "last_error"], "no tasks"))


@outbox.command("show")
@click.argument("task_id", type=int)
@json_option
@click.pass_context
def outbox_show(ctx: click.Context, task_id: int, as_json: bool) -> None:
    """Show one task, with the traceback of a plugin's bug when it died of one."""

    def text(d: dict[str, Any]) -> str:
        head = "\n".join(f"{k}: {v}" for k, v in d.items() if k != "detail")
        return f"{head}\n{d['detail']}" if d["detail"] else head

    emit(show_task(hub_of(ctx), task_id), as_json, text)


@outbox.command("replay")
@click.argument("task_id", type=int)
@json_option
@click.pass_context
def outbox_replay(ctx: click.Context, task_id: int, as_json: bool) -> None:
    """Make a dead task due again now (the worker then delivers it)."""
    task = replay(hub_of(ctx), task_id)
    emit(task_summary(task), as_json, lambda d: f"task {d['id']} is due again")
