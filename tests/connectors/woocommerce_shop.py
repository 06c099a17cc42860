"""A WooCommerce shop answering the REST API v3 in process, for the connector's tests.

Its bodies are the published examples in ``examples/woocommerce`` (see the
README there), changed only where an order differs (id, key, status, amounts,
buyer, lines, refunds); its rules are WooCommerce's own: ``set_paid`` runs the
payment-complete step only for an order that needs payment (pending or failed,
with a total) while ``transaction_id`` is always stored, a refund over what is
left is refused, refunds covering the total make the order "refunded", each
status change adds WooCommerce's own note, and every call needs the consumer
key and secret.
"""

from __future__ import annotations

import base64
import copy
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from bluepaid_plugins.domain import OrderStatus
from connectors.woocommerce.webhooks import signature
from hub.testing.conformance import GivenOrder
from hub.testing.shop_double import Call, Reply, ShopDouble

BASE_URL = "https://shop.example"
API = "/wp-json/wc/v3"
EXAMPLES = Path(__file__).parent / "examples" / "woocommerce"
CONSUMER_KEY = "ck_4d7a1f0c2b9e8d6a5f3c1b0e9d8c7b6a5f4e3d2c"
CONSUMER_SECRET = "cs_9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d"
WEBHOOK_SECRET = "wh-s3cr3t-n0t-t0-b3-s33n"
SETTINGS: dict[str, Any] = {
    "base_url": BASE_URL,
    "consumer_key": CONSUMER_KEY,
    "consumer_secret": CONSUMER_SECRET,
    "webhook_secret": WEBHOOK_SECRET,
}

#: The WooCommerce status an order the suite asks for is written with.
WOO_STATUS = {
    OrderStatus.OPEN: "pending",
    OrderStatus.FAILED: "failed",
    OrderStatus.PAID: "processing",
    OrderStatus.PARTIALLY_REFUNDED: "processing",
    OrderStatus.REFUNDED: "refunded",
    OrderStatus.CANCELLED: "cancelled",
    OrderStatus.EXPIRED: "checkout-draft",
    OrderStatus.ON_HOLD: "on-hold",
}
# The shop keeps alpha-2 codes; the hub reads alpha-3 ones.
ALPHA2 = {"FRA": "FR", "USA": "US", "DEU": "DE", "BEL": "BE", "": ""}
# WC_Order::needs_payment(): the statuses set_paid completes the payment of.
_NEEDS_PAYMENT = {"pending", "failed"}
_LABELS = {
    "pending": "Pending payment",
    "failed": "Failed",
    "on-hold": "On hold",
    "processing": "Processing",
    "completed": "Completed",
    "cancelled": "Cancelled",
    "refunded": "Refunded",
}


def example(name: str) -> Any:
    return json.loads((EXAMPLES / name).read_text("utf-8"))


def error(status: int, code: str, message: str) -> Reply:
    """An error as WordPress's REST API answers it."""
    return Reply(status, json={"code": code, "message": message, "data": {"status": status}})


class NoOrders:
    """The hub's order store, which a WooCommerce shop does not use."""

    def get(self, ref: str) -> None:
        return None

    def set_status(self, ref: str, status: OrderStatus, note: str) -> bool:
        raise AssertionError("the WooCommerce connector keeps no orders in the hub")


