"""bluepaid-plugins: the contract between the hub, connectors and partners.

Import from here what a connector needs: :class:`Connector`, :data:`hookimpl`,
the domain types and the errors.
"""

from bluepaid_plugins.connector import Connector, ConnectorContext, OrderStore, SettingField
from bluepaid_plugins.domain import (
    Customer,
    EventKind,
    LineItem,
    Order,
    OrderStatus,
    PaymentEvent,
    PaymentView,
    Schedule,
    ShopView,
)
from bluepaid_plugins.hookspecs import hookimpl
from bluepaid_plugins.money import Money

__all__ = [
    "Connector",
    "ConnectorContext",
    "Customer",
    "EventKind",
    "LineItem",
    "Money",
    "Order",
    "OrderStatus",
    "OrderStore",
    "PaymentEvent",
    "PaymentView",
    "Schedule",
    "SettingField",
    "ShopView",
    "hookimpl",
]
