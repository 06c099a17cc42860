"""Serving the hub: ``bluepaid serve`` (and so ``bluepaid demo``) on a production WSGI server.

Two servers, neither Werkzeug's development server (which once closed the
platform's confirmation without an answer under load: a lost payment, since
the platform never retries):

- **gunicorn**, where it runs (POSIX): a master process and ``workers`` sync
  worker processes, each building its own app (so its own database pool)
  after the fork, with the hub's gunicorn logger (:mod:`hub.gunicorn_config`):
  its access log, on stdout, and its error log, on stderr, redacted;
- **waitress** elsewhere, or on request: one process, ``workers`` threads;
  it reads each request whole before a thread runs it, and its access log
  (:class:`~sandbox.serving.AccessLog`, on stdout) is redacted by
  :func:`hub.redaction.redact`, as every log record of the process is.

Either way the port is bound before anything starts (a port in use is one line
naming ``--port``), the app is built once before serving (a schema behind the
code, a refused setting: one line, not a worker dying at boot), and SIGTERM or
Ctrl-C stops the server after the requests under way. ``--with-worker`` runs
``bluepaid worker`` as a child process beside it, not a thread: gunicorn forks
its workers from the master, and a fork copies a thread's locks, held or not,
but not the thread.

:func:`start_server` is the kit's in-process server (:mod:`hub.testing.stack`):
Werkzeug's threaded server on a thread of the test process, its log redacted.
"""

from __future__ import annotations

import gc
import importlib.util
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import click
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from bluepaid_plugins.errors import ConfigurationError
from hub import redaction
from hub.config import HubConfig
from hub.context import Hub
from sandbox.serving import AccessLog, BackgroundServer, access_logger, bind, run_until_stopped

#: The production servers ``bluepaid serve`` knows, in the order it prefers them.
SERVERS = ("gunicorn", "waitress")

#: Seconds gunicorn lets a worker be silent (one request, a slow shop call
#: included) before it kills it and starts a fresh one; also how long a stop
#: lets the requests under way finish.
TIMEOUT = 30


@dataclass(frozen=True)
class ServeOptions:
    """How ``bluepaid serve`` serves: where, with which server, with how many workers."""

    host: str = "127.0.0.1"
    port: int = 5000
    workers: int = 2
    server: str = ""
    timeout: int = TIMEOUT
    with_worker: bool = False


def installed(server: str) -> bool:
    """Whether ``server`` can run here (gunicorn needs POSIX's ``fork``)."""
    if server == "gunicorn" and os.name != "posix":
        return False
    return importlib.util.find_spec(server) is not None


def chosen_server(requested: str = "") -> str:
    """``requested`` (one of :data:`SERVERS`), or the first that runs here;
    ConfigurationError when it cannot run."""
    for server in (requested,) if requested else SERVERS:
        if installed(server):
            return server
    if requested == "gunicorn" and os.name != "posix":
        raise ConfigurationError("gunicorn runs on POSIX systems only: use --server waitress")
    wanted = requested or "waitress"
    raise ConfigurationError(f"{wanted} is not installed, and serving needs it: pip install {wanted}")


def freeze_loaded_objects() -> None:
    """Put every object alive now out of the cyclic garbage collector's sight.

    Called by a serving process once its app is built, before its first request
    (:mod:`hub.wsgi`, each gunicorn worker of ``bluepaid serve``, waitress). What
    is alive then (modules, the app, its plugins, compiled statements) lives as
    long as the process; without this, each full collection walks all of it: 80 ms
    twice in 10 s per worker under load, seen while the worker held SQLite's write
    lock, so that both workers stood still and the confirmations' p99 doubled.
    Objects made afterwards are collected as before. Not for tests: a process that
    builds many apps would keep them all.
    """
    gc.collect()
    gc.freeze()