class WooShop:
    """The orders, notes and refunds of one shop, and the routes that serve them."""

    def __init__(self, api: ShopDouble) -> None:
        self.api = api
        self.notes: dict[str, list[dict[str, Any]]] = {}
        #: Failures armed for one call each: (method, path, answer), in order.
        self.faults: list[tuple[str, str, Reply | BaseException]] = []
        #: The key's permissions as WooCommerce stores them: read, write or read_write.
        self.key_permissions = "read_write"
        #: Whether the key's user may edit orders (a shop manager or administrator).
        self.user_edits_orders = True
        self._ids = iter(range(9000, 100000))
        basic = base64.b64encode(f"{CONSUMER_KEY}:{CONSUMER_SECRET}".encode()).decode()
        self._authorization = f"Basic {basic}"
        routes = (
            ("GET", "/system_status", self.system_status),
            ("GET", r"/orders/(?P<id>[0-9]+)", self.get_order),
            ("PUT", r"/orders/(?P<id>[0-9]+)", self.put_order),
            ("GET", r"/orders/(?P<id>[0-9]+)/notes", self.get_notes),
            ("POST", r"/orders/(?P<id>[0-9]+)/notes", self.post_note),
            ("POST", r"/orders/(?P<id>[0-9]+)/refunds", self.post_refund),
        )
        for method, path, handler in routes:
            api.route(method, API + path, self._authenticated(handler))

    # Putting orders in the shop

    def add(self, given: GivenOrder) -> str:
        """Write ``given`` as WooCommerce holds it; return its order_key."""
        data = example("woocommerce-order.json")
        key = f"wc_order_{given.ref}k3y"
        currency = given.total.currency
        status = WOO_STATUS[given.status]
        c = given.customer
        data.update(
            id=int(given.ref),
            number=given.ref,
            order_key=key,
            status=status,
            currency=currency,
            total=str(given.total),
            transaction_id="",
            date_paid=None if status in (*_NEEDS_PAYMENT, "on-hold", "cancelled") else "2026-11-26T12:00:00",
            line_items=[
                self._line(n, item.name, item.quantity, item.unit_price) for n, item in enumerate(given.items)
            ],
        )
        for address in ("billing", "shipping"):
            data[address].update(first_name=c.first_name, last_name=c.last_name, country=ALPHA2[c.country])
        data["billing"]["email"] = c.email
        if given.status is OrderStatus.PARTIALLY_REFUNDED:
            data["refunds"] = [{"id": next(self._ids), "reason": "", "total": "-1.00"}]
        self.api.orders[given.ref] = data
        self.notes[given.ref] = []
        return key

    @staticmethod
    def _line(n: int, name: str, quantity: int, unit: Decimal) -> dict[str, Any]:
        line: dict[str, Any] = copy.deepcopy(example("woocommerce-order.json")["line_items"][0])
        total = str(unit * quantity)
        line.update(
            id=400 + n, name=name, quantity=quantity, subtotal=total, total=total, price=float(unit)
        )  # a JSON number, as WooCommerce sends it
        return line

    def status(self, ref: str) -> str:
        return str(self.api.orders[ref]["status"])

    def note_texts(self, ref: str) -> list[str]:
        return [str(note["note"]) for note in self.notes.get(ref, [])]

    def add_note(self, ref: str, text: str, author: str = "system") -> dict[str, Any]:
        note: dict[str, Any] = example("woocommerce-order-note-created.json")
        note.update(id=next(self._ids), note=text, author=author)
        # WooCommerce lists the newest note first.
        self.notes[ref].insert(0, note)
        return note

    # Webhooks the shop sends

    def webhook(self, ref: str, status: str, topic: str = "order.updated") -> tuple[dict[str, str], bytes]:
        """A signed delivery for order ``ref`` in ``status``, as WooCommerce sends it."""
        data = copy.deepcopy(self.api.orders.get(ref) or example("woocommerce-order.json"))
        data.update(id=int(ref), status=status)
        body = json.dumps(data).encode()
        return signed_headers(body, topic), body

    def fail_at(self, method: str, path: str, answer: Reply | BaseException) -> None:
        """The next call to ``method`` ``path`` (exactly) gets ``answer``, or raises it."""
        self.faults.append((method, path, answer))

    # Routes

    def _authenticated(self, handler: Any) -> Any:
        def answer(call: Call, match: Any) -> Reply:
            in_query = call.query.get("consumer_key") == CONSUMER_KEY
            in_query = in_query and call.query.get("consumer_secret") == CONSUMER_SECRET
            if call.headers.get("authorization") != self._authorization and not in_query:
                return error(401, "woocommerce_rest_authentication_error", "Consumer key is invalid.")
            # WooCommerce checks the key's permissions before it routes the request.
            needed = "read" if call.method == "GET" else "write"
            if self.key_permissions not in (needed, "read_write"):
                message = f"The API key provided does not have {needed} permissions."
                return error(401, "woocommerce_rest_authentication_error", message)
            for fault in self.faults:
                if fault[:2] == (call.method, call.path):
                    self.faults.remove(fault)
                    if isinstance(fault[2], BaseException):
                        raise fault[2]
                    return fault[2]
            reply: Reply = handler(call, match)
            return reply

        return answer

    def system_status(self, call: Call, match: Any) -> Reply:
        # No official example of this body: only the two fields the connector reads.
        return Reply(200, json={"environment": {"version": "8.9.1"}, "settings": {"currency": "EUR"}})

    def _order(self, match: Any) -> dict[str, Any] | None:
        found: dict[str, Any] | None = self.api.orders.get(match["id"])
        return found

    def get_order(self, call: Call, match: Any) -> Reply:
        order = self._order(match)
        if order is None:
            return error(404, "woocommerce_rest_shop_order_invalid_id", "Invalid ID.")
        return Reply(200, json=order)

    def put_order(self, call: Call, match: Any) -> Reply:
        order = self._order(match)
        if order is None:
            return error(404, "woocommerce_rest_shop_order_invalid_id", "Invalid ID.")
        body = call.json()
        if "transaction_id" in body:
            order["transaction_id"] = body["transaction_id"]
        if "status" in body:
            self._change_status(match["id"], order, body["status"])
        elif (
            body.get("set_paid") is True and order["status"] in _NEEDS_PAYMENT and Decimal(order["total"]) > 0
        ):
            order["date_paid"] = "2026-11-26T12:00:00"
            self._change_status(match["id"], order, "processing")
        return Reply(200, json=order)

    def _change_status(self, ref: str, order: dict[str, Any], status: str) -> None:
        if status == order["status"]:
            return
        before = _LABELS.get(order["status"], order["status"])
        self.add_note(ref, f"Order status changed from {before} to {_LABELS.get(status, status)}.")
        order["status"] = status

    def get_notes(self, call: Call, match: Any) -> Reply:
        if self._order(match) is None:
            return error(404, "woocommerce_rest_order_invalid_id", "Invalid order ID.")
        return Reply(200, json=self.notes[match["id"]])

    def post_note(self, call: Call, match: Any) -> Reply:
        if not self.user_edits_orders:
            return error(
                403, "woocommerce_rest_cannot_create", "Sorry, you are not allowed to create resources."
            )
        if self._order(match) is None:
            return error(404, "woocommerce_rest_order_invalid_id", "Invalid order ID.")
        text = call.json().get("note")
        if not text:
            return error(400, "rest_missing_callback_param", "Missing parameter(s): note")
        return Reply(201, json=self.add_note(match["id"], text, author="WooCommerce"))

    def post_refund(self, call: Call, match: Any) -> Reply:
        order = self._order(match)
        if order is None:
            return error(404, "woocommerce_rest_order_invalid_id", "Invalid order ID.")
        body = call.json()
        amount = Decimal(body["amount"])
        refunded = sum((-Decimal(r["total"]) for r in order["refunds"]), Decimal(0))
        left = Decimal(order["total"]) - refunded
        if amount <= 0 or amount > left:
            return error(500, "woocommerce_rest_cannot_create_order_refund", "Invalid refund amount.")
        refund = example("woocommerce-order-refund-created.json")
        refund.update(id=next(self._ids), amount=body["amount"], reason=body.get("reason", ""))
        refund["refunded_payment"] = bool(body.get("api_refund", True))
        order["refunds"].insert(0, {"id": refund["id"], "reason": refund["reason"], "total": f"-{amount}"})
        if amount == left:
            self._change_status(match["id"], order, "refunded")
        return Reply(201, json=refund)


def signed_headers(body: bytes, topic: str = "order.updated", secret: str = WEBHOOK_SECRET) -> dict[str, str]:
    resource, _, event = topic.partition(".")
    return {
        "Content-Type": "application/json",
        "X-WC-Webhook-Source": f"{BASE_URL}/",
        "X-WC-Webhook-Topic": topic,
        "X-WC-Webhook-Resource": resource,
        "X-WC-Webhook-Event": event,
        "X-WC-Webhook-ID": "12",
        "X-WC-Webhook-Delivery-ID": "3f2a",
        "X-WC-Webhook-Signature": signature(body, secret),
    }
