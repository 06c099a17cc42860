"""The Magento 2 connector passes the conformance suite, against the test store.

Run with ``--bluepaid-report connectors/magento2/conformance`` to write the
report the package ships (``bluepaid connector show magento2`` reads it).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from bluepaid_plugins.domain import OrderStatus
from connectors.magento2 import MagentoConnector
from hub.testing.conformance import ConnectorConformance, GivenOrder
from hub.testing.kit import Kit
from hub.testing.shop_double import Reply, ShopDouble
from tests.connectors.magento_shop import ADMIN_SETTINGS, BASE_URL, MagentoShop, error


class TestMagentoConformance(ConnectorConformance):
    connector = MagentoConnector
    # The admin user's way in: the one with a token to renew.
    settings: ClassVar[Mapping[str, Any]] = ADMIN_SETTINGS
    shop_url = BASE_URL
    # Magento has neither "failed" nor "expired": a refused order stays payable as it was.
    states_given = tuple(s for s in OrderStatus if s not in (OrderStatus.FAILED, OrderStatus.EXPIRED))

    def shop_api(self, api: ShopDouble) -> None:
        self.shop = MagentoShop(api)

    def given_order(self, kit: Kit, order: GivenOrder) -> str:
        return self.shop.add(order)

    def shop_status(self, kit: Kit, ref: str) -> str:
        return self.shop.status(ref)

    def shop_notes(self, kit: Kit, ref: str) -> list[str]:
        return self.shop.comments(ref)

    def error_reply(self, status: int) -> Reply:
        return error(status, "Error %1", [str(status)])
