"""Serving the sandbox: where it may listen, and the server it listens with.

**Where.** The console has no login and shows every account's settings; the
sandbox is a tool for one developer's machine. Every way this project serves
it (``bluepaid sandbox``, ``bluepaid demo``) asks :func:`checked_listen_host`
first:

- a loopback host (``localhost``, an address of ``127.0.0.0/8``, ``::1``) is
  served as it is;
- any other (``0.0.0.0``, ``::``, a LAN address, a host name, which could
  resolve anywhere) is refused with :class:`~bluepaid_plugins.errors.ConfigurationError`,
  unless the operator passes ``--i-know-it-is-public`` or sets
  ``BLUEPAID_SANDBOX_I_KNOW_IT_IS_PUBLIC=1``; then it is served and a warning
  is printed on stderr.

Whatever the address, the app answers only for its public URL's host and
loopback names (:mod:`sandbox.hosts`).

**With what.** waitress, a production WSGI server, on a thread of its own
(:class:`BackgroundServer`), so the process keeps its main thread for the
loops beside it (the sandbox's deliveries, the demo's outbox worker). waitress
reads each request whole before a worker thread runs it and writes answers
from its own loop, so a slow client holds a connection, never a thread; past
:data:`CONNECTION_LIMIT` open connections new ones wait in the listen queue
rather than being refused. Werkzeug's development server, used before, once
closed a confirmation's connection without an answer under load. Each request
is written to an access log (:class:`AccessLog`) through a mask the caller
chooses. :func:`run_until_stopped` is the one "serve until Ctrl-C" loop of the
project's commands (the hub's included: the hub may import the sandbox).
"""

from __future__ import annotations

import errno
import logging
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from types import FrameType
from typing import Any

import click
from waitress import wasyncore
from waitress.server import create_server

from bluepaid_plugins.errors import ConfigurationError
from sandbox.hosts import is_loopback_name

#: The command-line flag that lets the sandbox listen beyond loopback.
PUBLIC_FLAG = "--i-know-it-is-public"
#: The environment variable that does the same as :data:`PUBLIC_FLAG`.
PUBLIC_ENV = "BLUEPAID_SANDBOX_I_KNOW_IT_IS_PUBLIC"

#: Seconds an idle connection (no request under way) is kept open.
CHANNEL_TIMEOUT = 30
#: Open connections a server takes at most; further ones wait in the listen queue.
CONNECTION_LIMIT = 200
#: Connections waiting to be accepted, per listening socket.
BACKLOG = 1024
#: Seconds a stopping server gives the requests under way to finish.
STOP_GRACE = 10


def checked_listen_host(host: str, public_url: str, *, allow_public: bool = False) -> str:
    """``host``, once it may be listened on (rules in the module docstring).

    Raises ConfigurationError for a host beyond loopback without
    ``allow_public``; with it, prints a warning naming ``public_url``, the only
    non-loopback name the sandbox will answer for.
    """
    if is_loopback_name(host.strip("[]")):
        return host
    if not allow_public:
        raise ConfigurationError(
            f"the sandbox listens on loopback only, not on {host!r}: its console has no login, and "
            "whoever reaches it reads the transactions and changes where confirmations go; to serve it "
            f"beyond this machine anyway, add {PUBLIC_FLAG} (or set {PUBLIC_ENV}=1) and set "
            "BLUEPAID_SANDBOX_PUBLIC_URL to the address people will use"
        )
    click.echo(
        f"warning: the sandbox listens on {host!r}, beyond loopback: its console has no login, and "
        "anyone who reaches it reads the transactions and changes where confirmations go. It answers "
        f"only for {public_url} (BLUEPAID_SANDBOX_PUBLIC_URL) and loopback names.",
        err=True,
    )
    return host


# Ports


