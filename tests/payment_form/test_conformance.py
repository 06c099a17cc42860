"""The payment form's connector passes the conformance suite, like any partner's connector."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from bluepaid_plugins.domain import OrderStatus
from hub.models import LinkOrder
from hub.orders import create_link_order
from hub.testing.conformance import ConnectorConformance, GivenOrder
from hub.testing.kit import Kit
from payment_form import PaymentFormConnector


class TestPaymentFormConformance(ConnectorConformance):
    connector = PaymentFormConnector

    order_fields = (*ConnectorConformance.order_fields, "language")

    def given_order(self, kit: Kit, order: GivenOrder) -> str:
        # As the form's page stores it, through the hub's order desk.
        create_link_order(
            kit.hub.db,
            kit.shop,
            order.total,
            now=kit.hub.clock(),
            ref=order.ref,
            customer=order.customer,
            lines=order.items,
            language=order.language,
        )
        if order.status is not OrderStatus.OPEN:
            with kit.hub.db.transaction() as session:
                self._row(session, kit, order.ref).status = order.status.value
        return ""  # the hub signs the form's pay links

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
