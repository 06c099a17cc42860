"""The pretix connector: orders read and payments recorded through the REST API v1.

Calls, under ``<base_url>/api/v1/organizers/{organizer}/events/{event}``, all
with ``Authorization: Token <api token>``:

- ``GET /``: the event (its currency: pretix orders carry none; its plugins,
  for ``check_connection``);
- ``GET /orders/{code}/``: the order (total, status, ``secret``, buyer,
  locale, payments, refunds);
- ``POST /orders/{code}/bluepaid/{local_id}/outcome/`` (a route of the pretix
  plugin): the outcome of the payment pretix's checkout started, ``confirmed``
  (pretix then marks the order paid, as for its own payment methods),
  ``failed`` or ``canceled``, with the transaction in its ``info``;
- ``POST /orders/{code}/payments/``: the same outcome as a payment of its own,
  provider ``bluepaid``, when the order holds no such payment to finish (the
  buyer paid through the hub's link again after a refusal, say), or the plugin
  refuses it (an older plugin, another amount);
- ``POST /orders/{code}/payments/{local_id}/cancel/``: once an order's payment
  is confirmed, any payment of ``bluepaid`` still ``created``, so that the admin
  shows no second payment waiting to be made;
- ``POST /orders/{code}/refunds/``: a ``done`` refund Bluepaid made, source
  ``external`` (pretix does not ask a payment provider to refund it again);
- ``POST /orders/{code}/mark_refunded/`` (a paid order, to "c"),
  ``/mark_canceled/``, ``/mark_expired/``, ``/mark_pending/``: the status the
  merchant's mapping asks for beyond what a payment does.

Every write carries ``X-Idempotency-Key``: pretix keeps the first answer to a
key (per API token) and gives it back to a retry, so a write whose answer was
lost is never recorded twice. pretix scopes a key to the token, not to the
URL, so each kind of write of one event has its own, and a retry never gets
the kept answer of another kind: ``event.id`` for the outcome of checkout's
payment or for the refund (the write that records money), ``event.id:new``
for a payment of its own (after an outcome pretix refused, whose 400 the key
``event.id`` keeps), ``event.id:cancel:{local_id}`` for a cancel,
``event.id:status`` for the status change.

The payments and refunds this connector writes are found again through the
``details`` the pretix plugin (``pretix-bluepaid``, in ``shop/``) gives back
from their ``info``: the transaction number and the hub's event id. A buyer
proves they hold an order with its ``secret`` (in pretix's own order URLs).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, ClassVar
from urllib.parse import urlsplit

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
)
from bluepaid_plugins.errors import (
    OrderNotFound,
    Problem,
    ShopAuthFailed,
    ShopRefused,
    ShopUnavailable,
    ValidationError,
)
from bluepaid_plugins.http import call_shop, safe_url
from connectors.pretix.orders import (
    CONFIRMED,
    PROVIDER,
    STATUSES,
    PretixOrder,
    UnreadableOrder,
    currency,
    read_order,
)
from connectors.pretix.settings import SETTINGS

#: The Django app name of the pretix plugin, as an event lists it among its plugins.
PLUGIN = "pretix_bluepaid"

#: The payment state each event records.
PAYMENT_STATES: Mapping[EventKind, str] = {
    EventKind.PAID: CONFIRMED,
    EventKind.REFUSED: "failed",
    EventKind.CANCELLED: "canceled",
}

_REFUNDS = (EventKind.PARTIALLY_REFUNDED, EventKind.REFUNDED)

#: The order action that moves an order from one status (first) to another, for the
#: statuses the mapping may ask for. None makes an order paid: only a confirmed
#: payment does (``mark_paid`` would add a manual payment of its own).
_ACTIONS: Mapping[tuple[str, str], str] = {
    ("n", "c"): "mark_canceled",
    ("n", "e"): "mark_expired",
    ("p", "c"): "mark_refunded",
    ("p", "n"): "mark_pending",
}

# pretix's order codes are upper-case letters and digits; a slug is what pretix allows in its URLs.
_CODE = re.compile(r"[A-Z0-9]{1,16}")
_SLUG = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9.-]{0,49}")
_LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


class PretixConnector(Connector):
    """pretix REST API v1, with the ``pretix-bluepaid`` plugin enabled on the event."""

    id = "pretix"
    label = "pretix"
    version = "1.0"
    contract = ">=1.0,<2"
    settings_schema = SETTINGS
    ownership = Ownership.SHOP_SECRET
    capabilities = frozenset({Capability.REFUNDS, Capability.PARTIAL_REFUNDS, Capability.IDEMPOTENCY_KEYS})
    statuses: ClassVar[Mapping[str, str]] = STATUSES
    # A refusal or a cancel on the payment page leaves the order pending, payable
    # again before it expires (the failed payment is recorded); the merchant may
    # map them to "c" to cancel it instead. A partial refund has no status in
    # pretix: the refund is recorded, the order stays paid. A full refund cancels
    # the order, as pretix's own "refund and cancel" does.
    default_status_mapping: ClassVar[Mapping[StatusEvent, str | None]] = {
        StatusEvent.PAID: "p",
        StatusEvent.REFUSED: None,
        StatusEvent.CANCELLED: None,
        StatusEvent.PARTIALLY_REFUNDED: None,
        StatusEvent.REFUNDED: "c",
        StatusEvent.DEBIT_PAID: None,
        StatusEvent.DEBIT_REFUSED: None,
    }

    @classmethod
    def validate_settings(cls, raw: Mapping[str, Any]) -> dict[str, Any]:
        """The settings checked as every connector's are; the URL an https one (http only
        for a pretix on the hub's own machine, where the token never leaves it), the
        organizer and event short forms as pretix writes them."""
        clean = super().validate_settings(raw)
        problems = []
        url = urlsplit(str(clean["base_url"]))
        if url.scheme != "https" and (url.hostname or "") not in _LOCAL_HOSTS:
            problems.append(
                Problem("base_url", "the API token must not travel in clear: use pretix's https:// address")
            )
        for name in ("organizer", "event"):
            if not _SLUG.fullmatch(str(clean[name])):
                problems.append(Problem(name, "a short form is letters, digits, dots and dashes"))
        if problems:
            raise ValidationError(problems, f"settings of connector {cls.id}")
        return clean

    def fetch_order(self, ref: str) -> Order:
        """Read order ``ref`` (its pretix code) and its event's currency, in two calls.

        The total, status and ``secret`` (``Order.secret``) come from the shop. A
        ref that is not an order code is OrderNotFound without a call; errors are
        mapped by ``call_shop`` (404 OrderNotFound, 401 and 403 ShopAuthFailed,
        429, 5xx and timeouts ShopUnavailable); an answer that is not a readable
        order is ShopRefused.
        """
        return self._read_order(ref).order

    def apply_event(self, event: PaymentEvent) -> None:
        """Bring order ``event.order_ref`` in line with ``event``, writing only what is missing.

        Reads the event and the order, then: records the payment (paid, refused,
        cancelled) or the refund of the event, unless the order lists one the hub
        wrote for it already; after a payment, cancels any payment of checkout
        still waiting (see :meth:`_cancel_waiting`); then sets the status the
        mapping gives (see :meth:`_status_action`). A retry after a failure half-way writes the rest;
        the same event applied again writes nothing. A paid event always records
        its confirmed payment, whatever the order's status: Bluepaid took the
        money, and pretix shows the organiser an order paid twice or cancelled
        since as one to refund.
        """
        found = self._read_order(event.order_ref)
        if found.written_by(event.id) is None and event.status_event is not None:
            if event.kind in _REFUNDS:
                self._refund(found, event)
            elif event.kind in PAYMENT_STATES:
                self._payment(found, event)
            else:
                return
            found = self._read_order(event.order_ref)
        if event.kind is EventKind.PAID:
            self._cancel_waiting(found, event)
        action = self._status_action(found, event)
        if action is not None:
            code = found.order.ref
            self._call(
                "POST",
                f"/orders/{code}/{action}/",
                f"the status of order {code}",
                # No mail of pretix's own: the hub's mail and the refund tell the buyer.
                json={"send_email": False},
                headers={"X-Idempotency-Key": f"{event.id}:status"},
            ).close()

    def check_connection(self) -> str:
        """Read the event once and say what was found.

        401 and 403 mean a wrong token or one of a team without access to the
        event; 404 a wrong URL, organizer or event. The event must have the
        Bluepaid plugin enabled: without it pretix would offer no way to pay and
        the hub could not find the payments it writes.
        """
        what = "the event"
        try:
            data = self._get("/", what)
        except ShopAuthFailed as exc:
            raise ShopAuthFailed(
                f"{exc}. Check the API token: one of a team with access to the event, allowed to view "
                "and change orders (Organizer > Teams)"
            ) from None
        except OrderNotFound as exc:
            raise OrderNotFound(
                f"{exc}. No pretix event at {safe_url(self._api_url('/'))}: check the pretix URL and "
                "the organizer's and the event's short forms"
            ) from None
        plugins = data.get("plugins")
        if not isinstance(plugins, list) or PLUGIN not in plugins:
            raise ShopRefused(
                f"{self.label} event {self.settings['event']} does not have the Bluepaid plugin enabled: "
                "install pretix-bluepaid, then enable it in the event's Settings > Plugins"
            )
        try:
            code = currency(data)
        except UnreadableOrder as exc:
            raise self._unreadable(what, exc) from None
        return (
            f"pretix event {self.settings['organizer']}/{self.settings['event']} at "
            f"{safe_url(self._base_url)}: API token accepted, currency {code}, Bluepaid plugin enabled"
        )

    # Writing

    def _payment(self, found: PretixOrder, event: PaymentEvent) -> None:
        """Record the outcome on the payment pretix's checkout started for it, else as a
        payment of its own: the order ends with one payment per attempt, carrying its
        transaction."""
        code = found.order.ref
        body = {
            "state": PAYMENT_STATES[event.kind],
            "amount": str(event.amount),
            "payment_date": event.occurred_at.isoformat(),
            "info": _info(event),
            # pretix's own mail: the order confirmation with the tickets, for a paid one.
            "send_email": event.kind is EventKind.PAID,
        }
        what = f"a payment of order {code}"
        waiting = found.waiting_payment(event.amount.amount)
        if waiting is not None:
            try:
                self._call(
                    "POST",
                    f"/orders/{code}/bluepaid/{waiting.local_id}/outcome/",
                    what,
                    json=body,
                    headers={"X-Idempotency-Key": event.id},
                ).close()
                return
            except ShopRefused as exc:
                # 404: a plugin without the route (or the payment gone); 400: the payment
                # is no longer waiting or is of another amount. The order was read just
                # now, so the payment below records the outcome all the same.
                if exc.status not in (400, 404):
                    raise
        self._call(
            "POST",
            f"/orders/{code}/payments/",
            what,
            json={**body, "provider": PROVIDER},
            headers={"X-Idempotency-Key": f"{event.id}:new"},
        ).close()

    def _cancel_waiting(self, found: PretixOrder, event: PaymentEvent) -> None:
        """Cancel the payments of Bluepaid checkout left waiting once the order has the
        confirmed payment of ``event``.

        Such a payment can no longer be paid (the hub refuses a paid order) but the
        admin would list it beside the confirmed one, with buttons to confirm it.
        Cancelling is pretix's own action for a payment that will not come; a
        payment that stopped waiting meanwhile (400) needs nothing.
        """
        if found.written_by(event.id) is None:
            return
        code = found.order.ref
        for waiting in found.all_waiting():
            try:
                self._call(
                    "POST",
                    f"/orders/{code}/payments/{waiting.local_id}/cancel/",
                    f"payment {waiting.local_id} of order {code}",
                    headers={"X-Idempotency-Key": f"{event.id}:cancel:{waiting.local_id}"},
                ).close()
            except ShopRefused as exc:
                if exc.status != 400:
                    raise

    def _refund(self, found: PretixOrder, event: PaymentEvent) -> None:
        code = found.order.ref
        paid = [p for p in found.payments if p.provider == PROVIDER and p.state == CONFIRMED]
        # The confirmed payment of the hub's payment this refund gives back, else the
        # order's last one of Bluepaid (a payment made before the plugin kept the hub's id).
        mine = [p for p in paid if p.payment == event.payment_id] or paid[-1:]
        body = {
            "state": "done",
            "source": "external",
            "amount": str(event.amount),
            "payment": mine[0].local_id if mine else None,
            "execution_date": event.occurred_at.isoformat(),
            "provider": PROVIDER,
            "comment": event.note,
            "info": _info(event),
        }
        what = f"a refund of order {code}"
        self._call(
            "POST", f"/orders/{code}/refunds/", what, json=body, headers={"X-Idempotency-Key": event.id}
        ).close()

    def _status_action(self, found: PretixOrder, event: PaymentEvent) -> str | None:
        """The order action that gives the order the status the mapping says for ``event``, or None.

        Each event moves only an order in the state it is about: a refusal or a
        cancel an order still pending (a late one neither unpays an order another
        payment paid nor touches one the organiser cancelled); a refund a paid
        order. A paid event needs none: its confirmed payment made the order paid.
        """
        target = self.status_for(event)
        action = _ACTIONS.get((found.status, target or ""))
        if action is None:
            return None
        key = event.status_event
        if key in (StatusEvent.REFUSED, StatusEvent.CANCELLED):
            moves = found.status == "n"
        elif key in (StatusEvent.PARTIALLY_REFUNDED, StatusEvent.REFUNDED):
            moves = found.status == "p"
        else:
            moves = False
        return action if moves else None

    # Reading

    def _read_order(self, ref: str) -> PretixOrder:
        what = f"order {ref}"
        if not _CODE.fullmatch(ref):
            # pretix's codes are letters and digits; anything else would change the URL's path.
            raise OrderNotFound(f"{self.label} has no order {ref[:40]!r}: order codes are letters and digits")
        try:
            code = currency(self._get("/", "the event"))
            return read_order(ref, self._get(f"/orders/{ref}/", what), code)
        except UnreadableOrder as exc:
            raise self._unreadable(what, exc) from None

    def _get(self, path: str, what: str) -> dict[str, Any]:
        response = self._call("GET", path, what)
        try:
            data = response.json()
        except ValueError:
            data = None
        finally:
            response.close()
        if not isinstance(data, dict):
            raise ShopRefused(
                f"{self.label} answered {what} with something that is not a JSON object "
                f"({safe_url(response.url)}); check the pretix URL"
            )
        return data

    def _unreadable(self, what: str, exc: UnreadableOrder) -> ShopRefused:
        return ShopRefused(f"{self.label} answered {what} in a form this connector cannot read: {exc}")

    @property
    def _base_url(self) -> str:
        return str(self.settings["base_url"]).rstrip("/")

    def _api_url(self, path: str) -> str:
        organizer, event = self.settings["organizer"], self.settings["event"]
        return f"{self._base_url}/api/v1/organizers/{organizer}/events/{event}{path}"

    def _call(self, method: str, path: str, what: str, **kwargs: Any) -> requests.Response:
        """One call to the REST API through the hub's safe session, with the token, the
        timeout and the certificate check of the settings."""
        token: Secret = self.settings["api_token"]
        headers = {
            "Accept": "application/json",
            "Authorization": f"Token {token.reveal()}",
            **kwargs.pop("headers", {}),
        }
        try:
            return call_shop(
                self.context.http,
                method,
                self._api_url(path),
                label=self.label,
                what=what,
                explain=_explain,
                headers=headers,
                timeout=self.settings["timeout"],
                verify=self.settings["verify_tls"],
                **kwargs,
            )
        except ShopRefused as exc:
            if exc.status != 409:
                raise
            # pretix's answer while another call with the same idempotency key runs: retry.
            raise ShopUnavailable(f"{exc}; will retry", retry_after=5, status=409) from None


def _info(event: PaymentEvent) -> dict[str, Any]:
    """What the hub writes in a payment's or refund's ``info``; the plugin gives it back in
    ``details`` (``payment``: the hub's payment, which a refund names)."""
    return {
        "id_trans": event.id_trans,
        "event": event.id,
        "payment": event.payment_id,
        "test": event.test,
        "note": event.note,
    }


def _explain(response: requests.Response) -> str:
    """pretix's reason in a DRF error body: ``detail``, else the first field's first message."""
    try:
        data = response.json()
    except ValueError:
        return ""
    if not isinstance(data, dict):
        return ""
    if isinstance(data.get("detail"), str):
        return str(data["detail"])
    for name, messages in data.items():
        if isinstance(messages, list) and messages and isinstance(messages[0], str):
            return f"{name}: {messages[0]}"
    return ""
