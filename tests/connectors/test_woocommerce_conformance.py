"""The WooCommerce connector passes the conformance suite, against the test shop.

Run with ``--bluepaid-report connectors/woocommerce/conformance`` to write the
report the package ships (``bluepaid connector show woocommerce`` reads it).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from bluepaid_plugins.domain import OrderStatus
from bluepaid_plugins.webhooks import ShopChange, ShopChangeKind
from connectors.woocommerce import WooCommerceConnector
from hub.testing.conformance import ConnectorConformance, GivenOrder
from hub.testing.kit import Kit
from hub.testing.shop_double import ShopDouble
from tests.connectors.woocommerce_shop import BASE_URL, SETTINGS, WooShop

_STATUS_OF_CHANGE = {ShopChangeKind.CANCELLED: "cancelled", ShopChangeKind.DELETED: "trash"}


class TestWooCommerceConformance(ConnectorConformance):
    connector = WooCommerceConnector
    settings: ClassVar[Mapping[str, Any]] = SETTINGS
    shop_url = BASE_URL
    # WooCommerce has no "expired": an order it will not let a buyer pay is "on-hold" here.
    states_given = tuple(OrderStatus)

    def shop_api(self, api: ShopDouble) -> None:
        self.shop = WooShop(api)

    def given_order(self, kit: Kit, order: GivenOrder) -> str:
        return self.shop.add(order)

    def shop_status(self, kit: Kit, ref: str) -> str:
        return self.shop.status(ref)

    def shop_notes(self, kit: Kit, ref: str) -> list[str]:
        return self.shop.note_texts(ref)

    def error_body(self, status: int) -> Any:
        return {
            "code": f"woocommerce_rest_error_{status}",
            "message": f"Error {status}",
            "data": {"status": status},
        }

    def signed_webhook(self, kit: Kit, change: ShopChange) -> tuple[dict[str, str], bytes]:
        return self.shop.webhook(change.order_ref, _STATUS_OF_CHANGE.get(change.kind, "processing"))

    def handshake_webhook(self, kit: Kit) -> tuple[dict[str, str], bytes] | None:
        return {"Content-Type": "application/x-www-form-urlencoded"}, b"webhook_id=12"
