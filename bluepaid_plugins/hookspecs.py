"""The hook specifications: what a plugin can do, and when the hub asks.

A plugin is any module or object with functions marked :data:`hookimpl` whose
names are the specs below, published through the ``bluepaid`` entry-point group::

    [project.entry-points.bluepaid]
    my_shop = "my_package.plugin"

Register-style hooks (``bluepaid_register_*``) receive a ``register`` callback so
that the host validates what is registered; they must not keep the callback.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import pluggy

from bluepaid_plugins.domain import Order, PaymentEvent, PaymentView, ShopView
from bluepaid_plugins.errors import Problem
from bluepaid_plugins.sources import OrderDesks

if TYPE_CHECKING:
    from bluepaid_plugins.connector import Connector, Mailer

PROJECT = "bluepaid"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def bluepaid_register_connectors(register: Callable[[type[Connector]], None]) -> None:
    """Register connector classes, one ``register(cls)`` call per class.

    Called once when the hub's plugin manager is built. ``cls`` must subclass
    :class:`~bluepaid_plugins.connector.Connector` with a unique ``id``; the hub
    refuses (and reports) a duplicate id or a class that is not a Connector.
    Implementations must not instantiate connectors or do I/O here.
    """


@hookspec
def bluepaid_payment_request(shop: ShopView, order: Order, fields: dict[str, str]) -> None:
    """Adjust or veto a payment request before the customer is sent to the platform.

    Called on every payment start, after the hub has computed the protocol
    variables and before it validates them again. ``fields`` is the mutable mapping of
    protocol variables (``montant``, ``divers``... see the protocol document);
    an implementation may add or change optional ones (``langue``,
    ``email_client``, ``pays_liv``...). Changing ``id_boutique``, ``montant``,
    ``devise``, ``divers`` or ``id_client`` is refused by the hub. To stop the
    payment, raise :class:`~bluepaid_plugins.errors.PaymentVetoed` with a reason
    the buyer may read. Must not do slow I/O: the buyer is waiting.
    """


@hookspec
def bluepaid_check_order(shop: ShopView, order: Order) -> str | None:
    """Coherence check before redirecting the buyer; return a reason to block.

    Called after the order is fetched from the shop and before a payment row is
    stored. Return ``None`` to let the payment go on, or a short reason (shown to
    the buyer, in their language if you can) to block it, for example a cart
    whose stock vanished. Must not change the order.
    """


@hookspec
def bluepaid_payment_event(shop: ShopView, payment: PaymentView, event: PaymentEvent, mail: Mailer) -> None:
    """React to a payment that changed state (mails, chat, accounting).

    ``mail`` (contract 1.2) is the hub's :class:`~bluepaid_plugins.connector.Mailer`:
    a plugin mailing the merchant (``shop.notify_email``) sends through it, over the
    SMTP server the hub's environment names; it returns False without one.

    Called once per state change, from the outbox worker, after the change is
    committed. ``event.kind`` is one of paid, refused, cancelled, refunded,
    partially_refunded, pending, or overcharged (money the buyer did not owe:
    tell the merchant to refund it); ``payment`` is a read-only view. Implementations
    must not change the payment or call the platform. A BluepaidError or an
    OSError (a network or mail server away) is logged against the outbox task
    and retried with backoff; any other exception is a bug: the task ends at
    once with its traceback kept. Neither undoes the state change. Each
    plugin's call is a task of its own, so one failing plugin never makes
    another run twice.
    """


@hookspec
def bluepaid_register_blueprints(register: Callable[..., None], orders: OrderDesks) -> None:
    """Register extra Flask blueprints: ``register(blueprint, url_prefix=None)``.

    Called once per app built by the hub's app factory. A blueprint must not
    shadow the hub's own routes (``/pay``, ``/confirm``, ``/return``); the hub
    refuses a name that is already registered. The hub's CSRF protection
    covers every POST of a plugin's pages.

    ``orders(connector_id)`` gives the :class:`~bluepaid_plugins.sources.OrderDesk`
    of an order source (a connector whose orders the hub keeps, like the
    built-in payment form): its pages read their shops and store orders
    through it, never through the hub's modules. Keep the desk for the
    blueprint's views; leave the argument out when the pages need no orders.
    """


@hookspec
def bluepaid_register_commands(register: Callable[[Any], None]) -> None:
    """Register extra ``bluepaid`` CLI commands: ``register(click_command)``.

    Called once when the CLI starts. The command's name must not be one of the
    hub's own; a clash is reported and the plugin's command skipped.
    """


@hookspec
def bluepaid_validate_settings(config: Mapping[str, Any]) -> list[Problem] | None:
    """Check the hub's configuration at startup; return the problems found.

    Called once by the app factory with the hub's config mapping (``BLUEPAID_*``
    values, secrets included: never log them). Return a list of
    :class:`~bluepaid_plugins.errors.Problem` (empty or ``None`` when all is
    well); any problem stops the hub with a clear message.
    """
