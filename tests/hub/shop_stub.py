"""Real stand-ins for the far ends of the wire: a shop's HTTP API and a hub process.

:class:`ShopAPI` is a real HTTP server on 127.0.0.1 that answers a status the
test chooses; :class:`StubShopConnector` calls it through the connector
contract (``call_shop`` with the context's session), as a real connector would.
:func:`serve_hub` is what a hub subprocess runs.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, BinaryIO

from bluepaid_plugins import Connector, Money, Order, Ownership, PaymentEvent, SettingField, hookimpl
from bluepaid_plugins.http import call_shop

ORDER_TOTAL = Money.parse("36.60", "EUR")
REPO_ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Call:
    """One request the shop API received, and the status it answered."""

    method: str
    path: str
    body: dict[str, Any]
    status: int


@dataclass
class ShopAPI:
    """A shop's REST API on a real socket: answers ``status`` to every call and logs it."""

    status: int = 503
    calls: list[Call] = field(default_factory=list)

    def __post_init__(self) -> None:
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                status = api.status
                api.calls.append(Call("POST", self.path, json.loads(raw or b"{}"), status))
                body = json.dumps({"message": f"stub shop answered {status}"}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="shop-api", daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def answered(self, status: int) -> list[Call]:
        return [call for call in self.calls if call.status == status]

    def start(self) -> ShopAPI:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)


class StubShopConnector(Connector):
    """A shop reached over HTTP: every order costs :data:`ORDER_TOTAL`; events are POSTed."""

    id = "stub_shop"
    label = "Stub shop"
    version = "1.0"
    contract = ">=1,<2"
    ownership = Ownership.HUB_TOKEN
    settings_schema = (SettingField("url", "Shop API URL", type="url"),)

    def fetch_order(self, ref: str) -> Order:
        return Order(ref=ref, total=ORDER_TOTAL)

    def apply_event(self, event: PaymentEvent) -> None:
        call_shop(
            self.context.http,
            "POST",
            f"{self.settings['url']}/orders/{event.order_ref}/payments",
            label=self.label,
            what=f"order {event.order_ref}",
            json={"status": event.kind.value, "id_trans": event.id_trans, "note": event.note},
        )


class StubShopPlugin:
    """The plugin object given to ``build_hub(extra_plugins=...)``."""

    @hookimpl
    def bluepaid_register_connectors(self, register: Callable[[type[Connector]], None]) -> None:
        register(StubShopConnector)


def serve_hub() -> None:
    """Run in a subprocess: build the hub app from ``BLUEPAID_*`` and serve it on a free port.

    Prints ``listening <port>`` once the app is built (pending confirmations are
    processed by then) and the socket is bound.
    """
    from werkzeug.serving import make_server

    from hub.app import create_app

    app = create_app()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    print(f"listening {server.port}", flush=True)
    server.serve_forever()


@dataclass
class HubProcess:
    """A hub running in a subprocess; its stderr goes to ``log``."""

    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@contextmanager
def hub_process(env: Mapping[str, str], log: Path, timeout: float = 30.0) -> Iterator[HubProcess]:
    """Start :func:`serve_hub` in a subprocess, wait until it listens, stop it on exit."""
    with log.open("ab") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-c", "from tests.hub.shop_stub import serve_hub; serve_hub()"],
            cwd=REPO_ROOT,
            env={**os.environ, **env},
            stdout=subprocess.PIPE,
            stderr=stderr,
        )
    try:
        assert process.stdout is not None
        line = _read_line(process.stdout, timeout)
        if not line.startswith(b"listening "):
            raise AssertionError(
                f"hub process did not start within {timeout} s (exit code {process.poll()}):\n"
                + log.read_text(errors="replace")
            )
        yield HubProcess(process, int(line.split()[1]), log)
    finally:
        if process.poll() is None:
            process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()


def _read_line(stream: BinaryIO, timeout: float) -> bytes:
    """The first line of ``stream``, or what came before ``timeout`` seconds passed."""
    deadline = time.monotonic() + timeout
    data = b""
    while b"\n" not in data:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        ready, _, _ = select.select([stream], [], [], remaining)
        if not ready:
            break
        chunk = os.read(stream.fileno(), 1024)
        if not chunk:
            break
        data += chunk
    return data.split(b"\n", 1)[0]


def wait_until(condition: Callable[[], Any], what: str, timeout: float = 15.0, interval: float = 0.02) -> Any:
    """Poll ``condition`` until it returns something truthy; fail naming ``what`` after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)
