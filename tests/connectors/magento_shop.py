"""A Magento 2 store answering the REST API in process, for the connector's tests.

Its orders are the published example (``examples/magento2/magento-order.json``)
changed only where an order differs (id, protect code, amounts, currency, buyer,
lines, state). Its rules are Magento's: every call needs a bearer token (the
integration's, or an admin token it issued and has not expired); an invoice is
refused for an order that cannot be invoiced and moves a new one to
"processing"; a credit memo follows Magento's ``RefundOrder`` rules (see
:meth:`MagentoShop.refund`: no item listed refunds everything), and the refunds
covering the total close the order; a canceled order cannot be invoiced; a
comment may set the order's status; money is sent as JSON numbers; errors are
``{"message": ..., "parameters": ...}``.
"""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from oauthlib.common import Request as OAuthRequest
from oauthlib.oauth1.rfc5849 import signature

from bluepaid_plugins.domain import OrderStatus
from hub.testing.conformance import GivenOrder
from hub.testing.shop_double import Call, Reply, ShopDouble

BASE_URL = "https://magento.example"
API = "/rest/default/V1"
EXAMPLES = Path(__file__).parent / "examples" / "magento2"
ACCESS_TOKEN = "0wm5e0s0ld1a7h3q7uwnnqh0hqc7cd6x"
ADMIN_USER, ADMIN_PASSWORD = "bluepaid-hub", "Adm1n-pa55word-n0t-s33n"
SETTINGS: dict[str, Any] = {"base_url": BASE_URL, "access_token": ACCESS_TOKEN}
ADMIN_SETTINGS: dict[str, Any] = {"base_url": BASE_URL, "username": ADMIN_USER, "password": ADMIN_PASSWORD}
CONSUMER_KEY, CONSUMER_SECRET = "ckx3v6dmbrxo4yhkwsqa8tjvqh2fl1m0", "csb7w0e1t3pnn0z6k9cuq4yrxd5ga2hf"
TOKEN_SECRET = "tsd9c2k5m8q1v4x7z0b3e6h9j2n5r8u1"
OAUTH_SETTINGS: dict[str, Any] = {
    "base_url": BASE_URL,
    "consumer_key": CONSUMER_KEY,
    "consumer_secret": CONSUMER_SECRET,
    "access_token": ACCESS_TOKEN,
    "access_token_secret": TOKEN_SECRET,
}

#: The state and status an order the suite asks for is written with.
MAGENTO_STATES = {
    OrderStatus.OPEN: ("new", "pending"),
    OrderStatus.PAID: ("processing", "processing"),
    OrderStatus.PARTIALLY_REFUNDED: ("processing", "processing"),
    OrderStatus.REFUNDED: ("closed", "closed"),
    OrderStatus.CANCELLED: ("canceled", "canceled"),
    OrderStatus.ON_HOLD: ("holded", "holded"),
}
ALPHA2 = {"FRA": "FR", "USA": "US", "DEU": "DE", "BEL": "BE", "": ""}


def _amount(data: dict[str, Any], name: str) -> Decimal:
    return Decimal(str(data.get(name) or 0))


def _php_float(value: Decimal) -> str:
    """A float as PHP writes it in a message: 10.0 as "10", 10.5 as "10.5"."""
    return repr(float(value)).removesuffix(".0")


def example(name: str) -> Any:
    return json.loads((EXAMPLES / name).read_text("utf-8"))


def error(status: int, message: str, parameters: Any = None) -> Reply:
    """An error as Magento's REST API answers it."""
    body: dict[str, Any] = {"message": message}
    if parameters is not None:
        body["parameters"] = parameters
    return Reply(status, json=body)


def _json(data: Any) -> Reply:
    # Magento's PHP floats come out with the fewest digits that read back the same,
    # as Python's float repr does.
    return Reply(body=json.dumps(data, default=float), content_type="application/json")


