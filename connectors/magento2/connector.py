"""The Magento 2 connector: orders read and moved through the REST API.

Calls, under ``<base_url>/rest/<store_code>/V1``, each authenticated one of
three ways: signed with an integration's OAuth 1.0a keys (HMAC-SHA256); with
the integration's access token as a bearer token; or with an admin token the
connector asks for with the admin user's name and password
(``POST /integration/admin/token``; it lives 4 hours: cached across connector
instances, renewed shortly before it expires and once when the shop answers 401):

- ``GET /orders/{id}``: the order (total, currency, state, ``protect_code``,
  buyer, lines, refunds, comments);
- ``POST /order/{id}/invoice`` with ``"capture": false``: the order paid (an
  invoice of what Bluepaid took; ``true`` would ask the order's payment
  method to capture the money again);
- ``POST /order/{id}/refund``: an offline credit memo of the amount Bluepaid
  refunded (the order's own ``refund``, not the invoice's, which would ask the
  payment method to refund online);
- ``POST /orders/{id}/cancel``: when the mapping says ``canceled``;
- ``POST /orders/{id}/comments``: the event's note, carrying ``id_trans``, and
  the mapped status;
- ``GET /store/storeConfigs``: for ``check_connection``.

Magento has no "payment failed" state: a refusal or a cancel on the payment
page adds a comment and leaves the order payable, unless the mapping says
``canceled``. A buyer proves they hold an order with its ``protect_code``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, ClassVar

import requests
from requests_oauthlib import OAuth1  # type: ignore[import-untyped]

from bluepaid_plugins import (
    Capability,
    Connector,
    EventKind,
    Order,
    Ownership,
    PaymentEvent,
    Secret,
    StatusEvent,
)
from bluepaid_plugins.errors import OrderNotFound, Problem, ShopAuthFailed, ShopRefused, ValidationError
from bluepaid_plugins.http import call_shop, safe_url
from bluepaid_plugins.money import loads_exact
from bluepaid_plugins.tokens import BearerTokens
from connectors.magento2.orders import STATUSES, MagentoOrder, UnreadableOrder, read_order
from connectors.magento2.settings import SETTINGS

#: How long an admin token lives unless the store changed it (Stores > Configuration >
#: Services > OAuth > Access Token Expiration > Admin Token Lifetime: 4 hours).
ADMIN_TOKEN_LIFETIME = 4 * 3600.0

CANCELED = "canceled"
_OAUTH_KEYS = ("consumer_key", "consumer_secret", "access_token", "access_token_secret")
_REFUNDS = (EventKind.PARTIALLY_REFUNDED, EventKind.REFUNDED)


class MagentoConnector(Connector):
    """Magento Open Source and Adobe Commerce 2.3 and later, REST API ``/rest/<store>/V1``."""

    id = "magento2"
    label = "Magento 2"
    version = "1.0"
    contract = ">=1.2,<2"
    settings_schema = SETTINGS
    ownership = Ownership.SHOP_SECRET
    capabilities = frozenset({Capability.REFUNDS, Capability.PARTIAL_REFUNDS})
    statuses: ClassVar[Mapping[str, str]] = STATUSES
    # Statuses a merchant adds in Stores > Order Status, by code.
    custom_statuses = r"[a-z][a-z0-9_]*"
    # "processing" is what Magento gives an order it invoiced; "closed" one whose
    # payments were all refunded. A refusal or a cancel on the payment page leaves
    # the order as it is, payable, with a comment.
    default_status_mapping: ClassVar[Mapping[StatusEvent, str | None]] = {
        StatusEvent.PAID: "processing",
        StatusEvent.REFUSED: None,
        StatusEvent.CANCELLED: None,
        StatusEvent.PARTIALLY_REFUNDED: None,
        StatusEvent.REFUNDED: "closed",
        StatusEvent.DEBIT_PAID: None,
        StatusEvent.DEBIT_REFUSED: None,
    }

    @classmethod
    def validate_settings(cls, raw: Mapping[str, Any]) -> dict[str, Any]:
        """The settings checked as every connector's are; an https URL; and one way in:
        an integration access token, or an admin user name with its password."""
        clean = super().validate_settings(raw)
        problems = []
        if not str(clean["base_url"]).lower().startswith("https://"):
            problems.append(Problem("base_url", "the API credentials travel over HTTPS only: use https://"))
        admin = bool(clean.get("username")) and bool(clean.get("password"))
        oauth = all(clean.get(name) for name in _OAUTH_KEYS)
        bearer = bool(clean.get("access_token")) and not any(
            clean.get(name) for name in _OAUTH_KEYS if name != "access_token"
        )
        if [admin, oauth, bearer].count(True) != 1 or (admin and clean.get("access_token")):
            problems.append(
                Problem(
                    "access_token",
                    "give either the integration's four OAuth keys, or its access token alone, "
                    "or an admin username and password",
                )
            )
        if problems:
            raise ValidationError(problems, f"settings of connector {cls.id}")
        return clean

    def fetch_order(self, ref: str) -> Order:
        """Read order ``ref`` (its ``entity_id``) in one call (plus a token when none is cached).

        ``Order.secret`` is its ``protect_code``. Errors are mapped by
        ``call_shop`` (404 OrderNotFound; 401 after one renewed token, and 403,
        ShopAuthFailed; 429, 5xx and timeouts ShopUnavailable); an answer that is
        not a readable order is ShopRefused.
        """
        return self._read_order(ref).order

    def apply_event(self, event: PaymentEvent) -> None:
        """Bring order ``event.order_ref`` in line with ``event``, writing only what is missing.

        Reads the order, then: a payment invoices an unpaid order
        (``capture: false``); a refund makes an offline credit memo of its amount
        unless the order's refunded total already covers the event's; a mapping to
        ``canceled`` cancels a payable order; then the note, with the mapped
        status, is added once. A retry after a failure half-way writes the rest.
        """
        found = self._read_order(event.order_ref)
        ref = found.order.ref
        key = event.status_event
        now = found.order.status
        # As for every connector: a payment or a refusal moves only an order still waiting
        # for its payment, a refund only a paid one; otherwise the note alone is added.
        applies = now.paid if event.kind in _REFUNDS or key is StatusEvent.DEBIT_PAID else now.payable
        if key is StatusEvent.PAID and now.payable:
            body = {"capture": False, "notify": False}
            self._call("POST", f"/order/{ref}/invoice", f"an invoice of order {ref}", json=body).close()
        elif event.kind in _REFUNDS and now.paid and found.total_refunded < event.refunded_total.amount:
            self._refund(found, event)
        elif self.status_for(event) == CANCELED and now.payable:
            self._call("POST", f"/orders/{ref}/cancel", f"the cancel of order {ref}").close()
        if event.note not in found.comments:
            self._comment(found, event, applies)

    def check_connection(self) -> str:
        """Call ``GET /store/storeConfigs`` once and say which store answered.

        401 means a wrong token or admin password (or, for an integration token,
        a store that does not take it as a bearer token); 403 a user or
        integration without access to the store's configuration; 404 a wrong URL
        or store view code.
        """
        what = "the store configuration"
        try:
            data = self._parsed(self._call("GET", "/store/storeConfigs", what), what)
        except ShopAuthFailed as exc:
            raise ShopAuthFailed(
                f"{exc}. Check the integration's access token (and that Stores > Configuration > "
                "Services > OAuth allows it as a bearer token), or the admin user name and password"
            ) from None
        except OrderNotFound as exc:
            raise OrderNotFound(
                f"{exc}. No Magento REST API at {safe_url(self._api_url(''))}: check the shop URL and "
                "the store view code"
            ) from None
        stores = [s for s in data if isinstance(s, dict)] if isinstance(data, list) else []
        store = next((s for s in stores if s.get("code") == self.settings["store_code"]), None)
        store = store or (stores[0] if stores else {})
        currency = str(store.get("base_currency_code") or "?")
        return f"Magento 2 at {safe_url(self._base_url)}: token accepted, base currency {currency}"

    # Writing

    def _refund(self, found: MagentoOrder, event: PaymentEvent) -> None:
        """An offline credit memo of exactly the amount Bluepaid refunded.

        As Magento's ``RefundOrder`` reads it (magento/magento2
        ``app/code/Magento/Sales/Model/Order/CreditmemoDocumentFactory.php`` and
        ``CreditmemoFactory::createByOrder``): the lines listed at quantity 0 refund no
        line (an empty list would refund every line still unrefunded), ``shipping_amount``
        0 no shipping (left out, the shipping left), and the amount is an adjustment.
        Magento refuses such a credit memo once the order's shipping is all refunded
        ("You can't create a creditmemo without products", ``Creditmemo/Validation/
        QuantityValidator.php``): a permanent ShopRefused, the merchant records it by hand.
        """
        ref = found.order.ref
        if not found.item_ids:
            raise ShopRefused(
                f"{self.label} order {ref} has no lines: a credit memo without them would refund "
                "the whole order, not the amount Bluepaid refunded; record it by hand"
            )
        body = {
            "items": [{"order_item_id": item, "qty": 0} for item in found.item_ids],
            "notify": False,
            "arguments": {
                "shipping_amount": 0,
                "adjustment_positive": _number(event.amount.amount),
                "adjustment_negative": 0,
            },
        }
        self._call("POST", f"/order/{ref}/refund", f"a credit memo of order {ref}", json=body).close()

    def _comment(self, found: MagentoOrder, event: PaymentEvent, with_status: bool) -> None:
        ref = found.order.ref
        history: dict[str, Any] = {
            "comment": event.note,
            "is_customer_notified": 0,
            "is_visible_on_front": 0,
            "parent_id": int(ref),
        }
        target = self.status_for(event)
        if with_status and target is not None and target not in (CANCELED, found.status):
            history["status"] = target
        what = f"a comment on order {ref}"
        self._call("POST", f"/orders/{ref}/comments", what, json={"statusHistory": history}).close()

    # Reading

    def _read_order(self, ref: str) -> MagentoOrder:
        what = f"order {ref}"
        if not ref.isdigit() or not ref.isascii() or len(ref) > 18:
            # Magento's entity ids are numbers; anything else would change the URL's path.
            raise OrderNotFound(f"{self.label} has no order {ref[:40]!r}: order ids are numbers")
        data = self._parsed(self._call("GET", f"/orders/{ref}", what), what)
        try:
            return read_order(ref, data)
        except UnreadableOrder as exc:
            raise ShopRefused(
                f"{self.label} answered {what} in a form this connector cannot read: {exc}"
            ) from None

    # The shop's API

    @property
    def _base_url(self) -> str:
        return str(self.settings["base_url"]).rstrip("/")

    def _api_url(self, path: str) -> str:
        return f"{self._base_url}/rest/{self.settings['store_code']}/V1{path}"

    def _tokens(self) -> BearerTokens | None:
        """The admin token's keeper; None with an integration's keys, which do not expire."""
        if self.settings.get("access_token"):
            return None
        password: Secret = self.settings["password"]
        digest = hashlib.sha256(
            "\n".join((self._base_url, str(self.settings["username"]), password.reveal())).encode()
        ).hexdigest()
        return BearerTokens(self.context.tokens, f"{self.id}:{self.context.shop}:{digest}", self._admin_token)

    def _oauth(self) -> OAuth1:
        """The integration's OAuth 1.0a signature: over the method, the URL and its query
        (a JSON body is not signed, as the standard says), with HMAC-SHA256."""
        consumer: Secret = self.settings["consumer_secret"]
        token: Secret = self.settings["access_token"]
        token_secret: Secret = self.settings["access_token_secret"]
        return OAuth1(
            str(self.settings["consumer_key"]),
            client_secret=consumer.reveal(),
            resource_owner_key=token.reveal(),
            resource_owner_secret=token_secret.reveal(),
            signature_method="HMAC-SHA256",
        )

    def _admin_token(self) -> tuple[str, float]:
        password: Secret = self.settings["password"]
        body = {"username": str(self.settings["username"]), "password": password.reveal()}
        what = "an admin token"
        token = self._parsed(self._send("POST", "/integration/admin/token", what, None, json=body), what)
        if not isinstance(token, str) or not token:
            raise ShopRefused(f"{self.label} answered the request for {what} without a token")
        return token, ADMIN_TOKEN_LIFETIME

    def _call(self, method: str, path: str, what: str, **kwargs: Any) -> requests.Response:
        """One REST call with the bearer token; with an admin token refused by a 401, the
        token is renewed and the call made once more."""
        tokens = self._tokens()
        if tokens is None and self.settings.get("access_token_secret"):
            return self._send(method, path, what, None, auth=self._oauth(), **kwargs)
        if tokens is None:
            access: Secret = self.settings["access_token"]
            return self._send(method, path, what, access.reveal(), **kwargs)
        return tokens.call(lambda token: self._send(method, path, what, token, **kwargs))

    def _send(self, method: str, path: str, what: str, token: str | None, **kwargs: Any) -> requests.Response:
        headers = {"Accept": "application/json"}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        return call_shop(
            self.context.http,
            method,
            self._api_url(path),
            label=self.label,
            what=what,
            headers=headers,
            timeout=self.settings["timeout"],
            verify=self.settings["verify_tls"],
            explain=_magento_error,
            **kwargs,
        )

    def _parsed(self, response: requests.Response, what: str) -> Any:
        try:
            data = loads_exact(response.content)
        except ValueError:
            data = None
        finally:
            response.close()
        if data is None:
            raise ShopRefused(
                f"{self.label} answered {what} with something that is not JSON "
                f"({safe_url(response.url)}); check the shop URL"
            )
        return data


def _number(amount: Decimal) -> float:
    """An amount as the JSON number Magento reads. Exact: an amount of a currency (at most
    three decimals, twelve digits) is the shortest repr of the nearest float, so it is
    written with the same digits."""
    return float(amount)


def _magento_error(response: requests.Response) -> str:
    """Magento's ``message``, its ``%1`` or ``%name`` placeholders filled from ``parameters``."""
    try:
        data = response.json()
    except ValueError:
        return ""
    if not isinstance(data, dict) or not isinstance(data.get("message"), str):
        return ""
    message: str = data["message"]
    parameters = data.get("parameters")
    if isinstance(parameters, list):
        named = {str(i): value for i, value in enumerate(parameters, start=1)}
    else:
        named = {str(k): v for k, v in parameters.items()} if isinstance(parameters, dict) else {}
    for name in sorted(named, key=len, reverse=True):
        message = message.replace(f"%{name}", str(named[name]))
    return message