def bind(host: str, port: int, *, option: str = "--port", avoid: Iterable[int] = ()) -> socket.socket:
    """A socket bound to ``host:port`` and listening; the caller serves on it.

    A port that cannot be bound raises ConfigurationError in one line; for one in
    use, the line names ``option`` and a port free now to give it (none of
    ``avoid``, the other ports the command uses). ``SO_REUSEADDR``, as servers
    set it: a port the previous run left in TIME_WAIT is free.
    """
    try:
        return _bound(host, port)
    except OSError as exc:
        if exc.errno != errno.EADDRINUSE:
            raise ConfigurationError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
        taken = {port, *avoid}
        candidates = (p for p in range(port + 1, min(port + 100, 65536)) if p not in taken)
        free = next((p for p in candidates if _free(host, p)), 0)
        fix = f"run again with {option} {free}" if free else f"run again with another {option}"
        raise ConfigurationError(
            f"port {port} is already in use on {host} (another program, or this one still running): {fix}"
        ) from exc


def check_free(host: str, port: int, *, option: str = "--port", avoid: Iterable[int] = ()) -> None:
    """Raise what :func:`bind` raises when ``host:port`` cannot be listened on now:
    for a port that another process of ours will bind."""
    bind(host, port, option=option, avoid=avoid).close()