class MagentoShop:
    """The orders of one store, the admin tokens it issued, and the routes that serve them."""

    def __init__(self, api: ShopDouble) -> None:
        self.api = api
        self.orders: dict[str, dict[str, Any]] = {}
        self.admin_tokens: set[str] = set()
        self.issued = 0
        self.credit_memos: list[dict[str, Any]] = []
        self.invoices: list[dict[str, Any]] = []
        api.route("POST", API + "/integration/admin/token", self.admin_token, reads=True)
        routes = (
            ("GET", "/store/storeConfigs", self.store_configs),
            ("GET", r"/orders/(?P<id>[0-9]+)", self.get_order),
            ("POST", r"/order/(?P<id>[0-9]+)/invoice", self.invoice),
            ("POST", r"/order/(?P<id>[0-9]+)/refund", self.refund),
            ("POST", r"/orders/(?P<id>[0-9]+)/cancel", self.cancel),
            ("POST", r"/orders/(?P<id>[0-9]+)/comments", self.comment),
        )
        for method, path, handler in routes:
            api.route(method, API + path, self._authenticated(handler))

    # Putting orders in the shop

    def add(self, given: GivenOrder) -> str:
        """Write ``given`` as Magento holds it; return its protect_code."""
        data = example("magento-order.json")
        code = f"{int(given.ref):06x}"[-6:]
        state, status = MAGENTO_STATES[given.status]
        total = given.total.amount
        c = given.customer
        data.update(
            entity_id=int(given.ref),
            increment_id=f"{int(given.ref):09d}",
            protect_code=code,
            state=state,
            status=status,
            grand_total=total,
            base_grand_total=total,
            total_due=total,
            order_currency_code=given.total.currency,
            customer_email=c.email,
            customer_firstname=c.first_name,
            customer_lastname=c.last_name,
            status_histories=[],
        )
        if given.status.paid:
            data["total_paid"] = total
        if given.status is OrderStatus.PARTIALLY_REFUNDED:
            data["total_refunded"] = Decimal("1.00")
        if given.status is OrderStatus.REFUNDED:
            data["total_refunded"] = total
        data["billing_address"]["country_id"] = ALPHA2[c.country]
        data["extension_attributes"]["shipping_assignments"][0]["shipping"]["address"]["country_id"] = ALPHA2[
            c.country
        ]
        template = data["items"][0]
        data["items"] = [
            {
                **copy.deepcopy(template),
                "item_id": int(given.ref) * 100 + n,
                "order_id": int(given.ref),
                "name": item.name,
                "qty_ordered": item.quantity,
                "price": item.unit_price,
                "row_total": item.unit_price * item.quantity,
            }
            for n, item in enumerate(given.items, start=1)
        ]
        self.orders[given.ref] = data
        return code

    def status(self, ref: str) -> str:
        return str(self.orders[ref]["status"])

    def comments(self, ref: str) -> list[str]:
        return [str(h["comment"]) for h in self.orders[ref]["status_histories"]]

    def expire_admin_tokens(self) -> None:
        """Every admin token issued so far stops working, as when its 4 hours are over."""
        self.admin_tokens.clear()

    # Routes

    def _authenticated(self, handler: Any) -> Any:
        def checked(call: Call, match: Any) -> Reply:
            authorization = call.headers.get("authorization", "")
            token = authorization.removeprefix("Bearer ")
            if authorization.startswith("OAuth "):
                if not self.signed(call):
                    return error(401, "The signature is invalid. Verify and try again.")
            elif token != ACCESS_TOKEN and token not in self.admin_tokens:
                return error(
                    401, "The consumer isn't authorized to access %resources.", {"resources": "self"}
                )
            return handler(call, match)

        return checked

    def signed(self, call: Call) -> bool:
        """Whether an OAuth 1.0a call is signed with the integration's keys, as Magento
        checks it (HMAC-SHA256 over the method, the URL and the query; not a JSON body)."""
        headers = {"Authorization": call.headers["authorization"]}
        oauth = dict(signature.collect_parameters(headers=headers, exclude_oauth_signature=False))
        if (oauth.get("oauth_consumer_key"), oauth.get("oauth_token")) != (CONSUMER_KEY, ACCESS_TOKEN):
            return False
        if oauth.get("oauth_signature_method") != "HMAC-SHA256":
            return False
        query = "&".join(f"{k}={v}" for k, v in call.query.items())
        url = f"{BASE_URL}{call.path}" + (f"?{query}" if query else "")
        request = OAuthRequest(url, call.method, None, headers)
        request.params = signature.collect_parameters(uri_query=query, headers=headers)
        request.signature = oauth["oauth_signature"]
        return bool(signature.verify_hmac_sha256(request, CONSUMER_SECRET, TOKEN_SECRET))

    def admin_token(self, call: Call, match: Any) -> Reply:
        body = call.json()
        if body != {"username": ADMIN_USER, "password": ADMIN_PASSWORD}:
            return error(
                401,
                "The account sign-in was incorrect or your account is disabled temporarily. "
                "Please wait and try again later.",
            )
        self.issued += 1
        token = f"admintoken{self.issued:022d}"
        self.admin_tokens.add(token)
        return Reply(json=token)

    def store_configs(self, call: Call, match: Any) -> Reply:
        return Reply(json=[{"id": 1, "code": "default", "base_currency_code": "EUR", "locale": "en_US"}])

    def _order(self, match: Any) -> dict[str, Any] | None:
        return self.orders.get(match["id"])

    def get_order(self, call: Call, match: Any) -> Reply:
        order = self._order(match)
        if order is None:
            return error(404, "The entity that was requested doesn't exist. Verify the entity and try again.")
        return _json(order)

    def invoice(self, call: Call, match: Any) -> Reply:
        order = self._order(match)
        if order is None:
            return error(404, "The entity that was requested doesn't exist. Verify the entity and try again.")
        if order["state"] not in ("new", "pending_payment"):
            return error(400, "The order does not allow an invoice to be created.")
        self.invoices.append(call.json())
        order.update(state="processing", status="processing", total_paid=order["grand_total"])
        return Reply(json=str(len(self.invoices)))

    def refund(self, call: Call, match: Any) -> Reply:
        """``POST /order/{id}/refund`` as Magento's ``RefundOrder`` service treats it.

        magento/magento2 ``app/code/Magento/Sales/Model/Order/CreditmemoDocumentFactory.php``
        turns ``items`` into the quantities of ``CreditmemoFactory::createByOrder``: an
        empty list refunds every item still unrefunded, and (with no ``shipping_amount``)
        the shipping left; items at quantity 0 refund no item. Then
        ``Creditmemo/Validation/QuantityValidator.php``: a total of 0 or less is refused,
        and so is a credit memo with no quantity once the order's shipping is all refunded
        ("without products"); ``TotalsValidator.php``: no more than what was paid. The
        messages come joined after "Creditmemo Document Validation Error(s):", as in
        Magento's own REST example. Item quantities above 0 are not modelled here.
        """
        order = self._order(match)
        if order is None:
            return error(404, "The entity that was requested doesn't exist. Verify the entity and try again.")
        body = call.json()
        items, arguments = body.get("items") or [], body.get("arguments") or {}
        assert all(item["qty"] == 0 for item in items), "item quantities are not modelled"
        paid, refunded = _amount(order, "total_paid"), _amount(order, "total_refunded")
        shipping_left = _amount(order, "shipping_amount") - _amount(order, "shipping_refunded")
        shipping = Decimal(str(arguments.get("shipping_amount", shipping_left)))
        adjustment = _amount(arguments, "adjustment_positive") - _amount(arguments, "adjustment_negative")
        # No item listed: every unrefunded item, that is what was paid and not refunded yet.
        goods = paid - refunded - shipping_left if not items else Decimal(0)
        total = goods + shipping + adjustment
        messages = []
        if order["state"] not in ("processing", "complete"):
            messages.append("We can't create creditmemo for the order.")
        if total <= 0:
            messages.append("The credit memo's total must be positive.")
        elif (items or goods <= 0) and shipping_left == 0:
            messages.append("You can't create a creditmemo without products.")
        if refunded + total > paid:
            messages.append(f"The most money available to refund is {_php_float(paid - refunded)}.")
        if messages:
            return error(400, "\n".join(["Creditmemo Document Validation Error(s):", *messages]))
        self.credit_memos.append(body)
        order["total_refunded"] = refunded + total
        order["shipping_refunded"] = _amount(order, "shipping_refunded") + shipping
        if refunded + total == paid:
            order.update(state="closed", status="closed")
        return Reply(json=str(len(self.credit_memos)))

    def cancel(self, call: Call, match: Any) -> Reply:
        order = self._order(match)
        if order is None:
            return error(404, "The entity that was requested doesn't exist. Verify the entity and try again.")
        if order["state"] not in ("new", "pending_payment", "holded"):
            return Reply(json=False)
        order.update(state="canceled", status="canceled")
        return Reply(json=True)

    def comment(self, call: Call, match: Any) -> Reply:
        order = self._order(match)
        if order is None:
            return error(404, "The entity that was requested doesn't exist. Verify the entity and try again.")
        history = call.json()["statusHistory"]
        order["status_histories"].append({"comment": history["comment"], "status": history.get("status")})
        if history.get("status"):
            order["status"] = history["status"]
        return Reply(json=True)
