"""The Shopware 6 connector: orders read and moved through the Admin API.

Calls, under ``<base_url>/api``, each with a bearer token of the integration
(OAuth client credentials, ``POST /api/oauth/token``; a token lives 10
minutes: it is cached across connector instances, renewed shortly before it
expires and once when the shop answers 401), and ``Accept: application/json``
for plain JSON rather than JSON:API:

- ``POST /search/order``: the order by its number, with its currency, buyer,
  lines, addresses, states and payment transactions embedded;
- ``POST /_action/order_transaction/{id}/state/{action}``: the payment's
  state, through Shopware's state machine (``paid`` or ``pay``, ``fail``,
  ``cancel``, ``refund``, ``refund_partially``, ``reopen``: see
  :mod:`connectors.shopware6.transitions`); a transition the state machine
  refuses is a permanent error (400), never retried;
- ``PATCH /order/{id}``: the event's note, in the order's custom field
  ``bluepaid_notes``;
- ``GET /_info/version``: for ``check_connection``.

The order's ref is its order number (what merchant and buyer see); a buyer
proves they hold it with its ``deepLinkCode`` (the key of Shopware's own
links to a guest's order).
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import requests

from bluepaid_plugins import (
    Capability,
    Connector,
    Order,
    OrderStatus,
    Ownership,
    PaymentEvent,
    Secret,
    StatusEvent,
    WebhookReply,
    WebhookRequest,
)
from bluepaid_plugins.errors import (
    ConfigurationError,
    OrderNotFound,
    Problem,
    ShopAuthFailed,
    ShopRefused,
    ValidationError,
)
from bluepaid_plugins.http import call_shop, safe_url
from bluepaid_plugins.money import loads_exact
from bluepaid_plugins.tokens import BearerTokens
from bluepaid_plugins.webhooks import ShopChange
from connectors.shopware6 import app
from connectors.shopware6.orders import (
    ASSOCIATIONS,
    NOTES_FIELD,
    TRANSACTION_STATES,
    ShopwareOrder,
    UnreadableOrder,
    read_order,
)
from connectors.shopware6.settings import SETTINGS
from connectors.shopware6.transitions import path as transition_path

API_PATH = "/api"

#: How long after a new registration the previous shop secret still signs Shopware's calls
#: (requests already on their way): one minute, as the official app SDK allows
#: (shopware/app-php-sdk ``src/Authentication/DualSignatureRequestVerifier.php``,
#: ``INFLIGHT_ALLOWANCE``; set in ``src/Registration/RegistrationService.php``'s ``registerConfirm``).
PREVIOUS_SECRET_SECONDS = 60


class ShopwareConnector(Connector):
    """Shopware 6 Admin API (``/api``), Shopware 6.4 and later, with the Bluepaid app."""

    id = "shopware6"
    label = "Shopware 6"
    version = "1.0"
    contract = ">=1.3,<2"
    settings_schema = SETTINGS
    ownership = Ownership.SHOP_SECRET
    capabilities = frozenset({Capability.REFUNDS, Capability.PARTIAL_REFUNDS, Capability.WEBHOOKS})
    # The registration's confirmation carries the integration's credentials.
    webhook_secret_fields = app.CREDENTIAL_FIELDS
    statuses: ClassVar[Mapping[str, str]] = {code: label for code, (label, _) in TRANSACTION_STATES.items()}
    # States a plugin adds to the order_transaction state machine, by technical name.
    custom_statuses = r"[a-z][a-z0-9_]*"
    # A buyer's cancel on the payment page is what Shopware itself records when a buyer
    # turns back from a provider: the transaction "cancelled", the order still open.
    default_status_mapping: ClassVar[Mapping[StatusEvent, str | None]] = {
        StatusEvent.PAID: "paid",
        StatusEvent.REFUSED: "failed",
        StatusEvent.CANCELLED: "cancelled",
        StatusEvent.PARTIALLY_REFUNDED: "refunded_partially",
        StatusEvent.REFUNDED: "refunded",
        StatusEvent.DEBIT_PAID: None,
        StatusEvent.DEBIT_REFUSED: None,
    }

    @classmethod
    def validate_settings(cls, raw: Mapping[str, Any]) -> dict[str, Any]:
        """The settings checked as every connector's are, and the shop URL an https one:
        the client secret and every token travel in the calls."""
        clean = super().validate_settings(raw)
        if not str(clean["base_url"]).lower().startswith("https://"):
            problem = Problem("base_url", "the Admin API credentials travel over HTTPS only: use https://")
            raise ValidationError(problem, f"settings of connector {cls.id}")
        return clean

    def fetch_order(self, ref: str) -> Order:
        """Read the order numbered ``ref`` in one search call (plus a token when none is cached).

        ``Order.secret`` is its ``deepLinkCode``. No such order is OrderNotFound;
        errors are mapped by ``call_shop`` (401 after one renewed token and 403
        ShopAuthFailed, 429, 5xx and timeouts ShopUnavailable); an answer that is
        not a readable order is ShopRefused.
        """
        return self._read_order(ref).order

    def apply_event(self, event: PaymentEvent) -> None:
        """Bring order ``event.order_ref`` in line with ``event``, writing only what is missing.

        Reads the order, moves its payment transaction to the state the mapping
        gives (see :meth:`_target_state`), then adds the note to the order's
        ``bluepaid_notes`` once. A state already reached and a note already there
        are not written again; a transition Shopware refuses is ShopRefused.
        """
        found = self._read_order(event.order_ref)
        target = self._target_state(found, event)
        if target is not None:
            self._transition(found, target)
        if event.note not in found.notes:
            notes = "\n".join((*found.notes, event.note))
            what = f"the notes of order {found.order.ref}"
            body = {"customFields": {NOTES_FIELD: notes}}
            self._call("PATCH", f"/order/{found.id}", what, json=body).close()

    def check_connection(self) -> str:
        """Obtain a token and call ``GET /_info/version`` once; say which Shopware answered.

        401 means a wrong access key ID or secret; 404 a wrong URL (or no
        Shopware 6 there).
        """
        what = "the shop's version"
        try:
            data = self._json(self._call("GET", "/_info/version", what), what)
        except ShopAuthFailed as exc:
            raise ShopAuthFailed(
                f"{exc}. Check the access key ID and secret access key of the integration "
                "made in Settings > System > Integrations"
            ) from None
        except OrderNotFound as exc:
            raise OrderNotFound(
                f"{exc}. No Shopware 6 Admin API at {safe_url(self._api_url(''))}: check the shop URL"
            ) from None
        version = str(data.get("version") or "?")
        return f"Shopware {version} at {safe_url(self._base_url)}: integration credentials accepted"

    # The app: its payment calls and webhooks

    def handshake(self, request: WebhookRequest) -> WebhookReply | None:
        """Answer the app's registration and its confirmation, the ``pay`` call of the app's
        payment method with the hub's pay URL, and its ``finalize`` call with the status that
        leaves the transaction as it is (a return proves nothing; see :mod:`connectors.shopware6.app`).

        Registration (see :mod:`connectors.shopware6.app`): a GET signed with the app
        secret is answered with the proof, a new shop secret (kept as
        ``pending_shop_secret``) and the hub's webhook URL as confirmation URL; the
        confirmation POST signed with that secret makes it the ``shop_secret`` and
        the integration's ``apiKey``/``secretKey`` the Admin API credentials,
        replacing any earlier ones (Shopware registers again on every app update).
        The pay and finalize calls are signed with the shop secret (or, for a minute
        after a new registration, the previous one). Whatever is unsigned or wrongly
        signed is answered 401 and changes nothing.
        """
        registration = app.registration_call(request)
        if registration is not None:
            return self._register(request, registration)
        confirmation = app.confirmation_call(request)
        if confirmation is not None:
            return self._confirm(request, confirmation)
        called = app.pay_call(request)
        finalized = app.finalize_call(request) if called is None else None
        if called is None and finalized is None:
            return None
        if not self._signed_by_shop(request):
            return WebhookReply(401, "signature missing or wrong")
        # The answer is signed with the secret Shopware now holds.
        secret = self._secret("shop_secret")
        if called is None:
            return app.signed_reply(200, app.finalize_answer(finalized or ""), secret)
        number, proof = called
        if not number or not proof:
            answer = {"message": "the order has no number or deep link code"}
            return app.signed_reply(400, answer, secret)
        return app.signed_reply(200, {"redirectUrl": self.context.pay_url(number, proof)}, secret)

    def _register(self, request: WebhookRequest, params: Mapping[str, str]) -> WebhookReply:
        app_secret = self._secret("app_secret")
        if not app.registration_signed(request, params, app_secret) or not app.registration_shop_signed(
            request, params, self._secret("shop_secret")
        ):
            return WebhookReply(401, "signature missing or wrong")
        if not request.url:
            raise ConfigurationError(
                f"{self.label}: the hub gave no webhook URL to confirm the registration at"
            )
        pending = secrets.token_urlsafe(32)
        answer = {
            "proof": app.registration_proof(params, app_secret),
            "secret": pending,
            "confirmation_url": request.url,
        }
        return WebhookReply(
            200, json.dumps(answer), "application/json", settings={"pending_shop_secret": pending}
        )

    def _confirm(self, request: WebhookRequest, fields: Mapping[str, str]) -> WebhookReply:
        pending, current = self._secret("pending_shop_secret"), self._secret("shop_secret")
        if not app.confirmation_signed(request, pending, current):
            return WebhookReply(401, "signature missing or wrong")
        settings = {
            "client_id": fields["apiKey"],
            "client_secret": fields["secretKey"],
            "shop_secret": pending,
            "pending_shop_secret": "",
        }
        if current and current != pending:
            # Calls Shopware signed with the old secret may still be on their way.
            settings |= {"previous_shop_secret": current, "secrets_rotated_at": str(int(time.time()))}
        return WebhookReply(204, "", settings=settings)

    def _signed_by_shop(self, request: WebhookRequest) -> bool:
        """Whether Shopware signed ``request`` with the shop secret or, for a minute after a
        new registration replaced it, with the previous one."""
        if app.is_signed_by(request, self._secret("shop_secret")):
            return True
        rotated_at = self.settings.get("secrets_rotated_at")
        recent = rotated_at is not None and time.time() < rotated_at + PREVIOUS_SECRET_SECONDS
        return recent and app.is_signed_by(request, self._secret("previous_shop_secret"))

    def verify_webhook(self, request: WebhookRequest) -> bool:
        """Check ``shopware-shop-signature`` against the raw body and the shop secret of the
        app's registration (or, for a minute after a new registration, the previous one);
        before a registration, every webhook is refused."""
        return self._signed_by_shop(request)

    def read_webhook(self, request: WebhookRequest) -> Sequence[ShopChange]:
        """What an app webhook says changed (see :func:`connectors.shopware6.app.changes`)."""
        return app.changes(request)

    # Writing

    def _target_state(self, found: ShopwareOrder, event: PaymentEvent) -> str | None:
        """The transaction state ``event`` gives the order, or None to leave it.

        As for every connector: a payment moves an unpaid order, a refusal or a
        cancel only an order still waiting for its payment, a refund a paid one.
        """
        target = self.status_for(event)
        if target is None or target == found.transaction_state:
            return None
        now = found.order.status
        key = event.status_event
        if key is StatusEvent.PAID:
            moves = not now.paid and now is not OrderStatus.CANCELLED
        elif key in (StatusEvent.REFUSED, StatusEvent.CANCELLED):
            moves = now.payable
        else:
            moves = now.paid
        return target if moves else None

    def _transition(self, found: ShopwareOrder, target: str) -> None:
        """Move the transaction to ``target`` by the actions Shopware's state machine has for
        it (see :mod:`connectors.shopware6.transitions`): ``pay`` from reminded, ``paid``
        from unconfirmed, ``reopen`` first where only the open state leads on."""
        actions = transition_path(found.transaction_state, target)
        if actions is None:
            raise ShopRefused(
                f"{self.label}: no state machine action is known to reach state {target!r}; "
                "change the status mapping of this shop"
            )
        for action in actions:
            self._action(found, action)

    def _action(self, found: ShopwareOrder, action: str) -> None:
        what = f"the payment state of order {found.order.ref} ({action})"
        path = f"/_action/order_transaction/{found.transaction_id}/state/{action}"
        self._call("POST", path, what, json={}).close()

    # Reading

    def _read_order(self, ref: str) -> ShopwareOrder:
        what = f"order {ref}"
        if not ref or len(ref) > 64 or not ref.isprintable():
            raise OrderNotFound(f"{self.label} has no order {ref[:40]!r}")
        criteria = {
            "filter": [{"type": "equals", "field": "orderNumber", "value": ref}],
            "limit": 1,
            "associations": ASSOCIATIONS,
        }
        data = self._json(self._call("POST", "/search/order", what, json=criteria), what)
        found = data.get("data")
        if not isinstance(found, list):
            raise ShopRefused(f"{self.label} answered the search for {what} without a list of orders")
        if not found:
            raise OrderNotFound(f"{self.label} has no order numbered {ref!r}; check the reference")
        try:
            return read_order(ref, found[0])
        except UnreadableOrder as exc:
            raise ShopRefused(
                f"{self.label} answered {what} in a form this connector cannot read: {exc}"
            ) from None

    # The shop's API

    @property
    def _base_url(self) -> str:
        return str(self.settings["base_url"]).rstrip("/")

    def _api_url(self, path: str) -> str:
        return f"{self._base_url}{API_PATH}{path}"

    def _secret(self, name: str) -> str:
        secret: Secret | None = self.settings.get(name)
        return secret.reveal() if secret else ""

    def _credentials(self) -> tuple[str, str]:
        """The integration's access key ID and secret; ShopAuthFailed before there are any."""
        client_id, client_secret = self._secret("client_id"), self._secret("client_secret")
        if not client_id or not client_secret:
            raise ShopAuthFailed(
                f"{self.label}: no Admin API credentials yet. Install the Bluepaid app in the shop "
                "(its registration hands them over), or give an integration's access key ID and secret"
            )
        return client_id, client_secret

    def _tokens(self) -> BearerTokens:
        client_id, client_secret = self._credentials()
        # New credentials or another shop URL never reuse a token of the old ones.
        digest = hashlib.sha256("\n".join((self._base_url, client_id, client_secret)).encode()).hexdigest()
        return BearerTokens(self.context.tokens, f"{self.id}:{self.context.shop}:{digest}", self._new_token)

    def _new_token(self) -> tuple[str, float]:
        """``POST /api/oauth/token`` with the client credentials: a token and its lifetime."""
        client_id, client_secret = self._credentials()
        body = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": client_secret}
        what = "an access token"
        data = self._json(self._send("POST", "/oauth/token", what, None, json=body), what)
        token, lifetime = data.get("access_token"), data.get("expires_in")
        if not isinstance(token, str) or not token or not isinstance(lifetime, int) or lifetime <= 0:
            raise ShopRefused(f"{self.label} answered the request for {what} without a token")
        return token, float(lifetime)

    def _call(self, method: str, path: str, what: str, **kwargs: Any) -> requests.Response:
        """One Admin API call with a bearer token; on a 401 the token is renewed and the
        call made once more."""
        tokens = self._tokens()
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
            explain=_shopware_error,
            **kwargs,
        )

    def _json(self, response: requests.Response, what: str) -> dict[str, Any]:
        try:
            data = loads_exact(response.content)
        except ValueError:
            data = None
        finally:
            response.close()
        if not isinstance(data, dict):
            raise ShopRefused(
                f"{self.label} answered {what} with something that is not a JSON object "
                f"({safe_url(response.url)}); check the shop URL"
            )
        return data


def _shopware_error(response: requests.Response) -> str:
    """Shopware's own words for an error: the ``detail`` (else ``title``) of its first
    error, with its code (``FRAMEWORK__...``), or "" when the body has none."""
    try:
        data = response.json()
    except ValueError:
        return ""
    errors = data.get("errors") if isinstance(data, dict) else None
    first = errors[0] if isinstance(errors, list) and errors and isinstance(errors[0], dict) else {}
    text = str(first.get("detail") or first.get("title") or "")
    code = str(first.get("code") or "")
    return f"{text} ({code})" if text and code else text
