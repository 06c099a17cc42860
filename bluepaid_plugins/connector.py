"""The Connector base class: how the hub talks to one kind of shop software.

A connector class declares its identity, the contract versions it was written
for, a typed settings schema, its capabilities, how a buyer proves they hold
an order, the shop's statuses and a default status mapping. The hub checks
all of that when the class is registered, then builds one instance per shop
with that shop's validated settings and a :class:`ConnectorContext`.

Every method states when the hub calls it and which errors mean "retry"
(:class:`~bluepaid_plugins.errors.ShopUnavailable`) or "give up"
(:class:`~bluepaid_plugins.errors.ShopRefused` and its subclasses). Any other
exception is a bug in the connector: the buyer sees the hub's error page, and
an outbox task ends at once with the traceback kept for the merchant.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, ClassVar, Protocol

from bluepaid_plugins.domain import Order, OrderStatus, PaymentEvent, StatusEvent
from bluepaid_plugins.errors import ConfigurationError
from bluepaid_plugins.http import ShopSession
from bluepaid_plugins.settings import SettingField, public_settings, validate_settings
from bluepaid_plugins.tokens import MemoryTokenCache, TokenCache
from bluepaid_plugins.webhooks import ShopChange, WebhookReply, WebhookRequest


class Capability(StrEnum):
    """What a connector can do beyond fetching orders and marking them paid.

    The hub acts on them: no subscription is started through a connector
    without ``subscriptions``; a refund is told only to a connector with
    ``refunds`` (a partial one only with ``partial_refunds``), otherwise the
    payment is flagged for the merchant to refund in the shop by hand; the
    webhook URL answers only for a connector with ``webhooks``.
    ``idempotency_keys``: the shop's API takes the event id as an idempotency
    key, so a retried write can never be recorded twice; the conformance suite
    fails such a connector when a write retried after a failure does not carry
    ``event.id`` (as a header, a query parameter or a top-level body field).
    """

    REFUNDS = "refunds"
    PARTIAL_REFUNDS = "partial_refunds"
    SUBSCRIPTIONS = "subscriptions"
    WEBHOOKS = "webhooks"
    IDEMPOTENCY_KEYS = "idempotency_keys"


class Ownership(StrEnum):
    """How a buyer proves, in the pay URL, that they hold the order.

    ``shop_secret``: the shop's own per-order secret, which the connector puts
    in :attr:`Order.secret <bluepaid_plugins.domain.Order.secret>`.
    ``hub_token``: a token the hub signs (for order sources with no secret of
    their own: payment links, the built-in form and cart).
    """

    SHOP_SECRET = "shop_secret"  # noqa: S105 - a kind of proof, not a password
    HUB_TOKEN = "hub_token"  # noqa: S105


class OrderStore(Protocol):
    """Orders kept by the hub itself, for connectors that have no shop of their own
    (payment links, the built-in cart and form)."""

    def get(self, ref: str) -> Order | None:
        """The stored order with this ref, or None."""

    def set_status(self, ref: str, status: OrderStatus, note: str) -> bool:
        """Record a new status for the order, with a note for its history.

        Returns False, writing nothing, when the order already has that status
        and note (the same event applied again).
        """


class PayUrl(Protocol):
    """Builds the URL a buyer opens to pay an order of the context's shop."""

    def __call__(self, order_ref: str, proof: str = "") -> str: ...


def _no_hub(order_ref: str, proof: str = "") -> str:
    raise ConfigurationError("this connector context has no hub to build pay URLs")


class Mailer(Protocol):
    """The hub's mail (``context.mail``; contract 1.2): ``mail(to, subject, body)``.

    Hands a plain-text message from the hub's sender address to its mail server.
    Returns False, sending nothing, when the hub has no mail server; raises
    OSError when the server is away (the hub's task is retried). Meant for an
    order source telling its own buyer; never put a secret or card detail in it.
    """

    def __call__(self, to: str, subject: str, body: str) -> bool: ...


