"""A pretix event answering the REST API v1 in process, for the connector's tests.

Its bodies are answers recorded from a real pretix (2026.8, with the
pretix-bluepaid plugin) in ``examples/pretix``, changed only where an order
differs (code, secret, status, total, buyer, payments, refunds). Its rules are
pretix's own (``src/pretix/api/views/order.py``, ``api/middleware.py``):
every call needs ``Authorization: Token``; a payment created ``confirmed``
makes a pending or expired order paid (a paid or cancelled one stays as it is);
a payment is cancelled (``.../payments/{local_id}/cancel/``) only while
``created`` or ``pending``; the plugin's ``.../bluepaid/{local_id}/outcome/``
(``pretix_bluepaid/api.py``) finishes such a payment of provider ``bluepaid``
and of the same amount, its ``info`` added, as a confirmed one makes the order
paid (``with_outcome_route=False`` plays a plugin without that route: 404);
a refund is recorded as given and moves no status; ``mark_refunded`` needs a
paid order, ``mark_canceled`` and ``mark_expired`` a pending one, ``mark_pending``
a paid one; a write with ``X-Idempotency-Key`` is done once per token and key,
and a retry gets the first answer back (409, 429 and 503 are not kept).
"""

from __future__ import annotations

import copy
import json
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import requests

from bluepaid_plugins.domain import OrderStatus
from hub.testing.conformance import GivenOrder
from hub.testing.shop_double import Call, Reply, ShopDouble

BASE_URL = "https://pretix.example"
API = "/api/v1/organizers/bluepaid/events/live"
EXAMPLES = Path(__file__).parent / "examples" / "pretix"
TOKEN = "prm0tok3n-n0t-t0-b3-s33n-4b7c9d1e2f3a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e1f2a"
SETTINGS: dict[str, Any] = {
    "base_url": BASE_URL,
    "organizer": "bluepaid",
    "event": "live",
    "api_token": TOKEN,
}

#: The pretix status an order the suite asks for is written with.
PRETIX_STATUS = {
    OrderStatus.OPEN: "n",
    OrderStatus.FAILED: "n",
    OrderStatus.ON_HOLD: "n",
    OrderStatus.PAID: "p",
    OrderStatus.PARTIALLY_REFUNDED: "p",
    OrderStatus.REFUNDED: "c",
    OrderStatus.CANCELLED: "c",
    OrderStatus.EXPIRED: "e",
}
# The shop keeps alpha-2 codes; the hub reads alpha-3 ones.
ALPHA2 = {"FRA": "FR", "USA": "US", "DEU": "DE", "BEL": "BE", "": ""}
_LOCALES = {"EN": "en", "FR": "fr", "DE": "de", "": "en"}
_PAYMENT_STATES = {"created", "pending", "confirmed", "canceled", "failed", "refunded"}
_REFUND_STATES = {"created", "transit", "external", "done", "failed", "canceled"}
_NOT_KEPT = {409, 429, 503}


def example(name: str) -> Any:
    return json.loads((EXAMPLES / name).read_text("utf-8"))


def detail(status: int, text: str) -> Reply:
    """An error as pretix's REST API (Django REST framework) answers it."""
    return Reply(status, json={"detail": text})


