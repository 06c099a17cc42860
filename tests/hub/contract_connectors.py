"""Small real connectors and plugins for the contract v1 tests.

:class:`BookShop` is a shop that keeps its orders in an :class:`OrderBook` the
test holds (the shop's own database, in memory) and proves orders with their
own secret; :func:`book_shop` makes a subclass of it (or of a variant) over one
book, with attributes changed. :class:`WebhookShop` adds signed webhooks,
:class:`SettingsShop` typed settings with a secret and a connection check.
Helpers at the end install them for the ``bluepaid`` command and look at what
it stored.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import json
import logging
import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, ClassVar

import pytest
from flask import Flask
from werkzeug.test import TestResponse

from bluepaid_plugins import (
    Capability,
    Connector,
    Money,
    Order,
    OrderStatus,
    Ownership,
    PaymentEvent,
    PaymentView,
    SettingField,
    ShopChange,
    ShopChangeKind,
    ShopView,
    StatusEvent,
    WebhookReply,
    WebhookRequest,
    hookimpl,
)
from bluepaid_plugins.db import Database
from bluepaid_plugins.errors import OrderNotFound, ShopAuthFailed, ShopUnavailable
from bluepaid_plugins.testing import Confirmations
from hub.app import create_app
from hub.config import HubConfig
from hub.context import Hub, build_hub
from hub.testing.driver import HubDriver, Started
from hub.testing.kit import ConnectorPlugin
from tests.hub.conftest import MakeDriver

#: The order key the shop gives its first order (WooCommerce's ``order_key``).
ORDER_KEY = "wc_order_Xk2p9Qz7"
SIGNATURE_HEADER = "X-Shop-Signature"
WEBHOOK_SECRET = "whsec_3b1f0c9e"


@dataclass
class OrderBook:
    """A test shop's orders by ref, the events the hub tried to apply (``calls``)
    and applied, and the errors its methods are to raise next (method name to
    errors, first first)."""

    orders: dict[str, Order] = field(default_factory=dict)
    calls: list[PaymentEvent] = field(default_factory=list)
    applied: list[PaymentEvent] = field(default_factory=list)
    failures: dict[str, list[BaseException]] = field(default_factory=dict)

    def add(self, ref: str = "A1", total: str = "36.60", currency: str = "EUR", **changes: Any) -> str:
        changes.setdefault("secret", ORDER_KEY)
        self.orders[ref] = Order(ref=ref, total=Money.parse(total, currency), **changes)
        return ref

    def fail(self, method: str, *errors: BaseException) -> None:
        """The next calls of ``method`` raise ``errors``, one each."""
        self.failures.setdefault(method, []).extend(errors)

    def raise_next(self, method: str) -> None:
        waiting = self.failures.get(method)
        if waiting:
            raise waiting.pop(0)


class BookShop(Connector):
    """A shop software with its own order keys, refunds and an order book."""

    id = "book_shop"
    label = "Book shop"
    version = "1.0"
    contract = ">=1,<2"
    ownership = Ownership.SHOP_SECRET
    capabilities = frozenset({Capability.REFUNDS, Capability.PARTIAL_REFUNDS})
    statuses: ClassVar[Mapping[str, str]] = {
        "pending": "Pending payment",
        "processing": "Processing",
        "on-hold": "On hold",
        "failed": "Failed",
        "refunded": "Refunded",
    }
    default_status_mapping: ClassVar[Mapping[StatusEvent, str | None]] = {
        StatusEvent.PAID: "processing",
        StatusEvent.REFUSED: "failed",
        StatusEvent.CANCELLED: "failed",
        StatusEvent.PARTIALLY_REFUNDED: None,
        StatusEvent.REFUNDED: "refunded",
        StatusEvent.DEBIT_PAID: None,
        StatusEvent.DEBIT_REFUSED: None,
    }
    book: ClassVar[OrderBook]

    def fetch_order(self, ref: str) -> Order:
        self.book.raise_next("fetch_order")
        try:
            return self.book.orders[ref]
        except KeyError:
            raise OrderNotFound(f"{self.label} has no order {ref}") from None

    def apply_event(self, event: PaymentEvent) -> None:
        self.book.calls.append(event)
        self.book.raise_next("apply_event")
        self.book.applied.append(event)


def sign_body(secret: str, body: bytes) -> str:
    """The shop's webhook signature: base64 of the HMAC-SHA256 of the raw body."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


class WebhookShop(BookShop):
    """A shop that tells the hub about its orders by signed webhooks.

    A handshake is a form body with ``webhook_id``; a change is a JSON body
    ``{"changes": [{"kind": "cancelled", "order": "A1"}]}``.
    """

    id = "hook_shop"
    label = "Hook shop"
    capabilities = frozenset({Capability.WEBHOOKS})
    settings_schema = (
        SettingField("webhook_secret", "Webhook secret", type="secret", help="Settings > Webhooks > Secret"),
    )

    def handshake(self, request: WebhookRequest) -> WebhookReply | None:
        ping = request.form().get("webhook_id")
        return WebhookReply(200, f"pong {ping}") if ping else None

    def verify_webhook(self, request: WebhookRequest) -> bool:
        expected = sign_body(self.settings["webhook_secret"].reveal(), request.body)
        return hmac.compare_digest(expected.encode(), request.header(SIGNATURE_HEADER).encode())

    def read_webhook(self, request: WebhookRequest) -> Sequence[ShopChange]:
        self.book.raise_next("read_webhook")
        changes = json.loads(request.body)["changes"]
        return [ShopChange(ShopChangeKind(c["kind"]), c["order"]) for c in changes]


