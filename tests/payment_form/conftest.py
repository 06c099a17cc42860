"""A real hub (the installed plugins, the payment form among them) and a browser-less
buyer filling in the form's page."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from html import unescape
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from hub import migrate
from hub.app import create_app
from hub.config import HubConfig
from hub.context import Hub, build_hub
from hub.models import LinkOrder
from hub.shops import add_shop
from tests.conftest import FrozenClock

PUBLIC = "http://hub.test"
PLATFORM = "http://platform.test"
SETTINGS_KEY = "bGVzdC1rZXktb2YtdGhlLWh1Yi1mb3ItdGVzdHMtMzI="

#: A buyer who fills in every field well (the buyer-details ones are ignored when off).
GOOD = {
    "amount": "12.50",
    "reference": "Invoice 2026-118",
    "email": "ada@example.com",
    "last_name": "Lovelace",
    "first_name": "Ada",
    "phone": "+33 1 23 45 67 89",
    "fax": "",
    "address": "12 rue des Lilas",
    "postcode": "75011",
    "city": "Paris",
    "country": "FR",
}


class Inputs(HTMLParser):
    """Every input, select and textarea of a page, with its attributes; ids of every element."""

    def __init__(self) -> None:
        super().__init__()
        self.inputs: list[dict[str, str]] = []
        self.ids: set[str] = set()
        self.labels_for: set[str] = set()
        self.scripts = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if "id" in values:
            self.ids.add(values["id"])
        if tag in ("input", "select", "textarea"):
            self.inputs.append({"tag": tag, **values})
        if tag == "label" and "for" in values:
            self.labels_for.add(values["for"])
        if tag == "script":
            self.scripts += 1


def parse(page: str) -> Inputs:
    found = Inputs()
    found.feed(page)
    return found


@dataclass
class Buyer:
    """The form's page seen through the hub's test client."""

    hub: Hub
    client: FlaskClient
    slug: str

    def open(self, query: str = "", language: str = "en") -> TestResponse:
        return self.client.get(f"/form/{self.slug}{query}", headers={"Accept-Language": language})

    def token(self) -> str:
        found = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', self.open().text)
        assert found, "the form has no CSRF token"
        return found.group(1)

    def hidden(self) -> dict[str, str]:
        """The hidden fields of a freshly opened form: its CSRF token and one-time key."""
        page = self.open().text
        found = dict(re.findall(r'name="(csrf_token|once)" (?:type="hidden" )?value="([^"]+)"', page))
        assert set(found) == {"csrf_token", "once"}, "the form lacks its CSRF token or one-time key"
        return found

    def submit(self, query: str = "", language: str = "en", csrf: bool = True, **fields: str) -> TestResponse:
        hidden = self.hidden()
        data = {"once": hidden["once"], **GOOD, **fields}
        if csrf:
            data["csrf_token"] = hidden["csrf_token"]
        return self.client.post(f"/form/{self.slug}{query}", data=data, headers={"Accept-Language": language})

    def orders(self) -> list[LinkOrder]:
        with self.hub.db.transaction() as session:
            return list(session.scalars(select(LinkOrder).order_by(LinkOrder.id)))


def errors(page: str) -> list[str]:
    return [unescape(text) for text in re.findall(r'class="field-error" id="[^"]+">([^<]*)<', page)]


MakeBuyer = Callable[..., Buyer]


@pytest.fixture
def make_buyer(tmp_path: Path) -> Iterator[MakeBuyer]:
    """A hub on SQLite with a payment-form shop ``form`` of the given settings."""
    hubs: list[Hub] = []

    def make(database_url: str = "", **settings: Any) -> Buyer:
        config = HubConfig(
            database_url=database_url or f"sqlite:///{tmp_path / f'hub{len(hubs)}.sqlite3'}",
            secret_key="k" * 32,
            public_url=PUBLIC,
            platform_url=PLATFORM,
            settings_keys=(SETTINGS_KEY,),
        )
        hub = build_hub(config, clock=FrozenClock())
        hubs.append(hub)
        migrate.upgrade(hub.db)
        add_shop(
            hub,
            slug="form",
            id_boutique="21573www",
            name="Atelier <Lilas>",
            connector="payment_form",
            settings=settings,
        )
        return Buyer(hub, create_app(hub=hub).test_client(), "form")

    yield make
    for hub in hubs:
        hub.db.dispose()


@pytest.fixture
def buyer(make_buyer: MakeBuyer) -> Buyer:
    """A shop with a typed amount between 5 and 2000 EUR, no buyer details."""
    return make_buyer(min_amount="5", max_amount="2000")