class PretixShop:
    """The event, its orders, payments and refunds, and the routes that serve them."""

    def __init__(self, api: ShopDouble, currency: str = "EUR", *, with_outcome_route: bool = True) -> None:
        self.api = api
        self.event = example("pretix-event.json")
        self.event["currency"] = currency
        #: Answers kept per idempotency key: (status, body).
        self.kept: dict[str, tuple[int, Any]] = {}
        self._lost: list[tuple[str, str]] = []
        routes = (
            ("GET", "/", self.get_event),
            ("GET", r"/orders/(?P<code>[A-Z0-9]+)/", self.get_order),
            ("POST", r"/orders/(?P<code>[A-Z0-9]+)/payments/", self.post_payment),
            ("POST", r"/orders/(?P<code>[A-Z0-9]+)/payments/(?P<local_id>[0-9]+)/cancel/", self.post_cancel),
            ("POST", r"/orders/(?P<code>[A-Z0-9]+)/refunds/", self.post_refund),
            ("POST", r"/orders/(?P<code>[A-Z0-9]+)/(?P<action>mark_[a-z]+)/", self.post_action),
        )
        if with_outcome_route:
            routes += (
                (
                    "POST",
                    r"/orders/(?P<code>[A-Z0-9]+)/bluepaid/(?P<local_id>[0-9]+)/outcome/",
                    self.post_outcome,
                ),
            )
        for method, path, handler in routes:
            api.route(method, API + path, self._authenticated(handler))

    # Putting orders in the shop

    def add(self, given: GivenOrder) -> str:
        """Write ``given`` as pretix holds it (with the payment its checkout made); return its secret."""
        data = example("pretix-order-pending.json")
        secret = f"s3cr3t{given.ref.lower()}x"
        status = PRETIX_STATUS[given.status]
        c = given.customer
        total = str(given.total.amount)
        data.update(
            code=given.ref,
            secret=secret,
            status=status,
            total=total,
            email=c.email,
            locale=_LOCALES.get(given.language, "en"),
            require_approval=given.status is OrderStatus.ON_HOLD,
            url=f"{BASE_URL}/bluepaid/live/order/{given.ref}/{secret}/",
        )
        data["invoice_address"].update(
            name=f"{c.first_name} {c.last_name}".strip(),
            name_parts={"_scheme": "given_family", "given_name": c.first_name, "family_name": c.last_name},
            country=ALPHA2[c.country],
        )
        for position in data["positions"]:
            position.update(order=given.ref, price=total)
        checkout = data["payments"][0]
        checkout.update(amount=total, payment_url=f"{data['url']}pay/1/")
        if given.status is OrderStatus.FAILED:
            checkout.update(state="failed", payment_url=None)
        if given.status in (OrderStatus.PAID, OrderStatus.PARTIALLY_REFUNDED, OrderStatus.REFUNDED):
            checkout.update(state="confirmed", payment_url=None, payment_date="2026-12-07T12:00:00Z")
        if given.status in (OrderStatus.PARTIALLY_REFUNDED, OrderStatus.REFUNDED):
            refunded = total if given.status is OrderStatus.REFUNDED else "1.00"
            data["refunds"] = [self._refund(data, state="done", amount=refunded, payment=1)]
        self.api.orders[given.ref] = data
        return secret

    def order(self, code: str) -> dict[str, Any]:
        found: dict[str, Any] = self.api.orders[code]
        return found

    def status(self, code: str) -> str:
        return str(self.order(code)["status"])

    def note_texts(self, code: str) -> list[str]:
        """What pretix shows of an order's payments and refunds: each one's transaction
        (the plugin's ``details``), and a refund's comment."""
        data = self.order(code)
        texts = [
            f"payment {p['state']} {p['amount']}, transaction {p['details']['id_trans']}"
            for p in data["payments"]
            if p["details"].get("id_trans")
        ]
        return texts + [str(r["comment"]) for r in data["refunds"] if r.get("comment")]

    def lose_answer_to(self, method: str, path: str) -> None:
        """The next call to ``method`` ``path`` (exactly) is done, and its answer lost
        on the way back: the caller sees a read timeout."""
        self._lost.append((method, path))

    # Routes

    def _authenticated(self, handler: Any) -> Any:
        def answer(call: Call, match: Any) -> Reply:
            if call.headers.get("authorization") != f"Token {TOKEN}":
                return detail(401, "Invalid token.")
            key = call.headers.get("x-idempotency-key")
            if call.method == "GET" or not key:
                reply: Reply = handler(call, match)
                return reply
            if key in self.kept:
                status, body = self.kept[key]
                return Reply(status, json=body)
            reply = handler(call, match)
            if reply.status not in _NOT_KEPT:
                self.kept[key] = (reply.status, reply.json)
            if (call.method, call.path) in self._lost:
                self._lost.remove((call.method, call.path))
                raise requests.ReadTimeout("the answer was lost on the way back")
            return reply

        return answer

    def get_event(self, call: Call, match: Any) -> Reply:
        return Reply(200, json=self.event)

    def _found(self, match: Any) -> dict[str, Any] | None:
        found: dict[str, Any] | None = self.api.orders.get(match["code"])
        return found

    def get_order(self, call: Call, match: Any) -> Reply:
        data = self._found(match)
        if data is None:
            return detail(404, "No Order matches the given query.")
        return Reply(200, json=data)

    def post_payment(self, call: Call, match: Any) -> Reply:
        data = self._found(match)
        if data is None:
            return detail(404, "No Order matches the given query.")
        body = call.json()
        problems = self._problems(body, _PAYMENT_STATES)
        if problems:
            return Reply(400, json=problems)
        payment = copy.deepcopy(example("pretix-payment-created.json"))
        info = body.get("info") or {}
        payment.update(
            local_id=1 + max((p["local_id"] for p in data["payments"]), default=0),
            state=body["state"],
            amount=body["amount"],
            provider=body["provider"],
            payment_url=None,
            details={name: info.get(name) for name in ("id_trans", "event", "payment", "test")},
        )
        if body["state"] == "confirmed" and data["status"] in ("n", "e"):
            data["status"] = "p"
        data["payments"].append(payment)
        return Reply(201, json=payment)

    def _waiting(self, match: Any, provider: str | None = None) -> tuple[dict[str, Any] | None, Reply | None]:
        """The order's payment ``local_id`` if it is still waiting, else the error pretix answers."""
        data = self._found(match)
        if data is None:
            return None, detail(404, "No Order matches the given query.")
        found = [
            p
            for p in data["payments"]
            if p["local_id"] == int(match["local_id"]) and provider in (None, p["provider"])
        ]
        if not found:
            return None, detail(404, "No OrderPayment matches the given query.")
        if found[0]["state"] not in ("created", "pending"):
            return None, detail(400, "Invalid state of payment")
        return found[0], None

    def post_cancel(self, call: Call, match: Any) -> Reply:
        payment, error = self._waiting(match)
        if payment is None:
            assert error is not None
            return error
        payment.update(state="canceled", payment_url=None)
        return Reply(200, json=payment)

    def post_outcome(self, call: Call, match: Any) -> Reply:
        payment, error = self._waiting(match, provider="bluepaid")
        if payment is None:
            assert error is not None
            return error
        body = call.json()
        if body.get("state") not in ("confirmed", "failed", "canceled"):
            return Reply(400, json={"state": ["One of confirmed, failed, canceled."]})
        if Decimal(str(body.get("amount"))) != Decimal(payment["amount"]):
            return Reply(400, json={"amount": [f"The payment is of {payment['amount']}."]})
        info = body.get("info") or {}
        answer = example("pretix-payment-outcome.json")
        payment.update(
            state=body["state"],
            payment_url=None,
            payment_date=body.get("payment_date") if body["state"] == "confirmed" else None,
            details={name: info.get(name) for name in answer["details"]},
        )
        data = self.order(match["code"])
        if body["state"] == "confirmed" and data["status"] in ("n", "e"):
            data["status"] = "p"
        return Reply(200, json=payment)

    def post_refund(self, call: Call, match: Any) -> Reply:
        data = self._found(match)
        if data is None:
            return detail(404, "No Order matches the given query.")
        body = call.json()
        problems = self._problems(body, _REFUND_STATES)
        known = [p["local_id"] for p in data["payments"]]
        if body.get("payment") is not None and body["payment"] not in known:
            problems["non_field_errors"] = ["Unknown payment ID."]
        if problems:
            return Reply(400, json=problems)
        refund = self._refund(
            data, state=body["state"], amount=body["amount"], payment=body.get("payment"), body=body
        )
        data["refunds"].append(refund)
        return Reply(201, json=refund)

    def post_action(self, call: Call, match: Any) -> Reply:
        data = self._found(match)
        if data is None:
            return detail(404, "No Order matches the given query.")
        moves = {
            "mark_refunded": ("p", "c", "The order is not paid."),
            "mark_canceled": ("n", "c", "The order is not allowed to be canceled."),
            "mark_expired": ("n", "e", "The order is not pending."),
            "mark_pending": ("p", "n", "The order is not paid."),
        }
        move = moves.get(match["action"])
        if move is None:
            return detail(404, "Not found.")
        if data["status"] != move[0]:
            return detail(400, move[2])
        data["status"] = move[1]
        return Reply(200, json=data)

    @staticmethod
    def _problems(body: Any, states: set[str]) -> dict[str, list[str]]:
        problems: dict[str, list[str]] = {}
        if body.get("state") not in states:
            problems["state"] = [f'"{body.get("state")}" is not a valid choice.']
        try:
            Decimal(str(body.get("amount")))
        except InvalidOperation:
            problems["amount"] = ["A valid number is required."]
        if not body.get("provider"):
            problems["provider"] = ["This field is required."]
        return problems

    @staticmethod
    def _refund(
        data: dict[str, Any], *, state: str, amount: str, payment: int | None, body: Any = None
    ) -> dict[str, Any]:
        refund: dict[str, Any] = copy.deepcopy(example("pretix-refund-created.json"))
        info = (body or {}).get("info") or {}
        refund.update(
            local_id=1 + max((r["local_id"] for r in data["refunds"]), default=0),
            state=state,
            source=(body or {}).get("source", "admin"),
            amount=amount,
            payment=payment,
            comment=(body or {}).get("comment"),
            provider=(body or {}).get("provider", "bluepaid"),
            details={name: info.get(name) for name in ("id_trans", "event", "payment", "test")},
        )
        return refund