def _bound(host: str, port: int) -> socket.socket:
    try:
        family, _type, _proto, _name, address = socket.getaddrinfo(
            host.strip("[]") or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except (socket.gaierror, UnicodeError) as exc:
        raise ConfigurationError(f"cannot listen on {host!r}: no such address ({exc})") from exc
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(BACKLOG)
    except OSError:
        sock.close()
        raise
    return sock


def _free(host: str, port: int) -> bool:
    try:
        _bound(host, port).close()
    except OSError:
        return False
    return True


# The access log


class AccessLog:
    """WSGI middleware writing one line per request to ``logger`` at INFO, in the
    combined format (client, time, request line, status, bytes, referrer, user agent).

    ``mask`` is applied to the request's target and to its referrer, the URLs of the
    line: the caller decides what is secret in a URL. The line is written when the
    server closes the answer (sent, or the client gone).
    """

    def __init__(self, app: Any, logger: logging.Logger, mask: Callable[[str], str]) -> None:
        self.app = app
        self.logger = logger
        self.mask = mask

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> _LoggedBody:
        status = ["-"]

        def recording_start_response(code: str, headers: Any, exc_info: Any = None) -> Any:
            status[0] = code.split(" ", 1)[0]
            return start_response(code, headers, exc_info)

        body = self.app(environ, recording_start_response)
        return _LoggedBody(body, lambda sent: self.logger.info(_line(environ, status[0], sent, self.mask)))


class _LoggedBody:
    """An answer's body that counts what it gave and reports it when closed."""

    def __init__(self, body: Iterable[bytes], report: Callable[[int], None]) -> None:
        self.body = body
        self.report = report
        self.sent = 0

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self.body:
            self.sent += len(chunk)
            yield chunk

    def close(self) -> None:
        try:
            close = getattr(self.body, "close", None)
            if close is not None:
                close()
        finally:
            self.report(self.sent)


def _line(environ: dict[str, Any], status: str, sent: int, mask: Callable[[str], str]) -> str:
    query = environ.get("QUERY_STRING", "")
    target = mask(environ.get("PATH_INFO", "") + (f"?{query}" if query else ""))
    request = f"{environ.get('REQUEST_METHOD', '-')} {target} {environ.get('SERVER_PROTOCOL', '-')}"
    when = time.strftime("%d/%b/%Y:%H:%M:%S %z")
    referrer, agent = mask(environ.get("HTTP_REFERER", "-")), environ.get("HTTP_USER_AGENT", "-")
    client = environ.get("REMOTE_ADDR", "-")
    return f'{client} - - [{when}] "{request}" {status} {sent} "{referrer}" "{agent}"'


def access_logger(name: str) -> logging.Logger:
    """The logger ``name``, writing its INFO records on stdout as gunicorn writes its
    access log (``--access-logfile -``), whatever the level of the process's logging."""
    logger = logging.getLogger(name)
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stdout)
        handler.setFormatter(logging.Formatter("%(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False
    return logger


# The server


class BackgroundServer:
    """``app`` served by waitress on ``sock``, from a thread of its own, until :meth:`stop`.

    ``threads`` requests run at once; further ones wait, read, in waitress's queue.
    """

    def __init__(self, app: Any, sock: socket.socket, *, threads: int = 4, name: str = "http") -> None:
        self.host, self.port = sock.getsockname()[:2]
        self._map: dict[int, Any] = {}
        self._server: Any = create_server(
            app,
            map=self._map,
            sockets=[sock],
            threads=threads,
            channel_timeout=CHANNEL_TIMEOUT,
            connection_limit=CONNECTION_LIMIT,
            # Which proxy to believe is the app's decision (the hub's BLUEPAID_TRUST_PROXY):
            # waitress 3 would otherwise drop every X-Forwarded-* header.
            clear_untrusted_proxy_headers=False,
        )
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True, name=f"{name}-{self.port}")
        self._thread.start()

    def _poll(self) -> None:
        # One poll at a time, so that stop() (from another thread) is seen within one:
        # waitress's own run() ends on a signal in the thread running it only.
        wasyncore.loop(timeout=0.5, map=self._map, use_poll=True, count=1)

    def _busy(self) -> bool:
        """Whether a connection is receiving a request, running one, or has an answer to send."""
        return any(
            channel.request is not None or channel.requests or channel.total_outbufs_len
            for channel in list(self._server.active_channels.values())
        )

    def _loop(self) -> None:
        while not self._stopping.is_set():
            self._poll()
        # Stopping: the listening socket is closed (its trigger stays: the task threads
        # pull it to have their answers sent), and the requests being read or run
        # finish, their answers sent, for STOP_GRACE seconds at most. A confirmation
        # under way when a supervisor restarts the process is answered, not dropped.
        wasyncore.dispatcher.close(self._server)
        deadline = time.monotonic() + STOP_GRACE
        while self._busy() and time.monotonic() < deadline:
            self._poll()
        self._server.task_dispatcher.shutdown(cancel_pending=True, timeout=1)
        wasyncore.close_all(self._map)

    def stop(self) -> None:
        """Stop accepting connections, let the requests under way finish (rules in
        :meth:`_loop`), then close every connection. A second call does nothing."""
        if self._stopping.is_set():
            return
        self._stopping.set()
        self._server.pull_trigger()
        self._thread.join()


# Until Ctrl-C


def run_until_stopped(
    stop: threading.Event,
    *,
    servers: Sequence[BackgroundServer] = (),
    threads: Sequence[threading.Thread] = (),
    running: Callable[[], bool] = lambda: True,
) -> None:
    """Wait for Ctrl-C, SIGTERM, ``stop`` set elsewhere, or ``running()`` turning
    false; then set ``stop``, stop the ``servers`` and wait for the ``threads``
    (loops that watch ``stop``), in that order.

    SIGTERM (a supervisor, ``kill``) stops as Ctrl-C does, so a request or a task
    under way finishes. Called from the main thread; elsewhere SIGTERM keeps its
    handler.
    """
    previous: Any = None

    def on_term(signum: int, frame: FrameType | None) -> None:
        stop.set()

    in_main = threading.current_thread() is threading.main_thread()
    if in_main:
        previous = signal.signal(signal.SIGTERM, on_term)
    try:
        while not stop.wait(0.5) and running():
            pass
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
        click.echo("stopping: finishing the requests and tasks under way…", err=True)
        for server in servers:
            server.stop()
        for thread in threads:
            thread.join()
        if in_main:
            signal.signal(signal.SIGTERM, previous)
