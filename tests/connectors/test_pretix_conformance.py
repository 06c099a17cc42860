"""The pretix connector passes the conformance suite, against the test event.

Run with ``--bluepaid-report connectors/pretix/conformance`` to write the
report the package ships (``bluepaid connector show pretix`` reads it).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from connectors.pretix import PretixConnector
from hub.testing.conformance import ConnectorConformance, GivenOrder
from hub.testing.kit import Kit
from hub.testing.shop_double import ShopDouble
from tests.connectors.pretix_shop import BASE_URL, SETTINGS, PretixShop


class TestPretixConformance(ConnectorConformance):
    connector = PretixConnector
    settings: ClassVar[Mapping[str, Any]] = SETTINGS
    shop_url = BASE_URL
    # pretix keeps neither order lines with names in the order (a position names its
    # product by id) nor amounts with more than two decimals.
    order_fields = ("total", "email", "first_name", "last_name", "country", "language")
    three_decimal_currency = ""

    def shop_api(self, api: ShopDouble) -> None:
        self.shop = PretixShop(api)

    def given_order(self, kit: Kit, order: GivenOrder) -> str:
        self.shop.event["currency"] = order.total.currency
        return self.shop.add(order)

    def shop_status(self, kit: Kit, ref: str) -> str:
        return self.shop.status(ref)

    def shop_notes(self, kit: Kit, ref: str) -> list[str]:
        return self.shop.note_texts(ref)

    def error_body(self, status: int) -> Any:
        return {"detail": f"Error {status}"}
