"""What the Bluepaid app in the shop sends the hub: its registration, signed payment calls
and webhooks.

Installing (or updating) the app, Shopware registers it at the manifest's
``registrationUrl`` (as in Shopware's app system and its app SDK,
``shopware/app-php-sdk``, ``RegistrationService``):

- ``GET <registrationUrl>?shop-id=..&shop-url=..&timestamp=..`` with
  ``shopware-app-signature``: the hex HMAC-SHA256, keyed with the manifest's
  app secret, of ``shop-id=<id>&shop-url=<url>&timestamp=<t>`` (the decoded
  values; other parameters are not signed). An app already registered gets
  ``shopware-shop-signature`` too, the same HMAC keyed with the shop secret.
  The answer is ``{"proof", "secret", "confirmation_url"}``: ``proof`` the
  HMAC, keyed with the app secret, of shop id + shop URL + app name; ``secret``
  a new shop secret;
- ``POST <confirmation_url>`` with the JSON ``apiKey``, ``secretKey``,
  ``timestamp``, ``shopUrl``, ``shopId`` (the Admin API credentials of the
  app's integration), signed with ``shopware-shop-signature`` keyed with that
  new secret (and, re-registering, ``shopware-shop-signature-previous`` keyed
  with the one in use).

From then on Shopware signs every request of the app with
``shopware-shop-signature``: the lower-case hex HMAC-SHA256 of the raw body,
keyed with the shop secret. Two kinds reach the hub's webhook URL of the shop:

- the ``pay`` call of the app's payment method (asynchronous flow): the body
  holds ``source``, ``order``, ``orderTransaction`` and ``returnUrl``; the hub
  answers ``{"redirectUrl": ...}``, its pay URL for the order with the order's
  ``deepLinkCode`` as proof, signed back with ``shopware-app-signature``. No
  ``status``: Shopware then moves the transaction to ``unconfirmed`` itself
  (6.5 and 6.6; 6.7 leaves it open) and sends the buyer to the URL
  (shopware/shopware ``src/Core/Framework/App/Payment/Handler/AppPaymentHandler.php``,
  ``Response/PaymentResponse.php``; before 6.6.5 ``AppAsyncPaymentHandler.php``);
- the ``finalize`` call, when a buyer comes back to the shop's ``returnUrl``
  (``source``, ``orderTransaction``, ``queryParameters``, no order). A return is
  no proof of payment: the hub moves the payment through the Admin API once
  Bluepaid confirms it, so the answer must leave the transaction as it is. An
  answer without ``status`` does not: before 6.6.2 Shopware reads it as
  ``paid`` (``AsyncFinalizeResponse``'s default), in 6.6 as
  ``process_unconfirmed``, illegal from most states, and a refused transition
  fails the payment. The answer is therefore the action that leads to the
  transaction's current state, which Shopware applies as no change at all
  (``StateMachineRegistry``: an "unnecessary transition", since 6.4.4): ``paid``
  for a paid one, ``process_unconfirmed`` for one still waiting; ``fail`` and
  ``cancel`` show the buyer the failure or the cancel the hub already wrote;
- the app's webhooks (``{"data": {"event": ..., "payload": ...}, "source": ...}``):
  an order cancelled or reopened in the admin.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence
from typing import Any

from bluepaid_plugins.webhooks import ShopChange, ShopChangeKind, WebhookReply, WebhookRequest
from connectors.shopware6.transitions import DEFAULT_ACTIONS

SHOP_SIGNATURE = "shopware-shop-signature"
APP_SIGNATURE = "shopware-app-signature"
PREVIOUS_SHOP_SIGNATURE = "shopware-shop-signature-previous"

#: The app's ``<name>`` in ``manifest.xml``: part of the registration proof.
APP_NAME = "BluepaidPayment"
#: The query parameters of the registration, signed in this order.
REGISTRATION_PARAMETERS = ("shop-id", "shop-url", "timestamp")
#: The fields of the registration's confirmation that carry the integration's credentials.
CREDENTIAL_FIELDS = frozenset({"apiKey", "secretKey"})

#: The order state events of the app's webhooks, and what they mean for the order's pay link.
_ORDER_EVENTS = {
    "state_enter.order.state.cancelled": (ShopChangeKind.CANCELLED, "cancelled in Shopware"),
    "state_enter.order.state.open": (ShopChangeKind.REOPENED, "reopened in Shopware"),
}


def signature(body: bytes, secret: str) -> str:
    """The signature Shopware (or the app, for an answer) sends for ``body`` with ``secret``."""
    return hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def is_signed_by(request: WebhookRequest, secret: str) -> bool:
    """Whether ``shopware-shop-signature`` is that of the raw body with ``secret``, compared
    in constant time; False without a secret or a signature."""
    return _is_hmac(request.header(SHOP_SIGNATURE), request.body, secret)


def _is_hmac(given: str, message: bytes, secret: str) -> bool:
    given = given.strip().lower()
    if not secret or not given:
        return False
    return hmac.compare_digest(given.encode("ascii", "replace"), signature(message, secret).encode())


def registration_call(request: WebhookRequest) -> dict[str, str] | None:
    """The ``shop-id``, ``shop-url`` and ``timestamp`` of a registration GET; None for any
    other request (one lacking any of them included)."""
    params = request.query_params() if request.method == "GET" else {}
    found = {name: params.get(name, "") for name in REGISTRATION_PARAMETERS}
    return found if all(found.values()) else None


def registration_message(params: Mapping[str, str]) -> bytes:
    """What Shopware signs for a registration: the three parameters, decoded, rebuilt."""
    return "&".join(f"{name}={params[name]}" for name in REGISTRATION_PARAMETERS).encode("utf-8")


def registration_signed(request: WebhookRequest, params: Mapping[str, str], app_secret: str) -> bool:
    """Whether ``shopware-app-signature`` is that of the registration with the app secret."""
    return _is_hmac(request.header(APP_SIGNATURE), registration_message(params), app_secret)


def registration_shop_signed(request: WebhookRequest, params: Mapping[str, str], shop_secret: str) -> bool:
    """Whether a re-registration's ``shopware-shop-signature``, when there is one, is that of
    the registration with the shop secret in use. No header (older Shopware, a first
    registration) or no shop secret kept: True, the app signature alone decides."""
    given = request.header(SHOP_SIGNATURE)
    return not given or not shop_secret or _is_hmac(given, registration_message(params), shop_secret)


def registration_proof(params: Mapping[str, str], app_secret: str) -> str:
    """The ``proof`` Shopware checks in the registration's answer."""
    return signature(f"{params['shop-id']}{params['shop-url']}{APP_NAME}".encode(), app_secret)