def _no_mail(to: str, subject: str, body: str) -> bool:
    return False


@dataclass(frozen=True)
class ConnectorContext:
    """What the hub lends a connector instance for one shop.

    ``http`` is a session whose calls time out and never follow a redirect to a
    private address (see :mod:`bluepaid_plugins.http`): make every call to
    the shop through it, with :func:`~bluepaid_plugins.http.call_shop`.
    ``orders`` is the hub's own order store for this shop. ``status_mapping``
    is the shop's mapping (the connector's defaults with the merchant's
    changes). ``pay_url(order_ref, proof)`` builds the URL a buyer opens to
    pay; with :attr:`Ownership.HUB_TOKEN` and no ``proof`` the hub signs one.
    ``tokens`` keeps the access tokens a shop hands out (see
    :mod:`bluepaid_plugins.tokens`) from one instance to the next: the hub
    lends one cache per process, shared by all its shops (key them by shop).
    ``mail`` is the hub's :class:`Mailer` (by default, outside a hub, one that
    sends nothing).
    """

    shop: str
    http: ShopSession
    orders: OrderStore
    status_mapping: Mapping[StatusEvent, str | None] = field(default_factory=dict)
    pay_url: PayUrl = field(default_factory=lambda: _no_hub)
    tokens: TokenCache = field(default_factory=MemoryTokenCache)
    mail: Mailer = field(default_factory=lambda: _no_mail)


