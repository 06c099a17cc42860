"""A Shopware 6 shop answering the Admin API in process, for the connector's tests.

Its orders are the published example (``examples/shopware6/shopware-order.json``)
changed only where an order differs (id, number, deep link code, amounts,
currency, buyer, lines, states). Its rules are Shopware's: every call but the
token request needs a bearer token it issued and has not revoked; a token is
issued for the integration's credentials only; the payment transaction moves
only by the actions of the ``order_transaction`` state machine as Shopware 6.6
installs and applies it (:mod:`connectors.shopware6.transitions`: an action
leading to the current state changes nothing, ``cancel`` is accepted from any
state), an illegal one answered 400 with Shopware's error body; custom fields are merged by key on a
PATCH; money is sent as JSON numbers.
"""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from bluepaid_plugins.domain import OrderStatus
from connectors.shopware6.app import signature
from connectors.shopware6.transitions import DESTINATIONS, TRANSITIONS
from hub.testing.conformance import GivenOrder
from hub.testing.shop_double import Call, Reply, ShopDouble

BASE_URL = "https://shopware.example"
API = "/api"
EXAMPLES = Path(__file__).parent / "examples" / "shopware6"
CLIENT_ID = "SWIAB1BQMLZ3ZJLHDVJ1DKNWMW"
CLIENT_SECRET = "bDVtR0dSdHgzaXRzY2VubG5qbXRVbEJhdkJQU0JWUkdxcWFHcjM"
APP_SECRET = "app-s3cr3t-n0t-t0-b3-s33n"
#: The shop secret of an app already registered: Shopware signs the app's calls with it.
SHOP_SECRET = "sh0p-s3cr3t-fr0m-th3-r3g1str4t10n"
SETTINGS: dict[str, Any] = {
    "base_url": BASE_URL,
    "client_id": CLIENT_ID,
    "client_secret": CLIENT_SECRET,
    "app_secret": APP_SECRET,
    "shop_secret": SHOP_SECRET,
}

#: The order and transaction states an order the suite asks for is written with.
SHOPWARE_STATES = {
    OrderStatus.OPEN: ("open", "open"),
    OrderStatus.FAILED: ("open", "failed"),
    OrderStatus.PAID: ("open", "paid"),
    OrderStatus.PARTIALLY_REFUNDED: ("open", "refunded_partially"),
    OrderStatus.REFUNDED: ("open", "refunded"),
    OrderStatus.CANCELLED: ("cancelled", "cancelled"),
    OrderStatus.ON_HOLD: ("open", "authorized"),
}


def example(name: str) -> Any:
    return json.loads((EXAMPLES / name).read_text("utf-8"))


def error(status: int, code: str, detail: str) -> Reply:
    """An error as Shopware's Admin API answers it."""
    body = {"errors": [{"status": str(status), "code": code, "title": "Error", "detail": detail}]}
    return Reply(status, json=body)


def _money(value: Decimal) -> float:
    # Shopware's PHP floats come out with the fewest digits that read back the same,
    # exactly as Python's float repr: 36.605 is sent as 36.605.
    return float(value)


