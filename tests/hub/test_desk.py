"""The order desk the hub lends an order source's pages: its own connector's shops only."""

from __future__ import annotations

from decimal import Decimal
from typing import ClassVar

import pytest

from bluepaid_plugins import Connector, Customer, LineItem, Money, Ownership, SettingField
from bluepaid_plugins.domain import Order, OrderStatus, PaymentEvent
from bluepaid_plugins.errors import ConfigurationError, NotFound, OrderNotFound, ValidationError
from bluepaid_plugins.paylink import TokenCheck, check_pay_token
from hub.context import Hub
from hub.desk import order_desks
from hub.shops import add_shop, get_shop
from hub.testing.kit import ConnectorPlugin
from tests.hub.conftest import MakeDriver


class Kiosk(Connector):
    """An order source with a secret setting, to see that its pages never get it."""

    id = "kiosk"
    label = "Kiosk"
    contract = ">=1.0,<2"
    ownership = Ownership.HUB_TOKEN
    settings_schema: ClassVar[tuple[SettingField, ...]] = (
        SettingField("greeting", "Greeting", required=False, default=""),
        SettingField("api_key", "API key", type="secret", required=False, default=""),
    )

    def fetch_order(self, ref: str) -> Order:
        found = self.context.orders.get(ref)
        if found is None:
            raise OrderNotFound(ref)
        return found

    def apply_event(self, event: PaymentEvent) -> None:
        self.context.orders.set_status(event.order_ref, OrderStatus.PAID, event.note)


@pytest.fixture
def hub(make_driver: MakeDriver) -> Hub:
    driver = make_driver(ConnectorPlugin(Kiosk), slug="links", connector="payment_link")
    add_shop(
        driver.hub,
        slug="kiosk",
        id_boutique="K1",
        connector="kiosk",
        settings={"greeting": "hi", "api_key": "s3"},
    )
    return driver.hub


def test_a_desk_stores_an_order_with_its_buyer_and_lines_and_signs_its_pay_url(hub: Hub) -> None:
    desk = order_desks(hub)("kiosk")
    customer = Customer("ada@example.com", "Ada", "Lovelace", "FRA")
    lines = (LineItem("Mug", 2, Decimal("6.25")),)

    ref = desk.create_order(
        "kiosk",
        Money.parse("12.50", "EUR"),
        description="Mugs",
        customer=customer,
        language="FR",
        lines=lines,
    )

    order = desk.order("kiosk", ref)
    assert order is not None
    assert (order.total, order.customer, order.items, order.description) == (
        Money.parse("12.50", "EUR"),
        customer,
        lines,
        "Mugs",
    )
    assert ref.startswith("K")
    url = desk.pay_url("kiosk", ref)
    assert url.startswith(f"http://hub.test/pay/kiosk/{ref}?key=")
    proof = url.rpartition("=")[2]
    assert (
        check_pay_token(get_shop(hub, "kiosk").secret, "kiosk", ref, proof, hub.clock()) is TokenCheck.VALID
    )


def test_a_desk_sees_only_its_connectors_shops(hub: Hub) -> None:
    desk = order_desks(hub)("kiosk")
    links_ref = order_desks(hub)("payment_link").create_order("links", Money.parse("5", "EUR"))

    assert desk.shop("links") is None
    assert desk.order("links", links_ref) is None
    with pytest.raises(NotFound):
        desk.create_order("links", Money.parse("5", "EUR"))
    with pytest.raises(NotFound):
        desk.pay_url("links", links_ref)


def test_a_desk_never_hands_out_secret_settings(hub: Hub) -> None:
    assert dict(order_desks(hub)("kiosk").settings("kiosk")) == {"greeting": "hi"}


def test_a_desk_refuses_a_zero_total(hub: Hub) -> None:
    with pytest.raises(ValidationError):
        order_desks(hub)("kiosk").create_order("kiosk", Money.parse("0", "EUR"))


@pytest.mark.parametrize("connector", ["nowhere", "woocommerce"])
def test_there_is_no_desk_for_an_unknown_connector_or_one_that_keeps_its_orders(
    hub: Hub, connector: str
) -> None:
    with pytest.raises(ConfigurationError):
        order_desks(hub)(connector)
