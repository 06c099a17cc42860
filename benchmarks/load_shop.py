"""The fake shop of the load runs (``benchmarks/load.py``) and the connector that calls it.

:class:`FakeShop` is an HTTP server on 127.0.0.1 that keeps, per order, whether it
is paid and how many "paid" calls it received; it can answer those calls late
(``delay``), as a slow shop does. :class:`LoadShopConnector` is a partner
connector written the way the contract asks (``apply_event`` idempotent: it reads
the order and writes only what is missing), so that "exactly one paid call per
order" at the shop is what a correct hub gives, even when an outbox worker dies
between the call and its record. The hub loads it as the entry point
``load_shop`` of a dist-info the benchmark writes (see ``load.py``); this module
imports only the contract and the standard library, as a partner's would.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from bluepaid_plugins import (
    Connector,
    EventKind,
    Money,
    Order,
    Ownership,
    PaymentEvent,
    SettingField,
    hookimpl,
)
from bluepaid_plugins.http import call_shop

ORDER_TOTAL = Money.parse("36.60", "EUR")
#: Long enough for the slow shop's 30 s answers: the call must succeed, not time out.
CALL_TIMEOUT = (5.0, 120.0)


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # An outbox worker SIGKILLed by the chaos run resets its connection: expected, not news.
        pass


class FakeShop:
    """A shop API on a free port of 127.0.0.1.

    ``GET /orders/<ref>`` answers ``{"paid": bool}``; ``POST /orders/<ref>/paid``
    marks the order paid, counts the call in :attr:`paid_calls` and answers after
    :attr:`delay` seconds. Thread-safe; the counts are read with :meth:`counts`.
    """

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self._lock = threading.Lock()
        self._paid_calls: Counter[str] = Counter()
        shop = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                ref = self.path.removeprefix("/orders/")
                with shop._lock:
                    paid = shop._paid_calls[ref] > 0
                self._answer(200, {"paid": paid})

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if not self.path.endswith("/paid"):
                    self._answer(404, {"message": "no such endpoint"})
                    return
                ref = self.path.removeprefix("/orders/").removesuffix("/paid")
                with shop._lock:
                    shop._paid_calls[ref] += 1
                time.sleep(shop.delay)
                self._answer(200, {"paid": True})

            def _answer(self, status: int, body: dict[str, Any]) -> None:
                raw = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = _QuietServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-shop", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def counts(self) -> Counter[str]:
        """Paid calls received, by order ref."""
        with self._lock:
            return Counter(self._paid_calls)

    def __enter__(self) -> FakeShop:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)


class LoadShopConnector(Connector):
    """The fake shop's connector: every order costs :data:`ORDER_TOTAL`; "paid" is
    written once (read first, write only if the shop does not have it)."""

    id = "load_shop"
    label = "Load-test shop"
    version = "1.0"
    contract = ">=1,<2"
    ownership = Ownership.HUB_TOKEN
    settings_schema = (SettingField("url", "Shop API URL", type="url"),)

    def fetch_order(self, ref: str) -> Order:
        return Order(ref=ref, total=ORDER_TOTAL)

    def apply_event(self, event: PaymentEvent) -> None:
        if event.kind is not EventKind.PAID:
            return
        order = f"{self.settings['url']}/orders/{event.order_ref}"
        what = f"order {event.order_ref}"
        found = call_shop(self.context.http, "GET", order, label=self.label, what=what, timeout=CALL_TIMEOUT)
        if found.json().get("paid"):
            return
        call_shop(
            self.context.http,
            "POST",
            f"{order}/paid",
            label=self.label,
            what=what,
            json={"id_trans": event.id_trans},
            timeout=CALL_TIMEOUT,
        ).close()


@hookimpl
def bluepaid_register_connectors(register: Callable[[type[Connector]], None]) -> None:
    register(LoadShopConnector)