class ShopwareShop:
    """The orders of one shop, the tokens it issued, and the routes that serve them."""

    def __init__(self, api: ShopDouble) -> None:
        self.api = api
        self.orders: dict[str, dict[str, Any]] = {}
        self.tokens: set[str] = set()
        self.issued = 0
        # The integration's access key ID and secret the shop accepts (the app's, once registered).
        self.credentials = (CLIENT_ID, CLIENT_SECRET)
        #: The access key ID of each token issued, in order.
        self.issued_to: list[str] = []
        # A token request and a search change nothing in the shop, although they are POSTs.
        api.route("POST", API + "/oauth/token", self.token, reads=True)
        api.route("POST", API + "/search/order", self._authenticated(self.search), reads=True)
        routes = (
            ("GET", "/_info/version", self._authenticated(self.version)),
            ("PATCH", r"/order/(?P<id>[0-9a-f]{32})", self._authenticated(self.patch_order)),
            (
                "POST",
                r"/_action/order_transaction/(?P<id>[0-9a-f]{32})/state/(?P<action>[a-z_]+)",
                self._authenticated(self.transition),
            ),
        )
        for method, path, handler in routes:
            api.route(method, API + path, handler)

    # Putting orders in the shop

    def add(self, given: GivenOrder) -> str:
        """Write ``given`` as Shopware holds it; return its deepLinkCode."""
        data = example("shopware-order.json")
        number = given.ref
        order_id = f"{int(number):032x}"
        code = f"deep-link-{number}-k3y"
        order_state, transaction_state = SHOPWARE_STATES[given.status]
        c = given.customer
        data.update(
            id=order_id, orderNumber=number, deepLinkCode=code, amountTotal=_money(given.total.amount)
        )
        data["price"]["totalPrice"] = _money(given.total.amount)
        data["currency"]["isoCode"] = given.total.currency
        data["orderCustomer"].update(email=c.email, firstName=c.first_name, lastName=c.last_name)
        data["billingAddress"]["country"]["iso3"] = c.country
        data["deliveries"][0]["shippingOrderAddress"]["country"]["iso3"] = c.country
        data["language"]["locale"] = {"code": {"EN": "en-GB", "FR": "fr-FR"}.get(given.language, "de-DE")}
        template = data["lineItems"][0]
        data["lineItems"] = [
            {
                **copy.deepcopy(template),
                "id": f"{int(number):016x}{position:016x}",
                "label": item.name,
                "quantity": item.quantity,
                "unitPrice": _money(item.unit_price),
                "totalPrice": _money(item.unit_price * item.quantity),
                "position": position,
            }
            for position, item in enumerate(given.items, start=1)
        ]
        data["stateMachineState"]["technicalName"] = order_state
        transaction = data["transactions"][0]
        transaction.update(id=f"{int(number) + 1:032x}", orderId=order_id)
        transaction["stateMachineState"]["technicalName"] = transaction_state
        self.orders[number] = data
        return code

    def status(self, number: str) -> str:
        return str(self.transaction(number)["stateMachineState"]["technicalName"])

    def notes(self, number: str) -> list[str]:
        custom = self.orders[number].get("customFields") or {}
        return str(custom.get("bluepaid_notes") or "").splitlines()

    def transaction(self, number: str) -> dict[str, Any]:
        return max(self.orders[number]["transactions"], key=lambda t: str(t["createdAt"]))

    def revoke_tokens(self) -> None:
        """Every token issued so far stops working, as when its 10 minutes are over."""
        self.tokens.clear()

    def webhook(self, number: str, event: str) -> tuple[dict[str, str], bytes]:
        """An app webhook for ``event`` on order ``number``, signed with the shop secret.

        As Shopware sends a business event (``src/Core/Framework/Webhook/WebhookDispatcher.php``
        and ``Handler/WebhookEventMessageHandler.php`` of shopware/shopware): ``data.payload``
        holds the event's data (for a state event, ``order``: the whole order entity),
        ``source`` the shop URL, its shop id, the app version and the event id, and a
        ``timestamp`` is added on sending; the headers are ``Content-Type``, ``sw-version``,
        the context language and user locale, and ``shopware-shop-signature``.
        """
        body = example("shopware-webhook-product-written.json")
        body["data"] = {"payload": {"order": self.orders[number]}, "event": event}
        raw = json.dumps(body).encode()
        return {
            "Content-Type": "application/json",
            "sw-version": "6.6.7.1",
            "sw-context-language": "2fbb5fe2e29a4d70aa5854ce7ce3e20b",
            "sw-user-language": "en-GB",
            "shopware-shop-signature": signature(raw, SHOP_SECRET),
        }, raw

    # Routes

    def _authenticated(self, handler: Any) -> Any:
        def checked(call: Call, match: Any) -> Reply:
            given = call.headers.get("authorization", "")
            if not given.startswith("Bearer ") or given.removeprefix("Bearer ") not in self.tokens:
                return error(401, "9", "The resource owner or authorization server denied the request.")
            return handler(call, match)

        return checked

    def token(self, call: Call, match: Any) -> Reply:
        body = call.json()
        if (
            body.get("grant_type") != "client_credentials"
            or (body.get("client_id"), body.get("client_secret")) != self.credentials
        ):
            return error(401, "10", "Client authentication failed")
        self.issued += 1
        self.issued_to.append(str(body["client_id"]))
        token = f"eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.token{self.issued}"
        self.tokens.add(token)
        return Reply(json={"token_type": "Bearer", "expires_in": 600, "access_token": token})

    def version(self, call: Call, match: Any) -> Reply:
        return Reply(json={"version": "6.5.8.8"})

    def search(self, call: Call, match: Any) -> Reply:
        criteria = call.json()
        numbers = [f["value"] for f in criteria.get("filter", []) if f.get("field") == "orderNumber"]
        found = [self.orders[n] for n in numbers if n in self.orders]
        body = json.dumps({"total": len(found), "data": found, "aggregations": []})
        return Reply(body=body, content_type="application/json")

    def _by_id(self, order_id: str) -> dict[str, Any] | None:
        return next((o for o in self.orders.values() if o["id"] == order_id), None)

    def patch_order(self, call: Call, match: Any) -> Reply:
        order = self._by_id(match["id"])
        if order is None:
            return error(404, "FRAMEWORK__ENTITY_NOT_FOUND", f"order with id {match['id']} not found")
        custom = call.json().get("customFields") or {}
        order["customFields"] = {**(order.get("customFields") or {}), **custom}
        return Reply(204)

    def transition(self, call: Call, match: Any) -> Reply:
        transaction = next(
            (t for o in self.orders.values() for t in o["transactions"] if t["id"] == match["id"]), None
        )
        if transaction is None:
            return error(404, "FRAMEWORK__ENTITY_NOT_FOUND", f"order_transaction {match['id']} not found")
        state = transaction["stateMachineState"]
        now, action = state["technicalName"], match["action"]
        allowed = TRANSITIONS.get(now, {})
        if DESTINATIONS.get(action) == now:
            target = now
        elif action in allowed:
            target = allowed[action]
        elif action == "cancel":
            target = "cancelled"
        else:
            possible = ", ".join(allowed)
            detail = f'Illegal transition "{action}" from state "{now}". Possible transitions are: {possible}'
            return error(400, "SYSTEM__ILLEGAL_STATE_TRANSITION", detail)
        state["technicalName"] = target
        return Reply(json={"technicalName": target, "name": target.title()})
