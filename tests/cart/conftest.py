"""A real hub (the installed plugins, the cart among them), a cart shop with a small
catalog, and a browser-less buyer going through its pages."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from cart.catalog import import_catalog, parse_catalog
from cart.models import Hold, Product
from hub import migrate
from hub.app import create_app
from hub.config import HubConfig
from hub.context import Hub, build_hub
from hub.models import LinkOrder
from hub.shops import add_shop
from hub.testing.driver import PLATFORM_IP
from tests.conftest import FrozenClock

PUBLIC = "http://hub.test"
PLATFORM = "http://platform.test"
SETTINGS_KEY = "bGVzdC1rZXktb2YtdGhlLWh1Yi1mb3ItdGVzdHMtMzI="

CATALOG = """sku,name,description,price,vat_rate,image,stock,active
TEE,T-shirt <bio>,Coton bio,19.90,20,,5,yes
BOOK,Livre,Un roman,12.00,5.5,,,yes
MUG,Mug,,8.50,20,https://img.example/mug.png,1,
OLD,Ancien,,3.00,20,,,no
"""

#: A buyer who fills in every checkout field well.
GOOD = {
    "email": "ada@example.com",
    "last_name": "Lovelace",
    "first_name": "Ada",
    "phone": "+33 1 23 45 67 89",
    "address": "12 rue des Lilas",
    "postcode": "75011",
    "city": "Paris",
    "country": "FR",
}


@dataclass
class Buyer:
    """The cart's pages seen through the hub's test client."""

    hub: Hub
    client: FlaskClient
    slug: str = "shop"
    language: str = "en"

    def get(self, path: str = "") -> TestResponse:
        return self.client.get(f"/cart/{self.slug}{path}", headers={"Accept-Language": self.language})

    def token(self, path: str = "") -> str:
        found = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', self.get(path).text)
        assert found, "the page has no CSRF token"
        return found.group(1)

    def post(self, path: str, csrf: bool = True, **fields: str) -> TestResponse:
        data = dict(fields)
        if csrf:
            data["csrf_token"] = self.token()
        return self.client.post(
            f"/cart/{self.slug}{path}", data=data, headers={"Accept-Language": self.language}
        )

    def product_id(self, sku: str) -> int:
        with self.hub.db.transaction() as session:
            return session.scalars(select(Product.id).where(Product.sku == sku)).one()

    def add(self, sku: str, quantity: int = 1) -> TestResponse:
        return self.post(f"/basket/add/{self.product_id(sku)}", quantity=str(quantity))

    def checkout(self, **fields: str) -> TestResponse:
        data = {**GOOD, **fields, "csrf_token": self.token("/checkout")}
        return self.client.post(
            f"/cart/{self.slug}/checkout", data=data, headers={"Accept-Language": self.language}
        )

    def orders(self) -> list[LinkOrder]:
        with self.hub.db.transaction() as session:
            return list(session.scalars(select(LinkOrder).order_by(LinkOrder.id)))

    def stock(self, sku: str) -> int | None:
        with self.hub.db.transaction() as session:
            return session.scalars(select(Product.stock).where(Product.sku == sku)).one()

    def holds(self) -> list[tuple[str, int, str]]:
        with self.hub.db.transaction() as session:
            rows = session.execute(
                select(Product.sku, Hold.quantity, Hold.state).join(Product).order_by(Hold.id)
            ).all()
        return [(sku, quantity, state) for sku, quantity, state in rows]


def errors(page: str) -> list[str]:
    return [unescape(text) for text in re.findall(r'class="field-error" id="[^"]+">([^<]*)<', page)]


MakeBuyer = Callable[..., Buyer]


@pytest.fixture
def make_buyer(tmp_path: Path) -> Iterator[MakeBuyer]:
    """A hub with a cart shop ``shop`` of the given settings and :data:`CATALOG`."""
    hubs: list[Hub] = []

    def make(database_url: str = "", catalog: str = CATALOG, smtp_port: int = 0, **settings: Any) -> Buyer:
        config = HubConfig(
            database_url=database_url or f"sqlite:///{tmp_path / f'hub{len(hubs)}.sqlite3'}",
            secret_key="k" * 32,
            public_url=PUBLIC,
            platform_url=PLATFORM,
            settings_keys=(SETTINGS_KEY,),
            smtp_host="127.0.0.1" if smtp_port else "",
            smtp_port=smtp_port or 25,
            mail_from="boutique@hub.test",
        )
        hub = build_hub(config, clock=FrozenClock())
        hubs.append(hub)
        migrate.upgrade(hub.db)
        add_shop(
            hub,
            slug="shop",
            id_boutique="21573www",
            name="Atelier <Lilas>",
            connector="cart",
            settings=settings,
            allowed_ips=[PLATFORM_IP],
        )
        import_catalog(hub.db, "shop", parse_catalog(catalog.splitlines(keepends=True), "EUR"))
        return Buyer(hub, create_app(hub=hub).test_client())

    yield make
    for hub in hubs:
        hub.db.dispose()


@pytest.fixture
def buyer(make_buyer: MakeBuyer) -> Buyer:
    """A cart shop with a 4.90 EUR shipping fee, serving France and Belgium."""
    return make_buyer(shipping_fee="4.90", countries="FR BE")
