"""The WooCommerce connector: orders read and updated through the REST API v3.

Calls, under ``<base_url>/wp-json/wc/v3``, all authenticated with the consumer
key and secret (HTTP Basic over HTTPS, or in the query string where the server
drops the Authorization header):

- ``GET /orders/{id}``: the order (total, currency, status, ``order_key``,
  buyer, lines, refunds);
- ``GET /orders/{id}/notes``: its notes, to add ours once;
- ``PUT /orders/{id}`` with ``{"set_paid": true, "transaction_id": ...}`` and
  no ``status``: WooCommerce's own payment-complete step (stock, mails, the
  paid date) decides the status, as it does for its own gateways; a
  ``status`` alone for the other events;
- ``POST /orders/{id}/refunds`` with ``"api_refund": false``: records a refund
  Bluepaid made, without asking the order's gateway to refund it again;
- ``POST /orders/{id}/notes``: the event's note, carrying ``id_trans``;
- ``GET /system_status`` and ``POST /orders/0/notes`` (which writes nothing):
  for ``check_connection``.

A buyer proves they hold an order with its ``order_key`` (the ``key`` of
WooCommerce's own order-pay and order-received URLs).
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import requests

from bluepaid_plugins import (
    Capability,
    Connector,
    EventKind,
    Order,
    Ownership,
    PaymentEvent,
    Secret,
    StatusEvent,
    WebhookReply,
    WebhookRequest,
)
from bluepaid_plugins.errors import (
    OrderNotFound,
    Problem,
    ShopAuthFailed,
    ShopRefused,
    ValidationError,
)
from bluepaid_plugins.http import call_shop, safe_url
from bluepaid_plugins.webhooks import ShopChange
from connectors.woocommerce import webhooks
from connectors.woocommerce.orders import (
    REFUND_REASON,
    STATUSES,
    UnreadableOrder,
    WooOrder,
    hub_status,
    read_order,
)
from connectors.woocommerce.settings import SETTINGS

API_PATH = "/wp-json/wc/v3"

#: The status WooCommerce's payment-complete step gives an order (``completed``
#: instead for an order of virtual, downloadable products only).
PAID_BY_WOOCOMMERCE = "processing"

_REFUNDS = (EventKind.PARTIALLY_REFUNDED, EventKind.REFUNDED)

_KEY_NEEDED = (
    "make a key with Read/Write permissions, for a shop manager or administrator, in "
    "WooCommerce > Settings > Advanced > REST API"
)


class WooCommerceConnector(Connector):
    """WooCommerce REST API v3 (``/wp-json/wc/v3``), WooCommerce 3.5 and later."""

    id = "woocommerce"
    label = "WooCommerce"
    version = "1.0"
    contract = ">=1.0,<2"
    settings_schema = SETTINGS
    ownership = Ownership.SHOP_SECRET
    capabilities = frozenset({Capability.REFUNDS, Capability.PARTIAL_REFUNDS, Capability.WEBHOOKS})
    statuses: ClassVar[Mapping[str, str]] = {code: label for code, (label, _) in STATUSES.items()}
    # Statuses other plugins register ("shipped", "awaiting-shipment"), as the REST API writes them.
    custom_statuses = r"[a-z0-9][a-z0-9_-]*"
    # A refusal leaves the order payable ("failed" is, for WooCommerce too). A cancel
    # on the payment page is the buyer turning back, not the order being cancelled:
    # WooCommerce's "cancelled" would put the stock back and close the order, so it
    # is "failed" too, and the buyer can pay it later. A partial refund has no
    # status in WooCommerce: the refund is recorded, the status stays.
    default_status_mapping: ClassVar[Mapping[StatusEvent, str | None]] = {
        StatusEvent.PAID: PAID_BY_WOOCOMMERCE,
        StatusEvent.REFUSED: "failed",
        StatusEvent.CANCELLED: "failed",
        StatusEvent.PARTIALLY_REFUNDED: None,
        StatusEvent.REFUNDED: "refunded",
        StatusEvent.DEBIT_PAID: None,
        StatusEvent.DEBIT_REFUSED: None,
    }

    @classmethod
    def validate_settings(cls, raw: Mapping[str, Any]) -> dict[str, Any]:
        """The settings checked as every connector's are, and the shop URL an https one.

        WooCommerce takes API keys over HTTPS only (over plain HTTP it would
        want OAuth 1.0a signatures): an http:// URL could never work, and would
        send the keys in clear first.
        """
        clean = super().validate_settings(raw)
        if not str(clean["base_url"]).lower().startswith("https://"):
            problem = Problem(
                "base_url", "WooCommerce accepts API keys over HTTPS only: use the shop's https:// address"
            )
            raise ValidationError(problem, f"settings of connector {cls.id}")
        return clean

    def fetch_order(self, ref: str) -> Order:
        """Read order ``ref`` (its WooCommerce id) in one call.

        The total, currency and status come from the shop; ``Order.secret`` is
        the order's ``order_key``. A ref that is not an id is OrderNotFound
        without a call; errors are mapped by ``call_shop`` (404 OrderNotFound,
        401 and 403 ShopAuthFailed, 429, 5xx and timeouts ShopUnavailable); an
        answer that is not a readable order is ShopRefused.
        """
        return self._read_order(ref).order

    def apply_event(self, event: PaymentEvent) -> None:
        """Bring order ``event.order_ref`` in line with ``event``, writing only what is missing.

        Reads the order and its notes, then, in this order: records the refund
        (once: a refund whose reason names this event is there already), sets
        the status the mapping gives (see :meth:`_target_status`; "paid" through
        WooCommerce's payment-complete step), adds the note (once). A
        retry after a failure half-way writes the rest; the same event applied
        again writes nothing.
        """
        ref = event.order_ref
        found = self._read_order(ref)
        notes = self._notes(ref)
        if event.kind in _REFUNDS and not _refund_recorded(found, event):
            self._refund(found, event)
            # WooCommerce sets "refunded" itself when the refunds cover the total.
            found = self._read_order(ref)
        target = self._target_status(found, event)
        if target is not None:
            self._set_status(found, event, target)
        if not any(event.note in html.unescape(note) for note in notes):
            self._call(
                "POST", f"/orders/{ref}/notes", f"a note on order {ref}", json={"note": event.note}
            ).close()

    def check_connection(self) -> str:
        """Call ``GET /system_status``, then probe that the key may write; say which
        WooCommerce answered.

        401 means a wrong key or secret, 403 a key whose user may not manage WooCommerce,
        404 a wrong URL, WooCommerce not active or the REST API unreachable; then
        :meth:`_check_writes` tells a Read-only key, or a user who may not edit
        orders, from one that may mark orders paid.
        """
        what = "the shop's system status"
        try:
            data = self._get("/system_status", what, params={"_fields": "environment,settings"})
        except ShopAuthFailed as exc:
            raise ShopAuthFailed(f"{exc}. Check the consumer key and secret: {_KEY_NEEDED}") from None
        except OrderNotFound as exc:
            raise OrderNotFound(
                f"{exc}. No WooCommerce REST API at {safe_url(self._api_url(''))}: check the shop URL, "
                "that WooCommerce is active, and that WordPress permalinks are not 'Plain'"
            ) from None
        self._check_writes()
        environment, settings = (data.get(name) for name in ("environment", "settings"))
        environment = environment if isinstance(environment, dict) else {}
        settings = settings if isinstance(settings, dict) else {}
        version = str(environment.get("version") or "?")
        currency = str(settings.get("currency") or "?")
        return (
            f"WooCommerce {version} at {safe_url(self._base_url)}: API key accepted for reading and "
            f"writing orders, shop currency {currency}"
        )

    def _check_writes(self) -> None:
        """Probe, without writing anything, that the key may write orders.

        ``POST /orders/0/notes``: WooCommerce checks the key's Read/Write permission
        before it routes the request (401), then the user's right to create order
        notes (403), and only then looks for order 0, which never exists (404). So
        404 (or a 400 about the note) means the key may write, and nothing was
        written.
        """
        try:
            self._call(
                "POST", "/orders/0/notes", "a write check", json={"note": "Bluepaid connection check"}
            ).close()
        except ShopAuthFailed as exc:
            raise ShopAuthFailed(f"{exc}. The key may read but not write orders: {_KEY_NEEDED}") from None
        except ShopRefused:  # order 0 not found, or the note refused: the key may write
            return

    # Webhooks

    def handshake(self, request: WebhookRequest) -> WebhookReply | None:
        """Answer the ping WooCommerce sends when a webhook is created with 200, which
        is what it needs to keep the webhook active."""
        return WebhookReply(200, "OK") if webhooks.is_ping(request) else None

    def verify_webhook(self, request: WebhookRequest) -> bool:
        """Check ``X-WC-Webhook-Signature`` against the raw body and the webhook secret;
        without a webhook secret in the settings, every webhook is refused."""
        secret: Secret | None = self.settings.get("webhook_secret")
        return webhooks.is_signed_by(request, secret.reveal() if secret else "")

    def read_webhook(self, request: WebhookRequest) -> Sequence[ShopChange]:
        """What an order webhook says changed (see :func:`connectors.woocommerce.webhooks.changes`)."""
        return webhooks.changes(request)

    # Writing

    def _target_status(self, found: WooOrder, event: PaymentEvent) -> str | None:
        """The status ``event`` gives the order, or None to leave it as it is.

        Each event moves only an order in the state it is about: a payment an
        unpaid order (a paid one, perhaps "completed" and shipped already, stays
        where it is); a refusal or a cancel an order still waiting for its
        payment, so that a late one neither unpays an order another payment paid
        nor reopens one the merchant cancelled; a refund or a later debit a paid
        order.
        """
        target = self.status_for(event)
        if target is None or target == found.status:
            return None
        now = found.order.status
        key = event.status_event
        if key is StatusEvent.PAID:
            moves = not now.paid
        elif key in (StatusEvent.REFUSED, StatusEvent.CANCELLED):
            moves = now.payable
        else:
            moves = now.paid
        return target if moves else None

    def _set_status(self, found: WooOrder, event: PaymentEvent, target: str) -> None:
        ref = found.order.ref
        what = f"order {ref}"
        if event.status_event is StatusEvent.PAID:
            # Both set_paid and status at once would skip WooCommerce's payment-complete step.
            answer = self._call(
                "PUT", f"/orders/{ref}", what, json={"set_paid": True, "transaction_id": event.id_trans}
            )
            data = _json_object(answer, self.label, what)
            status = str(data.get("status", ""))
            # "processing" in the mapping means "what WooCommerce decides when paid". But
            # WooCommerce runs that step only for an order waiting for payment: one it
            # cancelled meanwhile (stock held too long) keeps its status, and is given
            # the mapped one below, as a status.
            if status == target or (target == PAID_BY_WOOCOMMERCE and hub_status(status, data).paid):
                return
        self._call("PUT", f"/orders/{ref}", what, json={"status": target}).close()

    def _refund(self, found: WooOrder, event: PaymentEvent) -> None:
        ref = found.order.ref
        body = {
            "amount": str(event.amount),
            # Names the event, so that a retry finds the refund made (see _refund_recorded).
            "reason": f"{REFUND_REASON} {event.id_trans} (event {event.id})",
            # WooCommerce must not ask the order's gateway to refund it: Bluepaid did.
            "api_refund": False,
        }
        what = f"a refund of order {ref}"
        self._call("POST", f"/orders/{ref}/refunds", what, json=body, refusal=_refund_refusal).close()

    # Reading

    def _read_order(self, ref: str) -> WooOrder:
        what = f"order {ref}"
        if not ref.isdigit() or not ref.isascii():
            # WooCommerce's ids are numbers; anything else would change the URL's path.
            raise OrderNotFound(f"{self.label} has no order {ref[:40]!r}: order ids are numbers")
        data = self._get(f"/orders/{ref}", what)
        try:
            return read_order(ref, data)
        except UnreadableOrder as exc:
            raise ShopRefused(
                f"{self.label} answered {what} in a form this connector cannot read: {exc}"
            ) from None

    def _notes(self, ref: str) -> list[str]:
        what = f"the notes of order {ref}"
        data = _json(self._call("GET", f"/orders/{ref}/notes", what, params={"type": "internal"}))
        if not isinstance(data, list):
            raise ShopRefused(f"{self.label} answered {what} with something that is not a list")
        return [str(note.get("note") or "") for note in data if isinstance(note, dict)]

    # The shop's API

    @property
    def _base_url(self) -> str:
        return str(self.settings["base_url"]).rstrip("/")

    def _api_url(self, path: str) -> str:
        return f"{self._base_url}{API_PATH}{path}"

    def _get(self, path: str, what: str, **kwargs: Any) -> dict[str, Any]:
        return _json_object(self._call("GET", path, what, **kwargs), self.label, what)

    def _call(self, method: str, path: str, what: str, **kwargs: Any) -> requests.Response:
        """One call to the REST API through the hub's safe session, with the keys, the
        timeout and the certificate check of the settings."""
        key: Secret = self.settings["consumer_key"]
        secret: Secret = self.settings["consumer_secret"]
        params = dict(kwargs.pop("params", None) or {})
        auth: tuple[str, str] | None = (key.reveal(), secret.reveal())
        if self.settings["keys_in_query"]:
            params.update(consumer_key=key.reveal(), consumer_secret=secret.reveal())
            auth = None
        return call_shop(
            self.context.http,
            method,
            self._api_url(path),
            label=self.label,
            what=what,
            params=params,
            auth=auth,
            headers={"Accept": "application/json"},
            timeout=self.settings["timeout"],
            verify=self.settings["verify_tls"],
            **kwargs,
        )


def _refund_recorded(found: WooOrder, event: PaymentEvent) -> bool:
    return any(f"(event {event.id})" in reason for reason in found.refund_reasons)


def _refund_refusal(response: requests.Response) -> str:
    """The shop's reason when a 500 to a refund is WooCommerce refusing it (more than is
    left to refund...), else empty: that is no outage, trying again would be refused again.

    The same code with "please try again" is WooCommerce failing to save the
    refund: that one may pass later.
    """
    data = _json(response) if response.status_code == 500 else None
    if not isinstance(data, dict) or data.get("code") != "woocommerce_rest_cannot_create_order_refund":
        return ""
    message = " ".join(str(data.get("message") or "").split())[:200]
    return "" if "try again" in message.lower() else message or "no reason given"


def _json(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None
    finally:
        response.close()


def _json_object(response: requests.Response, label: str, what: str) -> dict[str, Any]:
    data = _json(response)
    if not isinstance(data, dict):
        raise ShopRefused(
            f"{label} answered {what} with something that is not a JSON object "
            f"({safe_url(response.url)}); check the shop URL"
        )
    return data
