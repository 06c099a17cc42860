"""A real sandbox on a real SQLite file, a frozen clock, and a real shop on loopback.

:class:`ShopServer` plays the merchant's confirmation URL: a real HTTP server on
127.0.0.1 that records every request it gets, so tests check the confirmation
POSTs as a shop receives them. :class:`Buyer` drives the payment pages through
the Flask test client the way a browser would.
"""

from __future__ import annotations

import html
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from sandbox.accounts import add_account
from sandbox.app import create_sandbox_app
from sandbox.cards import TEST_CARDS, CardType, SandboxCard, Scenario
from sandbox.config import SandboxConfig
from sandbox.models import Account, Transaction
from sandbox.platform import Platform
from tests.conftest import FrozenClock

ID_BOUTIQUE = "21573www"
SHOP_OK = "http://shop.test/ok"
SHOP_STOP = "http://shop.test/stop"
#: A buyer address the sandbox's country map places in Germany.
GERMAN_ADDRESS = "127.0.0.2"


@dataclass(frozen=True)
class Received:
    """One request the shop got."""

    method: str
    path: str
    content_type: str
    pairs: list[tuple[str, str]]

    @property
    def fields(self) -> dict[str, str]:
        return dict(self.pairs)


@dataclass
class ShopServer:
    """A shop's confirmation URL on a real socket; answers ``status`` and records each request."""

    status: int = 200
    answer: bytes = b"OK"
    received: list[Received] = field(default_factory=list)
    #: When set, each answer waits for the event: the test sees the sandbox mid-request.
    gate: threading.Event | None = None

    def __post_init__(self) -> None:
        shop = self

        class Handler(BaseHTTPRequestHandler):
            def _record(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode()
                # Recorded before answering: once the sandbox has the answer, the test sees the POST.
                shop.received.append(
                    Received(
                        self.command,
                        self.path,
                        self.headers.get("Content-Type", ""),
                        parse_qsl(body, keep_blank_values=True),
                    )
                )
                if shop.gate is not None:
                    shop.gate.wait(timeout=10)
                self.send_response(shop.status)
                self.send_header("Content-Length", str(len(shop.answer)))
                self.end_headers()
                self.wfile.write(shop.answer)

            do_POST = _record
            do_GET = _record

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True, name="shop"
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def confirm_url(self) -> str:
        return f"{self.url}/bluepaid/confirm"

    def posts(self) -> list[dict[str, str]]:
        return [request.fields for request in self.received if request.method == "POST"]

    def wait_for(self, count: int, timeout: float = 5.0) -> bool:
        """Wait until ``count`` requests arrived; False on timeout."""
        deadline = time.monotonic() + timeout
        while len(self.received) < count:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.01)
        return True

    def start(self) -> ShopServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


@pytest.fixture
def base_clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture
def sandbox_config(database_url: str) -> SandboxConfig:
    """On SQLite and on PostgreSQL, like the hub's store."""
    return SandboxConfig(
        database_url=database_url,
        public_url="http://sandbox.test",
        secret_key="s" * 32,
        country_map={GERMAN_ADDRESS: "DE"},
        delivery_timeout=5.0,
    )


@pytest.fixture
def platform(sandbox_config: SandboxConfig, base_clock: FrozenClock) -> Iterator[Platform]:
    built = Platform(sandbox_config, base_clock=base_clock)
    yield built
    built.dispose()


@pytest.fixture
def app(platform: Platform) -> Flask:
    """The sandbox app with CSRF off: tests post forms as a browser would, minus the token."""
    built = create_sandbox_app(platform=platform)
    built.config.update(TESTING=True, WTF_CSRF_ENABLED=False)
    return built


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def shop() -> Iterator[ShopServer]:
    server = ShopServer().start()
    yield server
    server.stop()


@pytest.fixture
def account(platform: Platform, shop: ShopServer) -> Account:
    """A test-mode account whose confirmation URL is the shop server."""
    return add_account(
        platform,
        ID_BOUTIQUE,
        name="Boutique Démo",
        url_confirmation=shop.confirm_url,
        url_retour_ok=SHOP_OK,
        url_retour_stop=SHOP_STOP,
        merchant_email="merchant@shop.test",
    )


def card(scenario: Scenario, card_type: CardType | None = None) -> SandboxCard:
    """The first test card with ``scenario`` (and ``card_type``, when given)."""
    return next(
        c for c in TEST_CARDS if c.scenario == scenario and (card_type is None or c.type == card_type)
    )


def payment_fields(**changes: str) -> dict[str, str]:
    """A valid ``in.php`` request; ``changes`` replace values, an empty value drops the variable."""
    fields = {
        "id_boutique": ID_BOUTIQUE,
        "id_client": "52",
        "montant": "2.07",
        "devise": "EUR",
        "langue": "FR",
        "divers": "1aca230749db383749bd1bb1c471dab1",
        "email_client": "blup@yopmail.com",
    }
    fields.update(changes)
    return {name: value for name, value in fields.items() if value}


def page_token(response: TestResponse) -> str:
    """The payment page token from ``in.php``'s redirect."""
    assert response.status_code == 303, response.get_data(as_text=True)
    match = re.fullmatch(r"/p/([A-Za-z0-9_-]+)", urlsplit(response.headers["Location"]).path)
    assert match, response.headers["Location"]
    return match.group(1)


def open_payment(client: FlaskClient, headers: dict[str, str] | None = None, **changes: str) -> str:
    """Open a payment by GET ``/in.php``; the page token."""
    return page_token(client.get("/in.php", query_string=payment_fields(**changes), headers=headers or {}))


def card_form(
    number: str, card_type: CardType | str, *, month: str = "12", year: str = "2030", cvv2: str = "123"
) -> dict[str, str]:
    return {
        "card_type": str(card_type),
        "number": number,
        "expiry_month": month,
        "expiry_year": year,
        "cvv2": cvv2,
    }


def pay(client: FlaskClient, token: str, test_card: SandboxCard, **extra: str) -> TestResponse:
    """Submit the card step with ``test_card`` (its own type) and a valid expiry and CVV2."""
    return client.post(f"/p/{token}", data={**card_form(test_card.number, test_card.type), **extra})


def back_to_shop(page: str) -> str:
    """Where a result page's "Retour boutique" link goes (its ``href``, unescaped)."""
    found = re.findall(r'<a class="button[^"]*" href="([^"]+)">', page)
    assert len(found) == 1, found
    return html.unescape(found[0])


def transaction(platform: Platform, token: str) -> Transaction:
    with platform.db.transaction() as session:
        found = session.scalars(select(Transaction).where(Transaction.page_token == token)).one()
    return found
