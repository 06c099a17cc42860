"""The hub's :class:`~bluepaid_plugins.sources.OrderDesk`: what the pages of an order
source (the payment form, the cart) may do with the hub, over its order store.

The desk limits the orders of one client: at most :data:`ORDERS_PER_CLIENT` per
shop in :data:`CLIENT_WINDOW`, counted in the database (so every hub process
counts the same orders), by a keyed digest of the client's address. Two orders
sent at the same instant may both pass the last place: the limit stops floods,
not a second order.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from bluepaid_plugins.connector import Ownership
from bluepaid_plugins.db import Database
from bluepaid_plugins.domain import Customer, LineItem, Order, ShopView
from bluepaid_plugins.errors import ConfigurationError, RateLimited, ValidationError
from bluepaid_plugins.money import Money
from bluepaid_plugins.settings import Secret
from bluepaid_plugins.sources import OrderDesks
from hub.context import Hub
from hub.models import LinkOrder, Shop
from hub.orders import HubOrderStore, create_link_order
from hub.pay import unknown_order

#: How many orders one client may create in one shop within :data:`CLIENT_WINDOW`.
ORDERS_PER_CLIENT = 10
CLIENT_WINDOW = timedelta(minutes=10)


class HubOrderDesk:
    """The desk of connector ``connector_id``: it sees that connector's shops only.

    Each call reads the shop again, so a shop changed or removed by the
    merchant is seen at once; no state is kept between calls.
    """

    def __init__(self, hub: Hub, connector_id: str) -> None:
        self.hub = hub
        self.connector_id = connector_id
        # The refs of a source's orders start with its initial (P for the payment form):
        # the merchant tells at a glance where an order came from.
        self.prefix = connector_id[:1].upper()

    def _find(self, slug: str) -> Shop | None:
        with self.hub.db.transaction() as session:
            found: Shop | None = session.scalar(
                select(Shop).where(Shop.slug == slug, Shop.connector == self.connector_id)
            )
        return found

    def _shop(self, slug: str) -> Shop:
        found = self._find(slug)
        if found is None:
            raise unknown_order(slug, "")
        return found

    def shop(self, slug: str) -> ShopView | None:
        found = self._find(slug)
        return None if found is None else self.hub.shop_view(found)

    def settings(self, slug: str) -> Mapping[str, Any]:
        # The stored settings, never the vault's: secrets stay with the connector.
        stored = self._shop(slug).connector_settings
        return {name: value for name, value in stored.items() if not isinstance(value, Secret)}

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
        shop = self._shop(slug)
        store = HubOrderStore(self.hub.db, shop.id, self.hub.clock)
        # The ref of a one-time key is derived from it, so the key sent again finds
        # the first order, and the unique (shop, ref) stops two sent at once.
        ref = f"{self.prefix}{self._digest('once', slug, once)[:10].upper()}" if once else ""
        if ref and store.get(ref) is not None:
            return ref
        digest = self._digest("client", slug, client) if client else ""
        if digest:
            self._limit(shop, digest)
        try:
            row = create_link_order(
                self.hub.db,
                shop,
                total,
                now=self.hub.clock(),
                description=description,
                customer=customer,
                language=language,
                lines=lines,
                details=details,
                prefix=self.prefix,
                ref=ref,
                client=digest,
            )
        except (ValidationError, IntegrityError):
            # The same key's first request stored its order meanwhile: that is the answer.
            if ref and store.get(ref) is not None:
                return ref
            raise
        return row.ref

    def _digest(self, purpose: str, slug: str, value: str) -> str:
        """A keyed digest of ``value``: neither an address nor a key is stored as given."""
        message = "\0".join((purpose, slug, value)).encode()
        return hmac.new(self.hub.config.secret_key.encode(), message, hashlib.sha256).hexdigest()[:32]

    def _limit(self, shop: Shop, digest: str) -> None:
        since = self.hub.clock() - CLIENT_WINDOW
        with self.hub.db.transaction() as session:
            recent = session.scalar(
                select(func.count())
                .select_from(LinkOrder)
                .where(LinkOrder.shop_id == shop.id, LinkOrder.client == digest, LinkOrder.created_at > since)
            )
        if (recent or 0) >= ORDERS_PER_CLIENT:
            minutes = int(CLIENT_WINDOW.total_seconds() // 60)
            raise RateLimited(
                f"more than {ORDERS_PER_CLIENT} orders from one address in shop {shop.slug!r} "
                f"within {minutes} minutes"
            )

    def pay_url(self, slug: str, ref: str) -> str:
        return self.hub.pay_url(self._shop(slug), ref)

    def order(self, slug: str, ref: str) -> Order | None:
        shop = self._find(slug)
        if shop is None:
            return None
        return HubOrderStore(self.hub.db, shop.id, self.hub.clock).get(ref)

    def database(self) -> Database:
        return self.hub.db


def order_desks(hub: Hub) -> OrderDesks:
    """The ``orders`` argument of ``bluepaid_register_blueprints`` for ``hub``."""

    def desk(connector_id: str) -> HubOrderDesk:
        cls = hub.plugins.connectors.get(connector_id)
        if cls is None:
            raise ConfigurationError(f"no connector {connector_id!r} is registered: it has no order desk")
        if cls.ownership is not Ownership.HUB_TOKEN:
            raise ConfigurationError(
                f"connector {connector_id!r} keeps its orders in its shop: the hub has no order desk for it"
            )
        return HubOrderDesk(hub, connector_id)

    return desk
