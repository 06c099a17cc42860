"""The conformance harness of connectors whose orders the hub keeps (payment links, the
payment form): the suite's orders are written straight into the hub's order store."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from bluepaid_plugins.domain import OrderStatus
from hub.models import LinkOrder
from hub.orders import create_link_order
from hub.testing.conformance import ConnectorConformance, GivenOrder
from hub.testing.kit import Kit


class HubKeptOrdersHarness(ConnectorConformance):
    """The suite's hooks over the hub's order store; subclasses name the connector."""

    def given_order(self, kit: Kit, order: GivenOrder) -> str:
        # As the source's own page or command stores it, through the hub's order store.
        create_link_order(
            kit.hub.db,
            kit.shop,
            order.total,
            now=kit.hub.clock(),
            ref=order.ref,
            customer=order.customer,
            lines=order.items,
            schedule=order.schedule,
            language=order.language,
        )
        if order.status is not OrderStatus.OPEN:
            with kit.hub.db.transaction() as session:
                self._row(session, kit, order.ref).status = order.status.value
        return ""  # the hub signs these pay links

    def shop_status(self, kit: Kit, ref: str) -> str:
        with kit.hub.db.transaction() as session:
            return self._row(session, kit, ref).status

    def shop_notes(self, kit: Kit, ref: str) -> list[str]:
        with kit.hub.db.transaction() as session:
            return list(self._row(session, kit, ref).history)

    @staticmethod
    def _row(session: Session, kit: Kit, ref: str) -> LinkOrder:
        query = select(LinkOrder).where(LinkOrder.shop_id == kit.shop.id, LinkOrder.ref == ref)
        return session.scalars(query).one()
