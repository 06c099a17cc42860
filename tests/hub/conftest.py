"""A real hub on a real database, and a stand-in for the platform's side of the wire."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from bluepaid_plugins.money import Money
from hub import migrate
from hub.app import create_app
from hub.config import HubConfig
from hub.context import Hub, build_hub
from hub.models import InboxMessage, OutboxTask, Payment, Shop
from hub.orders import create_link_order
from hub.shops import add_shop
from hub.urls import confirmation_url
from tests.conftest import FrozenClock

PLATFORM = "http://platform.test"
PUBLIC = "http://hub.test"
SANDBOX_IP = "127.0.0.1"


@pytest.fixture
def hub(database_url: str, clock: FrozenClock) -> Iterator[Hub]:
    config = HubConfig(
        database_url=database_url, secret_key="k" * 32, public_url=PUBLIC, platform_url=PLATFORM
    )
    built = build_hub(config, clock=clock)
    migrate.upgrade(built.db)
    yield built
    built.db.dispose()


@pytest.fixture
def app(hub: Hub) -> Flask:
    return create_app(hub=hub)


@pytest.fixture
def shop(hub: Hub) -> Shop:
    return add_shop(hub, slug="demo", id_boutique="21573www", test_mode=True, allowed_ips=[SANDBOX_IP])


@dataclass
class Started:
    """A payment started through ``GET /pay``: what the platform received."""

    payment_id: str
    fields: dict[str, str]


@dataclass
class HubDriver:
    """Drives the hub through HTTP like a buyer and the platform would."""

    hub: Hub
    client: FlaskClient
    shop: Shop
    sent: list[TestResponse] = field(default_factory=list)

    def new_order(self, amount: str = "36.60", currency: str = "EUR", ref: str = "") -> str:
        order = create_link_order(
            self.hub.db, self.shop, Money.parse(amount, currency), now=self.hub.clock(), ref=ref
        )
        return order.ref

    def pay_path(self, order_ref: str) -> str:
        """The pay link of ``order_ref`` (with its hub-signed proof), without the host."""
        url = urlsplit(self.hub.pay_url(self.shop, order_ref))
        return f"{url.path}?{url.query}"

    def start(self, order_ref: str) -> Started:
        response = self.client.get(self.pay_path(order_ref))
        assert response.status_code == 302, response.text
        location = response.headers["Location"]
        assert location.startswith(f"{PLATFORM}/in.php?")
        fields = dict(parse_qsl(urlsplit(location).query, keep_blank_values=True))
        payment_id = fields["url_retour_ok"].rstrip("/").split("/")[-2]
        return Started(payment_id, fields)

    def confirmation(self, started: Started, **overrides: str) -> dict[str, str]:
        """The fields the platform would POST for ``started``: accepted, test card."""
        fields = {
            "etat": "ok",
            "mode": "test",
            "id_trans": "T1000",
            "id_client": started.fields["id_client"],
            "id_boutique": started.fields["id_boutique"],
            "divers": started.fields["divers"],
            "langue": started.fields.get("langue", "FR"),
            "montant": started.fields["montant"],
            "devise": started.fields["devise"],
        }
        fields.update(overrides)
        return fields

    def post(
        self, data: dict[str, str] | str, *, method: str = "POST", remote: str = SANDBOX_IP, url: str = ""
    ) -> TestResponse:
        response = self.client.open(
            url or urlsplit(confirmation_url(self.hub, self.shop)).path,
            method=method,
            data=data,
            content_type="application/x-www-form-urlencoded",
            environ_base={"REMOTE_ADDR": remote},
        )
        self.sent.append(response)
        return response

    def payment(self, payment_id: str) -> Payment:
        with self.hub.db.transaction() as session:
            found = session.scalar(select(Payment).where(Payment.public_id == payment_id))
        assert found is not None
        return found

    def last_inbox(self) -> InboxMessage:
        with self.hub.db.transaction() as session:
            row = session.scalars(select(InboxMessage).order_by(InboxMessage.id.desc()).limit(1)).first()
        assert row is not None
        return row

    def tasks(self, kind: str | None = None) -> int:
        query = select(func.count()).select_from(OutboxTask)
        if kind:
            query = query.where(OutboxTask.kind == kind)
        with self.hub.db.transaction() as session:
            return int(session.scalar(query) or 0)

    def run_worker(self) -> list[Any]:
        from hub.outbox import Worker

        return Worker(self.hub).run_once()


@pytest.fixture
def driver(hub: Hub, app: Flask, shop: Shop) -> HubDriver:
    return HubDriver(hub, app.test_client(), shop)


MakeDriver = Callable[..., HubDriver]


@pytest.fixture
def make_driver(database_url: str, clock: FrozenClock) -> Iterator[MakeDriver]:
    """Build a hub with extra plugin objects and one shop.

    ``config`` (a dict) overrides HubConfig fields; other keywords override the
    shop's options.
    """
    hubs: list[Hub] = []

    def make(*plugins: object, config: dict[str, Any] | None = None, **shop_options: Any) -> HubDriver:
        settings: dict[str, Any] = {
            "database_url": database_url,
            "secret_key": "k" * 32,
            "public_url": PUBLIC,
            "platform_url": PLATFORM,
            **(config or {}),
        }
        hub = build_hub(HubConfig(**settings), extra_plugins=plugins, clock=clock)
        hubs.append(hub)
        migrate.upgrade(hub.db)
        options: dict[str, Any] = {
            "slug": "demo",
            "id_boutique": "21573www",
            "test_mode": True,
            "allowed_ips": [SANDBOX_IP],
        }
        options.update(shop_options)
        shop = add_shop(hub, **options)
        return HubDriver(hub, create_app(hub=hub).test_client(), shop)

    yield make
    for hub in hubs:
        hub.db.dispose()
