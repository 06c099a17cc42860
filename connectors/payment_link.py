"""The payment-link connector: orders created by the merchant and kept by the hub.

A merchant with no shop creates an order (``bluepaid link create``) and sends
the buyer its pay link. The orders live in the hub's own order store, lent to
the connector through its context.
"""

from __future__ import annotations

from collections.abc import Callable

from bluepaid_plugins import Connector, hookimpl
from bluepaid_plugins.domain import EventKind, Order, OrderStatus, PaymentEvent
from bluepaid_plugins.errors import OrderNotFound

_STATUS = {
    EventKind.PAID: OrderStatus.PAID,
    EventKind.CANCELLED: OrderStatus.CANCELLED,
    EventKind.REFUNDED: OrderStatus.PAID,
}


class PaymentLinkConnector(Connector):
    """Orders stored by the hub itself; nothing to configure."""

    id = "payment_link"
    label = "Payment links"
    version = "1.0"

    def fetch_order(self, ref: str) -> Order:
        order = self.context.orders.get(ref)
        if order is None:
            raise OrderNotFound(f"no payment link {ref!r} in shop {self.context.shop!r}")
        return order

    def apply_event(self, order_ref: str, event: PaymentEvent) -> None:
        order = self.fetch_order(order_ref)
        # A refusal or a pending payment leaves the link open so the buyer can pay again.
        status = _STATUS.get(event.kind, order.status)
        self.context.orders.set_status(order_ref, status, event.note)


@hookimpl
def bluepaid_register_connectors(register: Callable[[type[Connector]], None]) -> None:
    register(PaymentLinkConnector)
