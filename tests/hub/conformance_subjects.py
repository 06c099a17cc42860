"""Connectors for testing the conformance suite itself: one that does everything right,
and variants that each get one thing wrong. Each variant must fail exactly the
behaviours its flaw breaks, so the suite is shown to catch it.

This module is copied into a temporary folder and run by pytest there (see
``test_conformance_suite.py``); it is not collected as part of our own suite.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any, ClassVar

import requests

from bluepaid_plugins import Capability, Connector, Ownership, StatusEvent
from bluepaid_plugins.domain import Customer, EventKind, LineItem, Order, OrderStatus, PaymentEvent, Schedule
from bluepaid_plugins.errors import ShopUnavailable
from bluepaid_plugins.http import call_shop
from bluepaid_plugins.money import Money
from bluepaid_plugins.settings import SettingField
from bluepaid_plugins.webhooks import ShopChange, ShopChangeKind, WebhookReply, WebhookRequest
from hub.testing.conformance import ConnectorConformance, GivenOrder
from hub.testing.kit import Kit
from hub.testing.shop_double import Call, Reply, ShopDouble

BASE = "https://shop.example"
_TO_SHOP = {OrderStatus.OPEN: "pending", OrderStatus.PAID: "paid", OrderStatus.FAILED: "failed"}
_FROM_SHOP = {"pending": OrderStatus.OPEN, "paid": OrderStatus.PAID, "failed": OrderStatus.FAILED}
_TOPICS = {"order.cancelled": ShopChangeKind.CANCELLED, "order.deleted": ShopChangeKind.DELETED}


class RightShop(Connector):
    """A small shop API done right: ``GET /orders/{ref}``, ``PUT /orders/{ref}`` with a status
    and a note, read before write, the event's id as idempotency key; subscriptions; webhooks
    signed with HMAC-SHA256 in ``X-Shop-Signature``, and a ``ping`` handshake."""

    id = "right_shop"
    label = "Right shop"
    version = "1.0"
    contract = ">=1,<2"
    ownership = Ownership.SHOP_SECRET
    capabilities = frozenset(
        {
            Capability.REFUNDS,
            Capability.PARTIAL_REFUNDS,
            Capability.SUBSCRIPTIONS,
            Capability.WEBHOOKS,
            Capability.IDEMPOTENCY_KEYS,
        }
    )
    settings_schema = (
        SettingField("base_url", "Shop URL", type="url"),
        SettingField("api_key", "API key", type="secret"),
        SettingField("webhook_secret", "Webhook secret", type="secret"),
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
        StatusEvent.DEBIT_PAID: None,
        StatusEvent.DEBIT_REFUSED: None,
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

    def put(self, path: str, what: str, body: dict[str, Any], key: str = "") -> None:
        headers = {"X-Key": self.settings["api_key"].reveal()}
        if key:
            headers["Idempotency-Key"] = key
        call_shop(
            self.context.http,
            "PUT",
            f"{self.settings['base_url']}{path}",
            label=self.label,
            what=what,
            headers=headers,
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
            schedule=Schedule(occurrences=data["debits"]) if data.get("debits") else None,
            secret=data["key"],
        )

    def apply_event(self, event: PaymentEvent) -> None:
        data = self.get(f"/orders/{event.order_ref}", f"order {event.order_ref}")
        target = self.status_for(event) or data["status"]
        if data["status"] == target and event.note in data["notes"]:
            return
        self.write(event, target)

    def write(self, event: PaymentEvent, target: str) -> None:
        body = {"status": target, "note": event.note}
        self.put(f"/orders/{event.order_ref}", f"order {event.order_ref}", body, key=event.id)

    def check_connection(self) -> str:
        self.get("/status", "the API status")
        return f"{self.label} at {self.settings['base_url']}: API key accepted"

    def handshake(self, request: WebhookRequest) -> WebhookReply | None:
        return WebhookReply(200, "pong") if request.header("x-shop-topic") == "ping" else None

    def verify_webhook(self, request: WebhookRequest) -> bool:
        return hmac.compare_digest(request.header("x-shop-signature"), sign(self.settings, request.body))

    def read_webhook(self, request: WebhookRequest) -> Sequence[ShopChange]:
        data = json.loads(request.body)
        kind = _TOPICS.get(data["topic"])
        return [ShopChange(kind, data["order"])] if kind else []


def sign(settings: Mapping[str, Any], body: bytes) -> str:
    """The shop's signature of a webhook body: HMAC-SHA256 under the webhook secret, in hex."""
    secret = settings["webhook_secret"]
    key = secret.reveal() if hasattr(secret, "reveal") else str(secret)
    return hmac.new(key.encode(), body, hashlib.sha256).hexdigest()


class WritesTwice(RightShop):
    """Flaw: writes every event again (no read before write)."""

    id = "writes_twice"

    def apply_event(self, event: PaymentEvent) -> None:
        self.write(event, self.status_for(event) or "")


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


