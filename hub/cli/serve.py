"""``bluepaid serve``, ``worker``, ``demo`` and ``db``: running the hub."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path

import click

from hub import migrate
from hub.cli.base import cli, emit, hub_of, json_option
from hub.outbox import LEASE, Outcome, Worker
from hub.serving import SERVERS, TIMEOUT, ServeOptions, serve_hub
from sandbox.serving import run_until_stopped

#: How many requests the hub serves at once, for ``serve`` and ``demo`` alike.
workers_option = click.option(
    "--workers",
    default=2,
    show_default=True,
    type=click.IntRange(min=1),
    help="Requests the hub serves at once: gunicorn's worker processes, or waitress's threads.",
)


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=5000, show_default=True, type=int, help="Port to listen on.")
@workers_option
@click.option(
    "--server",
    type=click.Choice(SERVERS),
    default=None,
    help="The WSGI server (default: gunicorn where it runs, else waitress).",
)
@click.option(
    "--timeout",
    default=TIMEOUT,
    show_default=True,
    type=click.IntRange(min=1),
    help="gunicorn: seconds a worker may spend on one request before it is replaced, and a stop waits.",
)
@click.option("--with-worker", is_flag=True, help="Also run the outbox worker, in a child process.")
@click.pass_context
def serve(
    ctx: click.Context,
    host: str,
    port: int,
    workers: int,
    server: str | None,
    timeout: int,
    with_worker: bool,
) -> None:
    """Serve the hub on a production WSGI server (gunicorn or waitress) until Ctrl-C."""
    options = ServeOptions(
        host=host, port=port, workers=workers, server=server or "", timeout=timeout, with_worker=with_worker
    )
    serve_hub(hub_of(ctx), options)


@cli.command()
@click.option("--once", is_flag=True, help="Run the due tasks once, then exit.")
@click.option("--idle", default=1.0, show_default=True, help="Seconds to sleep when nothing is due.")
@click.option("--json", "as_json", is_flag=True, help="With --once: print the outcomes as JSON.")
@click.option(
    "--lease",
    type=click.FloatRange(min=0, min_open=True),
    default=LEASE.total_seconds(),
    show_default=True,
    help="Seconds a claimed task stays this worker's: one killed mid-task leaves it to others after that.",
)
@click.pass_context
def worker(ctx: click.Context, once: bool, idle: float, as_json: bool, lease: float) -> None:
    """Deliver outbox tasks (update shops, mails, hooks) with retries, until Ctrl-C."""
    hub = hub_of(ctx)

    def report(outcome: Outcome) -> None:
        extra = f": {outcome.error}" if outcome.error else ""
        click.echo(f"task {outcome.task_id} {outcome.state.value}{extra}", err=True)

    runner = Worker(hub, lease=timedelta(seconds=lease))
    if once:
        outcomes = runner.run_once()
        for outcome in outcomes:
            report(outcome)
        if as_json:
            emit([{"task": o.task_id, "state": o.state.value, "error": o.error} for o in outcomes], True, str)
        return
    click.echo("worker running — Ctrl-C to stop", err=True)
    stop = threading.Event()
    # On a thread of its own, so that SIGTERM, like Ctrl-C, lets the task under way finish.
    loop = threading.Thread(
        target=runner.run_forever, args=(stop,), kwargs={"idle": idle, "on_outcome": report}, name="outbox"
    )
    loop.start()
    run_until_stopped(stop, threads=[loop], running=loop.is_alive)


@cli.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@json_option
@click.pass_context
def db_upgrade(ctx: click.Context, as_json: bool) -> None:
    """Create or migrate the database schema to the newest version."""
    hub = hub_of(ctx)
    migrate.upgrade(hub.db)
    emit(
        {"revision": migrate.current_revision(hub.db)},
        as_json,
        lambda d: f"database is at revision {d['revision']}",
    )


@cli.command()
@click.option("--dir", "folder", default="bluepaid-demo", show_default=True, help="Folder for the databases.")
@click.option("--port", default=5000, show_default=True, type=int, help="The hub's port.")
@click.option(
    "--sandbox-port", default=5001, show_default=True, type=int, help="The sandbox platform's port."
)
@workers_option
@click.option(
    "--fresh", is_flag=True, help="Start afresh: delete the folder's demo databases and keys first."
)
@click.option("--no-serve", is_flag=True, help="Set up and print, but do not start the servers.")
@click.option(
    "--catalog",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="A CSV of products: also run the built-in cart with them (imported again on each run).",
)
def demo(
    folder: str, port: int, sandbox_port: int, workers: int, fresh: bool, no_serve: bool, catalog: Path | None
) -> None:
    """Run the hub, its worker and the sandbox platform with a demo shop, on SQLite."""
    from hub.demo import DemoOptions, run_demo

    run_demo(
        DemoOptions(
            folder=Path(folder),
            hub_port=port,
            sandbox_port=sandbox_port,
            workers=workers,
            fresh=fresh,
            serve=not no_serve,
            catalog=catalog,
        )
    )
