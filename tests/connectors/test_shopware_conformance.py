"""The Shopware 6 connector passes the conformance suite, against the test shop.

Run with ``--bluepaid-report connectors/shopware6/conformance`` to write the
report the package ships (``bluepaid connector show shopware6`` reads it).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from bluepaid_plugins.domain import OrderStatus
from bluepaid_plugins.webhooks import ShopChange, ShopChangeKind
from connectors.shopware6 import ShopwareConnector
from hub.testing.conformance import ConnectorConformance, GivenOrder
from hub.testing.kit import Kit
from hub.testing.shop_double import Reply, ShopDouble
from tests.connectors.shopware_shop import BASE_URL, SETTINGS, ShopwareShop, error

_EVENT_OF_CHANGE = {
    ShopChangeKind.CANCELLED: "state_enter.order.state.cancelled",
    ShopChangeKind.REOPENED: "state_enter.order.state.open",
}


class TestShopwareConformance(ConnectorConformance):
    connector = ShopwareConnector
    settings: ClassVar[Mapping[str, Any]] = SETTINGS
    shop_url = BASE_URL
    order_fields = (*ConnectorConformance.order_fields, "language")
    # Shopware has no "expired" order: one it will not let a buyer pay is on hold here.
    states_given = tuple(s for s in OrderStatus if s is not OrderStatus.EXPIRED)

    def shop_api(self, api: ShopDouble) -> None:
        self.shop = ShopwareShop(api)

    def given_order(self, kit: Kit, order: GivenOrder) -> str:
        return self.shop.add(order)

    def shop_status(self, kit: Kit, ref: str) -> str:
        return self.shop.status(ref)

    def shop_notes(self, kit: Kit, ref: str) -> list[str]:
        return self.shop.notes(ref)

    def error_reply(self, status: int) -> Reply:
        return error(status, f"FRAMEWORK__ERROR_{status}", f"Error {status}")

    def signed_webhook(self, kit: Kit, change: ShopChange) -> tuple[dict[str, str], bytes]:
        return self.shop.webhook(change.order_ref, _EVENT_OF_CHANGE[change.kind])