def serve_hub(hub: Hub, options: ServeOptions) -> None:
    """Serve ``hub`` until SIGTERM or Ctrl-C (rules in the module docstring).

    Raises ConfigurationError, before serving, for a server that cannot run, a
    port that cannot be bound or an app that cannot be built; and when gunicorn
    stops on an error of its own (its log says which).
    """
    from hub.app import create_app

    server = chosen_server(options.server)
    sock = bind(options.host, options.port)
    try:
        # Under gunicorn this app only checks: each worker builds its own after the
        # fork, and recovers the stored confirmations then.
        app = create_app(hub=hub, recover=server == "waitress")
    except BaseException:
        sock.close()
        raise
    click.echo(
        f"hub on http://{options.host}:{options.port}/ ({server}, {options.workers}"
        f" {'workers' if server == 'gunicorn' else 'threads'}) — Ctrl-C to stop",
        err=True,
    )
    with _outbox_worker(options.with_worker):
        if server == "gunicorn":
            # No connection of this process's pool may be shared by the forked workers.
            hub.db.dispose()
            _serve_gunicorn(hub.config, options, sock)
        else:
            logged = AccessLog(app, access_logger("hub.access"), redaction.redact)
            freeze_loaded_objects()
            server_thread = BackgroundServer(logged, sock, threads=options.workers, name="hub")
            run_until_stopped(threading.Event(), servers=[server_thread])


@contextmanager
def _outbox_worker(wanted: bool) -> Iterator[None]:
    """``bluepaid worker`` in a child process for the block, with ``wanted``."""
    if not wanted:
        yield
        return
    child = subprocess.Popen([sys.executable, "-m", "hub.cli", "worker"])
    owner = os.getpid()
    click.echo(f"outbox worker running (process {child.pid})", err=True)
    try:
        yield
    finally:
        # A gunicorn worker leaves through this block too (it is a fork of the master,
        # ending with sys.exit()): only the process that started the child stops it.
        if os.getpid() == owner:
            stop_child(child)


def stop_child(child: subprocess.Popen[bytes]) -> None:
    """SIGTERM ``child`` and wait for it (KILL after :data:`TIMEOUT` seconds)."""
    if child.poll() is None:
        child.terminate()
        try:
            child.wait(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def _serve_gunicorn(config: HubConfig, options: ServeOptions, sock: socket.socket) -> None:
    """gunicorn's arbiter serving the hub on ``sock`` until it stops; ConfigurationError
    if it stops on an error."""
    # Imported here: gunicorn does not import on Windows, where waitress serves.
    from gunicorn.app.base import BaseApplication  # type: ignore[import-untyped]
    from gunicorn.config import KNOWN_SETTINGS  # type: ignore[import-untyped]

    from hub.app import create_app
    from hub.gunicorn_config import RedactingLogger

    settings: dict[str, Any] = {
        # gunicorn takes the descriptor over (and closes it): the port stays bound throughout.
        "bind": [f"fd://{sock.detach()}"],
        "workers": options.workers,
        "worker_class": "sync",
        "timeout": options.timeout,
        "graceful_timeout": options.timeout,
        "accesslog": "-",
        "errorlog": "-",
        "loglevel": "info",
        "logger_class": RedactingLogger,
        "proc_name": "bluepaid-hub",
    }
    if "control_socket_disable" in {setting.name for setting in KNOWN_SETTINGS}:
        # gunicorn >= 25.1 opens a control socket in ~/.gunicorn, one for every
        # gunicorn of the user, served by a thread of the master: not ours.
        settings["control_socket_disable"] = True

    class Application(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            for name, value in settings.items():
                self.cfg.set(name, value)

        def load(self) -> Any:
            app = create_app(config)
            freeze_loaded_objects()
            return app

    master = os.getpid()
    try:
        Application().run()
    except SystemExit as exc:
        if os.getpid() != master:
            # A worker, forked from the master inside run(), ends as gunicorn ends it.
            raise
        # The arbiter always leaves by sys.exit(): 0 after SIGTERM or Ctrl-C.
        if exc.code not in (0, None):
            problem = f"gunicorn stopped with status {exc.code} (its log above says why)"
            raise ConfigurationError(problem) from None


class RedactingHandler(WSGIRequestHandler):
    """werkzeug's request handler, its log lines redacted even where the process
    did not install :mod:`hub.redaction` (an app served without the hub's factory)."""

    def log(self, type: str, message: str, *args: Any) -> None:
        super().log(type, "%s", redaction.redact(message % args if args else message))


def start_server(app: Any, host: str, port: int) -> tuple[BaseWSGIServer, threading.Thread]:
    """Serve ``app`` on a thread (threaded server, redacted log); return the server and thread.

    For tests, in their own process (the kit's live stack); not for the hub's users.
    """
    server = make_server(host, port, app, threaded=True, request_handler=RedactingHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True, name=f"http-{port}")
    thread.start()
    return server, thread