class SettingsShop(Connector):
    """A shop reached with an address and an API key; keys starting ``bad_`` are refused."""

    id = "settings_shop"
    label = "Settings shop"
    version = "2.1"
    contract = ">=1,<2"
    settings_schema = (
        SettingField("base_url", "Shop address", type="url", help="The address of the shop's front page"),
        SettingField("api_key", "API key", type="secret", help="Settings > Advanced > REST API"),
        SettingField("store", "Store code", required=False, help="Only for multi-store shops"),
    )
    statuses: ClassVar[Mapping[str, str]] = {"processing": "Processing"}
    # Statuses a shop plugin adds, as WooCommerce's are written.
    custom_statuses = r"wc-[a-z0-9-]+"
    default_status_mapping: ClassVar[Mapping[StatusEvent, str | None]] = {StatusEvent.PAID: "processing"}

    def fetch_order(self, ref: str) -> Order:
        raise OrderNotFound(f"{self.label} has no order {ref}")

    def apply_event(self, event: PaymentEvent) -> None:
        raise OrderNotFound(f"{self.label} has no order {event.order_ref}")

    def check_connection(self) -> str:
        if self.settings["api_key"].reveal().startswith("bad_"):
            raise ShopAuthFailed(f"{self.label} at {self.settings['base_url']} refused the API key")
        if self.settings["api_key"].reveal().startswith("down_"):
            # Worded as the kit's shop client words a 503 with Retry-After.
            raise ShopUnavailable(
                f"{self.label} answered 503 for its status (GET {self.settings['base_url']}/status); "
                "will retry (Retry-After: 120 s)",
                retry_after=120,
                status=503,
            )
        return f"{self.label} at {self.settings['base_url']}: API key accepted"


def book_shop(book: OrderBook, base: type[BookShop] = BookShop, **attributes: Any) -> type[BookShop]:
    """A connector class like ``base`` over ``book``, with ``attributes`` changed."""
    made: type[BookShop] = type(base.__name__, (base,), {"book": book, **attributes})
    return made


def book_driver(
    make_driver: MakeDriver, connector: type[BookShop], *plugins: object, **shop_options: Any
) -> HubDriver:
    """A hub with ``connector`` (and ``plugins``) loaded, and a shop using it."""
    return make_driver(ConnectorPlugin(connector), *plugins, connector=connector.id, **shop_options)


def paid(driver: HubDriver, ref: str, proof: str = ORDER_KEY) -> tuple[Started, Confirmations]:
    """Start a payment of ``ref`` and have the platform accept it."""
    started = driver.start(ref, proof)
    platform = Confirmations(started.fields)
    assert driver.post(platform.accepted()).status_code == 200
    return started, platform


class EventRecorder:
    """A plugin keeping every payment event it is told about."""

    __name__ = "event_recorder"

    def __init__(self) -> None:
        self.events: list[PaymentEvent] = []

    @hookimpl
    def bluepaid_payment_event(self, shop: ShopView, payment: PaymentView, event: PaymentEvent) -> None:
        self.events.append(event)


class OrderWatcher:
    """A plugin keeping the orders the payment hooks are shown."""

    __name__ = "order_watcher"

    def __init__(self) -> None:
        self.seen: list[tuple[str, Order]] = []

    @hookimpl
    def bluepaid_check_order(self, shop: ShopView, order: Order) -> str | None:
        self.seen.append(("bluepaid_check_order", order))
        return None

    @hookimpl
    def bluepaid_payment_request(self, shop: ShopView, order: Order, fields: dict[str, str]) -> None:
        self.seen.append(("bluepaid_payment_request", order))


def page_text(response: TestResponse) -> str:
    """The text of a page as the buyer reads it (HTML entities decoded)."""
    return html.unescape(response.text)


def error_logs(caplog: pytest.LogCaptureFixture) -> list[str]:
    """The messages logged at error level or above."""
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


def status_of(driver: HubDriver, ref: str) -> OrderStatus:
    """The status the hub's own order store holds for payment link ``ref``."""
    with driver.hub.connector(driver.shop) as connector:
        order = connector.context.orders.get(ref)
    assert order is not None, f"no payment link {ref}"
    return order.status


# Installing and inspecting, for tests of the `bluepaid` command


def registering(*classes: type) -> str:
    """The source of a plugin module registering ``classes`` (imported from where they are defined)."""
    imports = "".join(f"from {c.__module__} import {c.__qualname__}\n" for c in classes)
    calls = "".join(f"    register({c.__qualname__})\n" for c in classes)
    return (
        f"from bluepaid_plugins import hookimpl\n{imports}\n\n"
        f"@hookimpl\ndef bluepaid_register_connectors(register):\n{calls}"
    )


@contextmanager
def hub_from_env() -> Iterator[Hub]:
    """The hub the ``bluepaid`` command would build now, from the environment."""
    hub = build_hub(HubConfig.from_env(os.environ))
    try:
        yield hub
    finally:
        hub.db.dispose()


@contextmanager
def app_from_env() -> Iterator[Flask]:
    """The hub's web app as ``bluepaid serve`` would build it now, from the environment."""
    with hub_from_env() as hub:
        yield create_app(hub=hub)


def raw_rows(sql: str) -> list[tuple[Any, ...]]:
    """The rows ``sql`` finds in the command's database, as the database holds them."""
    database = Database(os.environ["BLUEPAID_DATABASE_URL"])
    try:
        with database.engine.connect() as connection:
            return [tuple(row) for row in connection.exec_driver_sql(sql)]
    finally:
        database.dispose()