class SwapsNames(RightShop):
    """Flaw: reads the buyer's first name as the last name and the other way round."""

    id = "swaps_names"

    def fetch_order(self, ref: str) -> Order:
        order = super().fetch_order(ref)
        c = order.customer
        return dataclasses.replace(order, customer=Customer(c.email, c.last_name, c.first_name, c.country))


class EveryOrderOpen(RightShop):
    """Flaw: reads every order as open, whatever the shop's status (a cancelled order is paid)."""

    id = "every_order_open"

    def fetch_order(self, ref: str) -> Order:
        return dataclasses.replace(super().fetch_order(ref), status=OrderStatus.OPEN)


class MarksEverythingPaid(RightShop):
    """Flaw: ignores the status mapping and marks the order paid on every event."""

    id = "marks_everything_paid"

    def apply_event(self, event: PaymentEvent) -> None:
        data = self.get(f"/orders/{event.order_ref}", f"order {event.order_ref}")
        if event.note not in data["notes"]:
            self.write(event, "paid")


class IgnoresRefunds(RightShop):
    """Flaw: declares refunds, and does nothing with them."""

    id = "ignores_refunds"

    def apply_event(self, event: PaymentEvent) -> None:
        if event.kind not in (EventKind.REFUNDED, EventKind.PARTIALLY_REFUNDED):
            super().apply_event(event)


class ChecksOnlyTheStatus(RightShop):
    """Flaw: counts an order already in the target status as done, without looking for the
    event's note; a later debit, which leaves the status as it is, is never noted."""

    id = "checks_only_the_status"

    def apply_event(self, event: PaymentEvent) -> None:
        data = self.get(f"/orders/{event.order_ref}", f"order {event.order_ref}")
        target = self.status_for(event) or data["status"]
        if data["status"] != target:
            self.write(event, target)


class NoIdempotencyKey(RightShop):
    """Flaw: declares idempotency keys and sends none."""

    id = "no_idempotency_key"

    def write(self, event: PaymentEvent, target: str) -> None:
        body = {"status": target, "note": event.note}
        self.put(f"/orders/{event.order_ref}", f"order {event.order_ref}", body)


class UnsignedAccepted(RightShop):
    """Flaw: checks the signature only when there is one, so an unsigned webhook passes."""

    id = "unsigned_accepted"

    def verify_webhook(self, request: WebhookRequest) -> bool:
        return not request.header("x-shop-signature") or super().verify_webhook(request)


class NoHandshake(RightShop):
    """Flaw: does not recognise the shop's handshake, so the shop cannot create its webhook."""

    id = "no_handshake"

    def handshake(self, request: WebhookRequest) -> WebhookReply | None:
        return None


class ReadsNoChange(RightShop):
    """Flaw: verifies webhooks but never says what changed: a cancelled order stays payable."""

    id = "reads_no_change"

    def read_webhook(self, request: WebhookRequest) -> Sequence[ShopChange]:
        return []


class RightShopHarness(ConnectorConformance):
    """The harness of the shop above: orders in the double's memory."""

    settings: ClassVar[Mapping[str, Any]] = {
        "base_url": BASE,
        "api_key": "k3y-n0t-t0-b3-s33n",
        "webhook_secret": "w3bh00k-s3cr3t",
    }
    shop_url = BASE
    states_given = (OrderStatus.OPEN, OrderStatus.FAILED, OrderStatus.PAID, OrderStatus.CANCELLED)

    def shop_api(self, api: ShopDouble) -> None:
        def read(call: Call, match: Any) -> Reply:
            order = api.orders.get(match["ref"])
            return Reply(200, json=order) if order else Reply(404, json={"message": "no such order"})

        def write(call: Call, match: Any) -> Reply:
            order = api.orders[match["ref"]]
            body = call.json()
            order["status"] = body["status"] or order["status"]
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
            "debits": order.schedule.occurrences if order.schedule else 0,
            "notes": [],
        }
        return f"key-{order.ref}"

    def signed_webhook(self, kit: Kit, change: ShopChange) -> tuple[dict[str, str], bytes]:
        topic = f"order.{change.kind.value}"
        body = json.dumps({"topic": topic, "order": change.order_ref}).encode()
        headers = {
            "Content-Type": "application/json",
            "X-Shop-Topic": topic,
            "X-Shop-Signature": sign(self.settings, body),
        }
        return headers, body

    def handshake_webhook(self, kit: Kit) -> tuple[dict[str, str], bytes] | None:
        return {"Content-Type": "application/json", "X-Shop-Topic": "ping"}, b'{"ping": true}'

    def shop_status(self, kit: Kit, ref: str) -> str:
        assert kit.api is not None
        return str(kit.api.orders[ref]["status"])

    def shop_notes(self, kit: Kit, ref: str) -> list[str]:
        assert kit.api is not None
        return list(kit.api.orders[ref]["notes"])
