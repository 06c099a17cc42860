"""``bluepaid serve``, ``worker``, ``demo`` and ``db``: running the hub."""

from __future__ import annotations

import threading

import click

from hub import migrate
from hub.cli.base import cli, emit, hub_of, json_option
from hub.outbox import Outcome, Worker


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=5000, show_default=True, type=int, help="Port to listen on.")
@click.option("--with-worker", is_flag=True, help="Also run the outbox worker in this process.")
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, with_worker: bool) -> None:
    """Serve the hub (development server; use gunicorn 'hub.wsgi:app' in production)."""
    from hub.app import create_app
    from hub.serving import start_server

    hub = hub_of(ctx)
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
    hub = hub_of(ctx)

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
@click.option("--no-serve", is_flag=True, help="Set up and print, but do not start the servers.")
def demo(folder: str, port: int, sandbox_port: int, no_serve: bool) -> None:
    """Run the hub, its worker and the sandbox platform with a demo shop, on SQLite."""
    from hub.demo import run_demo

    run_demo(folder, port, sandbox_port, serve=not no_serve)
