"""The hub and the sandbox platform as two real HTTP servers on loopback."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select

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
from hub.urls import confirmation_url
from sandbox.accounts import add_account
from sandbox.app import create_sandbox_app
from sandbox.config import SandboxConfig
from sandbox.platform import Platform
from tests.conftest import FrozenClock

ID_BOUTIQUE = "DEMO1234"


def free_port() -> int:
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
        order = create_link_order(
            self.hub.db, self.shop, Money.parse(amount, "EUR"), now=self.hub.clock(), language=language
        )
        return order.ref

    def pay_url(self, ref: str) -> str:
        return self.hub.pay_url(self.shop, ref)

    def payment(self, ref: str) -> Payment:
        with self.hub.db.transaction() as session:
            found = session.scalars(select(Payment).where(Payment.order_ref == ref)).one()
        return found

    def order_status(self, ref: str) -> str:
        with self.hub.db.transaction() as session:
            return session.scalars(select(LinkOrder.status).where(LinkOrder.ref == ref)).one()

    def run_worker(self) -> list[str]:
        return [outcome.state.value for outcome in Worker(self.hub).run_once()]


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    hub_port, sandbox_port = free_port(), free_port()
    hub_url, sandbox_url = f"http://127.0.0.1:{hub_port}", f"http://127.0.0.1:{sandbox_port}"
    sandbox_clock = FrozenClock()
    platform = Platform(
        SandboxConfig(
            database_url=f"sqlite:///{tmp_path / 'sandbox.sqlite3'}",
            public_url=sandbox_url,
            background_delivery=False,
        ),
        base_clock=sandbox_clock,
    )
    hub = build_hub(
        HubConfig(
            database_url=f"sqlite:///{tmp_path / 'hub.sqlite3'}",
            secret_key="s" * 32,
            public_url=hub_url,
            platform_url=sandbox_url,
        )
    )
    migrate.upgrade(hub.db)
    shop = add_shop(hub, slug="demo", id_boutique=ID_BOUTIQUE, allowed_ips=["127.0.0.1"])
    # As a merchant does: the confirmation URL is registered on the platform, not sent.
    add_account(
        platform,
        ID_BOUTIQUE,
        name="Boutique de démo",
        merchant_email="merchant@shop.test",
        url_confirmation=confirmation_url(hub, shop),
    )
    servers = [
        start_server(create_app(hub=hub), "127.0.0.1", hub_port)[0],
        start_server(create_sandbox_app(platform=platform), "127.0.0.1", sandbox_port)[0],
    ]
    yield Stack(hub, hub_url, platform, sandbox_url, shop, sandbox_clock)
    for server in servers:
        server.shutdown()
        server.server_close()
    hub.db.dispose()
    platform.dispose()
