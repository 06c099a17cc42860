"""bluepaid-plugins: the contract between the hub, connectors and partners.

Import from here what a connector needs: :class:`Connector`, :data:`hookimpl`,
the domain types, the settings types and the errors. :data:`CONTRACT_VERSION`
is the version of this contract; a connector declares the versions it was
written for in ``Connector.contract``.
"""

from bluepaid_plugins.connector import Capability, Connector, ConnectorContext, OrderStore, Ownership
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
    StatusEvent,
)
from bluepaid_plugins.hookspecs import hookimpl
from bluepaid_plugins.money import Money
from bluepaid_plugins.settings import Secret, SettingField
from bluepaid_plugins.sources import OrderDesk, OrderDesks
from bluepaid_plugins.webhooks import ShopChange, ShopChangeKind, WebhookReply, WebhookRequest

#: The version of the connector contract (hooks, Connector, domain types). 1.1 added the
#: order desk (:mod:`bluepaid_plugins.sources`), the ``orders`` of ``bluepaid_register_blueprints``;
#: 1.2 the access tokens kept between instances (:mod:`bluepaid_plugins.tokens`,
#: ``ConnectorContext.tokens``), exact JSON amounts (:func:`~bluepaid_plugins.money.loads_exact`),
#: the desk's :meth:`~bluepaid_plugins.sources.OrderDesk.database` for a source's own tables,
#: ``client`` and ``once`` of its ``create_order``, the connector context's ``mail`` and the
#: same ``mail`` for ``bluepaid_payment_event``, with the shop's ``notify_email`` in its view;
#: 1.3 the ``query`` and ``url`` of a :class:`WebhookRequest`, the ``settings`` a
#: :class:`WebhookReply` hands the hub to keep, and ``Connector.webhook_secret_fields``.
CONTRACT_VERSION = "1.3"

__all__ = [
    "CONTRACT_VERSION",
    "Capability",
    "Connector",
    "ConnectorContext",
    "Customer",
    "EventKind",
    "LineItem",
    "Money",
    "Order",
    "OrderDesk",
    "OrderDesks",
    "OrderStatus",
    "OrderStore",
    "Ownership",
    "PaymentEvent",
    "PaymentView",
    "Schedule",
    "Secret",
    "SettingField",
    "ShopChange",
    "ShopChangeKind",
    "ShopView",
    "StatusEvent",
    "WebhookReply",
    "WebhookRequest",
    "hookimpl",
]
