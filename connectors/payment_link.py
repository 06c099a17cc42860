"""The payment-link connector: orders created by the merchant and kept by the hub.

A merchant with no shop creates an order (``bluepaid link create``) and sends
the buyer its pay link, which carries a token the hub signed. The orders live
in the hub's own order store, lent to the connector through its context.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import ClassVar

from bluepaid_plugins import Capability, Connector, StatusEvent, hookimpl
from bluepaid_plugins.domain import OrderStatus
from bluepaid_plugins.sources import HubKeptOrders


class PaymentLinkConnector(HubKeptOrders):
    """Orders stored by the hub itself; nothing to configure."""

    id = "payment_link"
    label = "Payment links"
    version = "1.0"
    contract = ">=1.0,<2"
    order_noun = "payment link"
    capabilities = frozenset({Capability.REFUNDS, Capability.PARTIAL_REFUNDS, Capability.SUBSCRIPTIONS})
    statuses: ClassVar[Mapping[str, str]] = {
        OrderStatus.OPEN: "Open: waiting for payment",
        OrderStatus.FAILED: "Payment failed: the link can be paid again",
        OrderStatus.PAID: "Paid",
        OrderStatus.PARTIALLY_REFUNDED: "Partially refunded",
        OrderStatus.REFUNDED: "Refunded",
        OrderStatus.CANCELLED: "Cancelled: the link no longer works",
    }
    # A refusal or a cancel on the payment page leaves the link payable: the buyer
    # can try again. Later debits of a subscription leave the order paid.
    default_status_mapping: ClassVar[Mapping[StatusEvent, str | None]] = {
        StatusEvent.PAID: OrderStatus.PAID,
        StatusEvent.REFUSED: OrderStatus.FAILED,
        StatusEvent.CANCELLED: OrderStatus.FAILED,
        StatusEvent.PARTIALLY_REFUNDED: OrderStatus.PARTIALLY_REFUNDED,
        StatusEvent.REFUNDED: OrderStatus.REFUNDED,
        StatusEvent.DEBIT_PAID: None,
        StatusEvent.DEBIT_REFUSED: None,
    }


@hookimpl
def bluepaid_register_connectors(register: Callable[[type[Connector]], None]) -> None:
    register(PaymentLinkConnector)
