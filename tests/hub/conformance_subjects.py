"""Connectors for testing the conformance suite itself: one that does everything right,
and variants that each get one thing wrong. Each variant must fail exactly the
behaviours its flaw breaks, so the suite is shown to catch it.

This module is copied into a temporary folder and run by pytest there (see
``test_conformance_suite.py``); it is not collected as part of our own suite.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any, ClassVar

import requests

from bluepaid_plugins import Capability, Connector, Ownership, StatusEvent
from bluepaid_plugins.domain import Customer, LineItem, Order, OrderStatus, PaymentEvent
from bluepaid_plugins.errors import ShopUnavailable
from bluepaid_plugins.http import call_shop
from bluepaid_plugins.money import Money
from bluepaid_plugins.settings import SettingField
from hub.testing.conformance import ConnectorConformance, GivenOrder
from hub.testing.kit import Kit
from hub.testing.shop_double import Call, Reply, ShopDouble

BASE = "https://shop.example"
_TO_SHOP = {OrderStatus.OPEN: "pending", OrderStatus.PAID: "paid", OrderStatus.FAILED: "failed"}
_FROM_SHOP = {"pending": OrderStatus.OPEN, "paid": OrderStatus.PAID, "failed": OrderStatus.FAILED}


class RightShop(Connector):
    """A small shop API done right: ``GET /orders/{ref}``, ``PUT /orders/{ref}`` with a status
    and a note, read before write."""

    id = "right_shop"
    label = "Right shop"
    version = "1.0"
    contract = ">=1,<2"
    ownership = Ownership.SHOP_SECRET
    capabilities = frozenset({Capability.REFUNDS, Capability.PARTIAL_REFUNDS})
    settings_schema = (
        SettingField("base_url", "Shop URL", type="url"),
        SettingField("api_key", "API key", type="secret"),
    )
    statuses: ClassVar[Mapping[str, str]] = {
        s: s for s in ("pending", "paid", "failed", "cancelled", "refunded", "partially_refunded", "expired")
    }
    default_status_mapping: ClassVar[Mapping[StatusEvent, str | None]] = {
        StatusEvent.PAID: "paid",
        StatusEvent.REFUSED: "failed",
        StatusEvent.CANCELLED: "failed",
        StatusEvent.PARTIALLY_REFUNDED: "partially_refunded",
        StatusEvent.REFUNDED: "refunded",
    }

    def get(self, path: str, what: str) -> Any:
        return call_shop(
            self.context.http,
            "GET",
            f"{self.settings['base_url']}{path}",
            label=self.label,
            what=what,
            headers={"X-Key": self.settings["api_key"].reveal()},
        ).json()

    def put(self, path: str, what: str, body: dict[str, Any]) -> None:
        call_shop(
            self.context.http,
            "PUT",
            f"{self.settings['base_url']}{path}",
            label=self.label,
            what=what,
            headers={"X-Key": self.settings["api_key"].reveal()},
            json=body,
        )

    def total(self, data: dict[str, Any]) -> Money:
        return Money(Decimal(data["total"]), data["currency"])

    def fetch_order(self, ref: str) -> Order:
        data = self.get(f"/orders/{ref}", f"order {ref}")
        status = _FROM_SHOP.get(data["status"]) or OrderStatus(data["status"])
        return Order(
            ref=ref,
            total=self.total(data),
            status=status,
            customer=Customer(data["email"], data["first_name"], data["last_name"], data["country"]),
            items=tuple(LineItem(i["name"], i["qty"], Decimal(i["price"])) for i in data["lines"]),
            secret=data["key"],
        )

    def apply_event(self, event: PaymentEvent) -> None:
        data = self.get(f"/orders/{event.order_ref}", f"order {event.order_ref}")
        target = self.status_for(event) or data["status"]
        if data["status"] == target and event.note in data["notes"]:
            return
        self.put(
            f"/orders/{event.order_ref}", f"order {event.order_ref}", {"status": target, "note": event.note}
        )

    def check_connection(self) -> str:
        self.get("/status", "the API status")
        return f"{self.label} at {self.settings['base_url']}: API key accepted"


class WritesTwice(RightShop):
    """Flaw: writes every event again (no read before write)."""

    id = "writes_twice"

    def apply_event(self, event: PaymentEvent) -> None:
        target = self.status_for(event) or "pending"
        self.put(
            f"/orders/{event.order_ref}", f"order {event.order_ref}", {"status": target, "note": event.note}
        )


class PlainRequests(RightShop):
    """Flaw: calls the shop with a bare requests session (no timeout, redirects followed)."""

    id = "plain_requests"

    def get(self, path: str, what: str) -> Any:
        response = requests.get(
            f"{self.settings['base_url']}{path}", headers={"X-Key": self.settings["api_key"].reveal()}
        )
        if response.status_code >= 400:
            raise ShopUnavailable(f"{self.label} answered {response.status_code}")
        return response.json()


class EverythingRetried(RightShop):
    """Flaw: every error from the shop is called temporary."""

    id = "everything_retried"

    def get(self, path: str, what: str) -> Any:
        try:
            return super().get(path, what)
        except Exception as exc:
            raise ShopUnavailable(f"{self.label}: {exc}") from None


class LeaksItsKey(RightShop):
    """Flaw: puts the API key in its error message."""

    id = "leaks_its_key"

    def get(self, path: str, what: str) -> Any:
        try:
            return super().get(path, what)
        except ShopUnavailable as exc:
            leaked = f"{exc} (key {self.settings['api_key'].reveal()})"
            raise ShopUnavailable(leaked, retry_after=exc.retry_after) from None


class FloatMoney(RightShop):
    """Flaw: reads amounts through a float."""

    id = "float_money"

    def total(self, data: dict[str, Any]) -> Money:
        return Money(Decimal(float(data["total"])).quantize(Decimal("0.01")), data["currency"])


class RightShopHarness(ConnectorConformance):
    """The harness of the shop above: orders in the double's memory."""

    settings: ClassVar[Mapping[str, Any]] = {"base_url": BASE, "api_key": "k3y-n0t-t0-b3-s33n"}
    shop_url = BASE
    states_given = (OrderStatus.OPEN, OrderStatus.FAILED, OrderStatus.PAID, OrderStatus.CANCELLED)

    def shop_api(self, api: ShopDouble) -> None:
        def read(call: Call, match: Any) -> Reply:
            order = api.orders.get(match["ref"])
            return Reply(200, json=order) if order else Reply(404, json={"message": "no such order"})

        def write(call: Call, match: Any) -> Reply:
            order = api.orders[match["ref"]]
            body = call.json()
            order["status"] = body["status"]
            order["notes"].append(body["note"])
            return Reply(200, json=order)

        api.route("GET", "/status", lambda call, match: Reply(200, json={"ok": True}))
        api.route("GET", r"/orders/(?P<ref>[^/]+)", read)
        api.route("PUT", r"/orders/(?P<ref>[^/]+)", write)

    def given_order(self, kit: Kit, order: GivenOrder) -> str:
        assert kit.api is not None
        c = order.customer
        kit.api.orders[order.ref] = {
            "total": str(order.total),
            "currency": order.total.currency,
            "status": _TO_SHOP.get(order.status, order.status.value),
            "email": c.email,
            "first_name": c.first_name,
            "last_name": c.last_name,
            "country": c.country,
            "lines": [{"name": i.name, "qty": i.quantity, "price": str(i.unit_price)} for i in order.items],
            "key": f"key-{order.ref}",
            "notes": [],
        }
        return f"key-{order.ref}"

    def shop_status(self, kit: Kit, ref: str) -> str:
        assert kit.api is not None
        return str(kit.api.orders[ref]["status"])

    def shop_notes(self, kit: Kit, ref: str) -> list[str]:
        assert kit.api is not None
        return list(kit.api.orders[ref]["notes"])
