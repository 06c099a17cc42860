"""The PrestaShop connector passes the conformance suite against a fake webservice built
from recorded PrestaShop answers."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any, ClassVar

from bluepaid_plugins.countries import alpha2
from bluepaid_plugins.domain import OrderStatus
from connectors.prestashop.connector import PrestaShopConnector
from hub.testing.conformance import ConnectorConformance, GivenOrder
from hub.testing.kit import Kit
from hub.testing.shop_double import Reply, ShopDouble
from tests.connectors.prestashop_shop import BASE, KEY, XML, FakePrestaShop, error_body

#: The states the harness writes for the suite's order states (PrestaShop's installed ids).
STATE_OF = {
    OrderStatus.OPEN: "10",
    OrderStatus.FAILED: "8",
    OrderStatus.PAID: "2",
    OrderStatus.CANCELLED: "6",
    OrderStatus.REFUNDED: "7",
}


class TestPrestaShopConformance(ConnectorConformance):
    connector = PrestaShopConnector
    settings: ClassVar[Mapping[str, Any]] = {"base_url": BASE, "webservice_key": KEY}
    shop_url = BASE
    # PrestaShop has no state for a partial refund and none that means "expired".
    states_given = tuple(STATE_OF)
    # The fake webservice's only language is English (id 1), as the recorded order's.
    order_fields = (*ConnectorConformance.order_fields, "language")

    def shop_api(self, api: ShopDouble) -> None:
        shop = FakePrestaShop()
        shop.install(api)
        api.orders["shop"] = shop

    @staticmethod
    def shop(kit: Kit) -> FakePrestaShop:
        assert kit.api is not None
        shop: FakePrestaShop = kit.api.orders["shop"]
        return shop

    def given_order(self, kit: Kit, order: GivenOrder) -> str:
        key = hashlib.md5(order.ref.encode()).hexdigest()  # PrestaShop's secure_key: 32 hex digits
        c = order.customer
        self.shop(kit).add_order(
            order.ref,
            total=order.total.amount,
            currency=order.total.currency,
            state=STATE_OF[order.status],
            items=order.items,
            email=c.email,
            first_name=c.first_name,
            last_name=c.last_name,
            country=alpha2(c.country),
            secure_key=key,
        )
        return key

    def error_reply(self, status: int) -> Reply:
        # The webservice's own <errors> document, not JSON.
        return Reply(status, body=error_body(status, f"the webservice answered {status}"), content_type=XML)

    def shop_status(self, kit: Kit, ref: str) -> str:
        return self.shop(kit).state(ref)

    def shop_notes(self, kit: Kit, ref: str) -> list[str]:
        return self.shop(kit).notes(ref)
