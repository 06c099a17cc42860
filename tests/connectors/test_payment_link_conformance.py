"""The payment-link connector passes the conformance suite, like any partner's connector."""

from __future__ import annotations

from typing import ClassVar

from sqlalchemy import select

from bluepaid_plugins.domain import OrderStatus
from connectors.payment_link import PaymentLinkConnector
from hub.models import LinkOrder
from hub.orders import create_link_order
from hub.testing.conformance import ConnectorConformance, GivenOrder
from hub.testing.kit import Kit


class TestPaymentLinkConformance(ConnectorConformance):
    connector = PaymentLinkConnector
    # A payment link is an amount and a buyer's e-mail; it has no lines and no names.
    order_fields: ClassVar[tuple[str, ...]] = ("total", "email", "language")

    def given_order(self, kit: Kit, order: GivenOrder) -> str:
        create_link_order(
            kit.hub.db,
            kit.shop,
            order.total,
            now=kit.hub.clock(),
            ref=order.ref,
            email=order.customer.email,
            schedule=order.schedule,
            language=order.language,
        )
        if order.status is not OrderStatus.OPEN:
            with kit.hub.db.transaction() as session:
                row = self._row(session, kit, order.ref)
                row.status = order.status.value
        return ""  # the hub signs payment links

    def shop_status(self, kit: Kit, ref: str) -> str:
        with kit.hub.db.transaction() as session:
            return self._row(session, kit, ref).status

    def shop_notes(self, kit: Kit, ref: str) -> list[str]:
        with kit.hub.db.transaction() as session:
            return list(self._row(session, kit, ref).history)

    @staticmethod
    def _row(session: object, kit: Kit, ref: str) -> LinkOrder:
        query = select(LinkOrder).where(LinkOrder.shop_id == kit.shop.id, LinkOrder.ref == ref)
        return session.scalars(query).one()  # type: ignore[attr-defined, no-any-return]