def confirmation_call(request: WebhookRequest) -> dict[str, str] | None:
    """The fields of the registration's confirmation POST (``apiKey``, ``secretKey``,
    ``shopId`` and, when given, ``shopUrl`` and ``timestamp``), or None for any other request."""
    data = _decoded(request) if request.method == "POST" else {}
    found = {k: data.get(k) for k in ("apiKey", "secretKey", "shopId", "shopUrl", "timestamp")}
    if not all(isinstance(found[k], str) and found[k] for k in ("apiKey", "secretKey", "shopId")):
        return None
    return {k: str(v) for k, v in found.items() if v is not None}


def confirmation_signed(request: WebhookRequest, pending_secret: str, shop_secret: str) -> bool:
    """Whether the confirmation is signed with the secret the registration handed out and,
    when Shopware sends ``shopware-shop-signature-previous``, with the one in use."""
    if not _is_hmac(request.header(SHOP_SIGNATURE), request.body, pending_secret):
        return False
    previous = request.header(PREVIOUS_SHOP_SIGNATURE)
    return not previous or not shop_secret or _is_hmac(previous, request.body, shop_secret)


def _decoded(request: WebhookRequest) -> dict[str, Any]:
    try:
        data = json.loads(request.body)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def pay_call(request: WebhookRequest) -> tuple[str, str] | None:
    """The order number and ``deepLinkCode`` of a ``pay`` call; None for any other request."""
    data = _decoded(request) if request.method == "POST" else {}
    order, transaction = data.get("order"), data.get("orderTransaction")
    if not isinstance(order, dict) or not isinstance(transaction, dict):
        return None
    return str(order.get("orderNumber") or ""), str(order.get("deepLinkCode") or "")


def finalize_call(request: WebhookRequest) -> str | None:
    """The transaction state of a ``finalize`` call of the asynchronous payment flow ("" when
    the body does not say it); None for any other request."""
    data = _decoded(request) if request.method == "POST" else {}
    transaction = data.get("orderTransaction")
    if not isinstance(transaction, dict) or "order" in data or "source" not in data:
        return None
    state = transaction.get("stateMachineState")
    return str(state.get("technicalName") or "") if isinstance(state, dict) else ""


def finalize_answer(state: str) -> dict[str, str]:
    """The ``finalize`` answer that leaves a transaction in ``state`` as it is: the action
    leading to that state (see the module's docstring). For a state the table does not
    know, ``process_unconfirmed``: the payment awaits Bluepaid's confirmation."""
    return {"status": DEFAULT_ACTIONS.get(state, "process_unconfirmed")}


def signed_reply(status: int, answer: Mapping[str, str], secret: str) -> WebhookReply:
    """A JSON answer to the app's call, signed with ``shopware-app-signature`` as Shopware
    checks it."""
    body = json.dumps(answer)
    headers = {APP_SIGNATURE: signature(body.encode("utf-8"), secret)} if secret else {}
    return WebhookReply(status, body, "application/json", headers)


def changes(request: WebhookRequest) -> Sequence[ShopChange]:
    """What an app webhook says changed for the hub; nothing for other events."""
    data = _decoded(request).get("data")
    if not isinstance(data, dict):
        return ()
    change = _ORDER_EVENTS.get(str(data.get("event") or ""))
    payload = data.get("payload")
    order = payload.get("order") if isinstance(payload, dict) else None
    number = order.get("orderNumber") if isinstance(order, dict) else None
    if change is None or not isinstance(number, str) or not number:
        return ()
    return (ShopChange(change[0], number, change[1]),)
