"""What the hub lends the pages of an order source: the built-in payment form and cart.

An order source is a connector whose orders the hub keeps (its ``ownership`` is
:attr:`~bluepaid_plugins.connector.Ownership.HUB_TOKEN`) and which also serves
pages to buyers through :func:`~bluepaid_plugins.hookspecs.bluepaid_register_blueprints`.
Those pages never import the hub: they get an :class:`OrderDesk` for their own
connector from the hook's ``orders`` argument, and through it read the shop,
store orders and send the buyer to the hub's pay URL.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from bluepaid_plugins.connector import Connector, Ownership
from bluepaid_plugins.db import Database
from bluepaid_plugins.domain import Customer, LineItem, Order, OrderStatus, PaymentEvent, ShopView
from bluepaid_plugins.errors import OrderNotFound
from bluepaid_plugins.money import Money


class OrderDesk(Protocol):
    """The hub's counter for one order-source connector's shops.

    Every method takes a shop's slug and answers only for shops whose connector
    is the desk's: another shop is as unknown as a missing one, so a page of one
    connector can neither read nor create orders of another's shops.
    """

    def shop(self, slug: str) -> ShopView | None:
        """The shop ``slug``, or None when there is none of this desk's connector."""

    def settings(self, slug: str) -> Mapping[str, Any]:
        """The shop's connector settings, validated and typed; secret ones left out.

        Raises :class:`~bluepaid_plugins.errors.NotFound` for a shop that
        :meth:`shop` does not know.
        """

    def create_order(
        self,
        slug: str,
        total: Money,
        *,
        description: str = "",
        customer: Customer | None = None,
        language: str = "",
        lines: Sequence[LineItem] = (),
        details: Mapping[str, str] | None = None,
        client: str = "",
        once: str = "",
    ) -> str:
        """Store a new open order of ``total`` in the hub's order store; return its ref.

        ``total`` must have been computed on the server (never read from the
        browser). ``language`` is a protocol code (``FR``, ``EN``) or empty;
        ``customer.country`` ISO 3166 alpha-3. ``lines`` are informative;
        ``details`` keeps what the buyer typed beyond :class:`Customer` (phone,
        address...) for the merchant, by name.

        ``client`` (contract 1.2) is the buyer's network address as the page sees
        it: the hub refuses more than a few orders per address and shop in a
        short time, raising :class:`~bluepaid_plugins.errors.RateLimited`; it
        keeps only a keyed digest of the address. ``once`` (contract 1.2) is a
        one-time key of the page the buyer sent (a random token the page put in
        its form and keeps in the buyer's session): the same key sent again, by
        a double click or at the same moment, gives the first order's ref
        instead of storing another.

        Raises :class:`~bluepaid_plugins.errors.ValidationError` listing every
        problem (a zero total, an over-long description, a bad e-mail) and
        :class:`~bluepaid_plugins.errors.NotFound` for an unknown shop.
        """

    def pay_url(self, slug: str, ref: str) -> str:
        """The hub's URL where the buyer pays order ``ref``, carrying a proof the hub
        signed: the buyer's key to the order, for them only (never log it)."""

    def order(self, slug: str, ref: str) -> Order | None:
        """The stored order ``ref`` of the shop, or None."""

    def database(self) -> Database:
        """The hub's database, for the source's own tables (the built-in cart's catalog).

        Added in contract 1.2. The tables are created by the hub's migrations, never
        by the source; a source reads and writes only its own tables and reaches the
        hub's orders through this desk. Rows must name their shop by slug, and every
        query must be limited to the shop at hand.
        """


class OrderDesks(Protocol):
    """The ``orders`` argument of ``bluepaid_register_blueprints``: ``orders(connector_id)``
    gives the :class:`OrderDesk` of that connector's shops.

    Raises :class:`~bluepaid_plugins.errors.ConfigurationError` when the
    connector is not registered or does not let the hub keep its orders.
    """

    def __call__(self, connector_id: str) -> OrderDesk: ...


class HubKeptOrders(Connector):
    """A connector whose orders the hub keeps: payment links, the payment form, the cart.

    Subclasses declare ``id``, ``label``, ``contract``, their statuses and
    mapping (statuses are :class:`~bluepaid_plugins.domain.OrderStatus` values),
    and their settings; the orders are read and moved in the hub's order store
    (``context.orders``), and pay links carry a token the hub signs.
    """

    ownership = Ownership.HUB_TOKEN
    #: How an order of this source is named in messages ("payment link").
    order_noun = "order"

    def fetch_order(self, ref: str) -> Order:
        order = self.context.orders.get(ref)
        if order is None:
            raise OrderNotFound(f"no {self.order_noun} {ref!r} in shop {self.context.shop!r}")
        return order

    def apply_event(self, event: PaymentEvent) -> None:
        """Move the stored order as the mapping says, its note written once; a late
        failure never takes back an order another payment paid meanwhile."""
        order = self.fetch_order(event.order_ref)
        target = self.status_for(event)
        status = OrderStatus(target) if target is not None else order.status
        if order.status.paid and not status.paid:
            status = order.status
        self.context.orders.set_status(event.order_ref, status, event.note)