class Connector:
    """Base class of every connector. Subclass it and register the subclass.

    Class attributes, checked when the class is registered:

    - ``id``: unique, lower case, stored in the database (never change it);
    - ``label``: the shop software's name, shown to merchants;
    - ``version``: the connector's own version;
    - ``contract``: the contract versions it was written for, as a version
      specifier (``">=1,<2"``); required, so that a connector written for
      another contract is refused with a clear message instead of failing later;
    - ``settings_schema``: a tuple of :class:`~bluepaid_plugins.settings.SettingField`;
    - ``capabilities``: a frozenset of :class:`Capability`;
    - ``ownership``: an :class:`Ownership` (default: the shop's own secret);
    - ``statuses``: the shop's order statuses the mapping may use, code to label;
    - ``custom_statuses``: a regular expression for the statuses a merchant may
      add or renumber in the shop beyond ``statuses`` (PrestaShop's state ids:
      ``[1-9][0-9]*``); a status it matches fully is accepted in the mapping, so
      a merchant can map an event to a state of their own. Empty: none;
    - ``default_status_mapping``: a shop status (or None: leave the order's
      status alone and only add the note) for each :class:`StatusEvent`;
    - ``webhook_secret_fields``: the top-level fields of a webhook's JSON body
      that carry credentials (an app's API keys at its registration). The hub
      stores a body holding one with their values replaced by ``"[redacted]"``
      (one it cannot read as a JSON object, not at all), and hands the
      connector the body as received only while the request lasts. Empty:
      bodies are stored as received. (Contract 1.3.)
    """

    id: ClassVar[str]
    label: ClassVar[str]
    version: ClassVar[str] = "0"
    contract: ClassVar[str]
    settings_schema: ClassVar[tuple[SettingField, ...]] = ()
    capabilities: ClassVar[frozenset[Capability]] = frozenset()
    ownership: ClassVar[Ownership] = Ownership.SHOP_SECRET
    statuses: ClassVar[Mapping[str, str]] = {}
    custom_statuses: ClassVar[str] = ""
    default_status_mapping: ClassVar[Mapping[StatusEvent, str | None]] = {}
    webhook_secret_fields: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, settings: Mapping[str, Any], context: ConnectorContext) -> None:
        self.settings = dict(settings)
        self.context = context
        self.status_mapping: dict[StatusEvent, str | None] = {
            **self.default_status_mapping,
            **context.status_mapping,
        }

    @classmethod
    def validate_settings(cls, raw: Mapping[str, Any]) -> dict[str, Any]:
        """Check and coerce raw settings; raise ValidationError listing every problem.

        Unknown names are refused too, so a typo never passes silently. Secret
        values come back as :class:`~bluepaid_plugins.settings.Secret`.
        """
        return validate_settings(cls.settings_schema, raw, cls.id)

    @classmethod
    def public_settings(cls, settings: Mapping[str, Any]) -> dict[str, Any]:
        """``settings`` with every secret value masked, for display and logs."""
        return public_settings(cls.settings_schema, settings)

    def status_for(self, event: PaymentEvent) -> str | None:
        """The shop status this shop's mapping gives ``event``; None: leave it alone."""
        key = event.status_event
        return None if key is None else self.status_mapping.get(key)

    def fetch_order(self, ref: str) -> Order:
        """Return the shop's order ``ref``, with its total as the shop computes it.

        Called when a buyer opens a pay link, while the buyer waits: make as few
        calls as the shop's API allows (one or two for a REST API that embeds the
        buyer and the lines; PrestaShop's webservice, with no joins, needs one per
        resource), each asking only for the fields it maps. Map the shop's state to an
        :class:`~bluepaid_plugins.domain.OrderStatus` (the hub starts a payment
        only for a payable one) and, with :attr:`Ownership.SHOP_SECRET`, fill
        ``Order.secret``. Raise OrderNotFound when the shop has no such order,
        ShopUnavailable when it cannot answer now, ShopAuthFailed when it
        refuses the credentials.
        """
        raise NotImplementedError

    def apply_event(self, event: PaymentEvent) -> None:
        """Bring the shop's order ``event.order_ref`` in line with ``event``.

        Called from the outbox worker, after the state change is committed,
        never while a buyer or the platform waits; retried until it succeeds.
        Read before write: an order already in the target state (see
        :meth:`status_for`) with this event's note counts as done, never as an
        error and never written twice. Put ``event.note`` (it carries
        ``id_trans``) in the order's history; pass ``event.id`` as the
        idempotency key where the shop's API takes one. Raise ShopUnavailable
        to be retried with backoff, ShopRefused (or a subclass) to stop: the
        task is then dead and shown to the merchant.
        """
        raise NotImplementedError

    def check_connection(self) -> str:
        """Call the shop once with the settings and say, in one line, what was found.

        Called by ``bluepaid shop add`` and ``bluepaid shop check``. Return a
        short success message ("WooCommerce 8.9 at https://shop.example, API
        key accepted"); raise ShopAuthFailed for refused credentials,
        OrderNotFound or ShopRefused for a wrong URL or a disabled API,
        ShopUnavailable when the shop does not answer, each saying what to fix.
        The default, for connectors with no remote shop, has nothing to check.
        """
        return f"{self.label}: nothing to check, the orders are kept by the hub"

    def handshake(self, request: WebhookRequest) -> WebhookReply | None:
        """Recognise the shop's handshake when a webhook is created; return its answer.

        Called first for every webhook request of a connector with
        ``webhooks``. Return None for anything that is not a handshake. A
        handshake changes nothing, so it may be unsigned (WooCommerce's ping is).
        """
        return None

    def verify_webhook(self, request: WebhookRequest) -> bool:
        """Return True if ``request`` really comes from the shop.

        Check a signature over the raw ``request.body`` with a secret from the
        settings, in constant time. A request refused here is recorded and
        answered 401; the default refuses every webhook.
        """
        return False

    def read_webhook(self, request: WebhookRequest) -> Sequence[ShopChange]:
        """What a verified webhook says changed, as :class:`~bluepaid_plugins.webhooks.ShopChange` values.

        Return an empty sequence for a webhook that changes nothing the hub
        cares about. Must not call the shop while the shop waits for the answer.
        """
        return ()
