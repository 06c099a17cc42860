"""The hub and the sandbox platform as two real HTTP servers on loopback.

:func:`live_stack` serves a hub (with the payment-link connector, or the
connector under test) and the sandbox, each on a free port, with the sandbox
account set up as a merchant would: its confirmation URL registered on the
platform. :func:`pay_with_card` plays a buyer without a browser: it follows
the pay link to the sandbox's card step, pays with a test card and comes back.
"""

from __future__ import annotations

import html
import re
import socket
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
from cryptography.fernet import Fernet
from sqlalchemy import select

from bluepaid_plugins.connector import Connector
from bluepaid_plugins.money import Money
from hub import migrate
from hub.app import create_app
from hub.config import HubConfig
from hub.context import Hub, build_hub
from hub.models import LinkOrder, Payment, Shop
from hub.orders import create_link_order
from hub.outbox import Worker
from hub.serving import start_server
from hub.shops import add_shop
from hub.testing.clock import FrozenClock
from hub.testing.kit import ConnectorPlugin
from hub.urls import confirmation_url
from sandbox.accounts import add_account
from sandbox.app import create_sandbox_app
from sandbox.cards import SandboxCard
from sandbox.config import SandboxConfig
from sandbox.platform import Platform

ID_BOUTIQUE = "DEMO1234"


def free_port() -> int:
    """A TCP port on loopback nobody listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Stack:
    """A hub and a sandbox talking over real HTTP, with helpers to look inside both."""

    hub: Hub
    hub_url: str
    platform: Platform
    sandbox_url: str
    shop: Shop
    sandbox_clock: FrozenClock

    def new_order(self, amount: str = "36.60", language: str = "FR") -> str:
        """A payment-link order (for a stack on the payment_link connector)."""
        order = create_link_order(
            self.hub.db, self.shop, Money.parse(amount, "EUR"), now=self.hub.clock(), language=language
        )
        return order.ref

    def pay_url(self, ref: str, proof: str = "") -> str:
        return self.hub.pay_url(self.shop, ref, proof)

    def payment(self, ref: str) -> Payment:
        with self.hub.db.transaction() as session:
            found = session.scalars(select(Payment).where(Payment.order_ref == ref)).one()
        return found

    def order_status(self, ref: str) -> str:
        with self.hub.db.transaction() as session:
            return session.scalars(select(LinkOrder.status).where(LinkOrder.ref == ref)).one()

    def run_worker(self) -> list[str]:
        return [outcome.state.value for outcome in Worker(self.hub).run_once()]


@contextmanager
def live_stack(
    folder: Path,
    *,
    connector: type[Connector] | None = None,
    settings: Mapping[str, Any] | None = None,
    database_url: str = "",
    allow_private_addresses: bool = False,
) -> Iterator[Stack]:
    """Serve a hub and the sandbox until the block ends; their databases go in ``folder``.

    With ``connector``, the shop uses it (registered as a plugin) with
    ``settings``; otherwise the built-in payment links.
    ``allow_private_addresses`` lets the connector call a shop on loopback (a
    real shop software served by the test, such as a live pretix).
    """
    hub_port, sandbox_port = free_port(), free_port()
    hub_url, sandbox_url = f"http://127.0.0.1:{hub_port}", f"http://127.0.0.1:{sandbox_port}"
    sandbox_clock = FrozenClock()
    with ExitStack() as stack:
        platform = Platform(
            SandboxConfig(database_url=f"sqlite:///{folder / 'sandbox.sqlite3'}", public_url=sandbox_url),
            base_clock=sandbox_clock,
        )
        stack.callback(platform.dispose)
        hub = build_hub(
            HubConfig(
                database_url=database_url or f"sqlite:///{folder / 'hub.sqlite3'}",
                secret_key="s" * 32,
                public_url=hub_url,
                platform_url=sandbox_url,
                settings_keys=(Fernet.generate_key().decode(),),
                # The connector under test is given here: an installed copy of it (its
                # package's entry point) must not clash with it.
                load_plugins=frozenset() if connector else None,
                allow_private_addresses=allow_private_addresses,
            ),
            extra_plugins=(ConnectorPlugin(connector),) if connector else (),
        )
        stack.callback(hub.db.dispose)
        migrate.upgrade(hub.db)
        shop = add_shop(
            hub,
            slug="demo",
            id_boutique=ID_BOUTIQUE,
            allowed_ips=["127.0.0.1"],
            connector=connector.id if connector else "payment_link",
            settings=dict(settings or {}),
        )
        # As a merchant does: the confirmation URL is registered on the platform, not sent.
        add_account(
            platform,
            ID_BOUTIQUE,
            name="Boutique de démo",
            merchant_email="merchant@shop.test",
            url_confirmation=confirmation_url(hub, shop),
        )
        for app, port in (
            (create_app(hub=hub), hub_port),
            (create_sandbox_app(platform=platform), sandbox_port),
        ):
            server, _thread = start_server(app, "127.0.0.1", port)
            stack.callback(server.server_close)
            stack.callback(server.shutdown)
        yield Stack(hub, hub_url, platform, sandbox_url, shop, sandbox_clock)


def pay_with_card(stack: Stack, pay_url: str, card: SandboxCard) -> requests.Response:
    """Follow ``pay_url`` like a browser, pay with ``card`` on the sandbox, come back."""
    with requests.Session() as browser:
        page = browser.get(pay_url, timeout=10)
        assert page.status_code == 200, f"the pay link answered {page.status_code}"
        if page.url.startswith(stack.hub_url):
            # A shop that sends the buyer by POST: submit the hub's form as the browser's script would.
            action = re.search(r'<form[^>]*action="([^"]+)"', page.text)
            assert action, "the hub's page has no form to the platform"
            hidden = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page.text)
            fields = {html.unescape(name): html.unescape(value) for name, value in hidden}
            page = browser.post(html.unescape(action.group(1)), data=fields, timeout=10)
        assert page.url.startswith(f"{stack.sandbox_url}/p/"), page.url
        csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.text)
        assert csrf, "the card form has no CSRF token"
        form = {
            "csrf_token": csrf.group(1),
            "card_type": card.type.value,
            "number": card.number,
            "expiry_month": "12",
            "expiry_year": "2030",
            "cvv2": "123",
            "pay": "1",
        }
        return browser.post(page.url, data=form, timeout=10)
