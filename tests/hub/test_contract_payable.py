"""Only a payable order gets a payment; the others get a page saying why, in the buyer's language."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from bluepaid_plugins import Money, OrderStatus, Schedule
from hub.models import LinkOrder
from hub.orders import create_link_order
from tests.hub.conftest import HubDriver, MakeDriver
from tests.hub.contract_connectors import ORDER_KEY, OrderBook, book_driver, book_shop, error_logs, page_text

HEADLINES = {
    OrderStatus.CANCELLED: ("This order was cancelled.", "Cette commande a été annulée."),
    OrderStatus.EXPIRED: ("This order has expired.", "Cette commande a expiré."),
    OrderStatus.ON_HOLD: ("This order is on hold.", "Cette commande est en attente."),
    OrderStatus.PAID: ("This order is already paid.", "Cette commande est déjà payée."),
    OrderStatus.REFUNDED: ("This order is already paid.", "Cette commande est déjà payée."),
    OrderStatus.PARTIALLY_REFUNDED: ("This order is already paid.", "Cette commande est déjà payée."),
}
NO_PAYMENT_ASKED = ("No payment was asked for.", "Aucun paiement n'a été demandé.")


def link_in(driver: HubDriver, status: OrderStatus) -> str:
    ref = driver.new_order()
    with driver.hub.db.transaction() as session:
        session.execute(update(LinkOrder).where(LinkOrder.ref == ref).values(status=status.value))
    return ref


@pytest.mark.parametrize(("language", "index"), [("en", 0), ("fr", 1)])
@pytest.mark.parametrize("status", list(HEADLINES))
def test_an_order_that_cannot_be_paid_gets_a_clear_page_and_no_payment(
    driver: HubDriver, status: OrderStatus, language: str, index: int
) -> None:
    ref = link_in(driver, status)

    response = driver.open_pay(ref, language=language)

    assert response.status_code == 409
    assert HEADLINES[status][index] in page_text(response)
    assert f'<html lang="{language}">' in response.text
    assert "Location" not in response.headers
    assert driver.payments_of(ref) == []


@pytest.mark.parametrize("status", [OrderStatus.CANCELLED, OrderStatus.EXPIRED])
def test_a_closed_order_page_says_no_payment_was_asked_for(driver: HubDriver, status: OrderStatus) -> None:
    ref = link_in(driver, status)

    assert NO_PAYMENT_ASKED[0] in page_text(driver.open_pay(ref, language="en"))
    assert NO_PAYMENT_ASKED[1] in page_text(driver.open_pay(ref, language="fr"))


def test_an_order_whose_earlier_payment_failed_can_be_paid(driver: HubDriver) -> None:
    ref = link_in(driver, OrderStatus.FAILED)

    started = driver.start(ref)

    assert [p.public_id for p in driver.payments_of(ref)] == [started.payment_id]


@pytest.mark.parametrize(
    ("language", "headline"),
    [
        ("en", "The payment page does not accept this order's currency."),
        ("fr", "La page de paiement n'accepte pas la devise de cette commande."),
    ],
)
def test_an_order_in_a_currency_the_platform_does_not_take_gets_a_clear_page(
    driver: HubDriver, language: str, headline: str
) -> None:
    order = create_link_order(
        driver.hub.db, driver.shop, Money.parse("12.345", "KWD"), now=driver.hub.clock()
    )

    response = driver.open_pay(order.ref, language=language)

    assert response.status_code == 409
    assert headline in page_text(response)
    assert "Traceback" not in response.text
    assert driver.payments_of(order.ref) == []


def test_a_subscription_through_a_connector_without_subscriptions_is_a_configuration_error(
    make_driver: MakeDriver, caplog: pytest.LogCaptureFixture
) -> None:
    book = OrderBook()
    driver = book_driver(make_driver, book_shop(book))
    ref = book.add(schedule=Schedule(occurrences=12))

    response = driver.open_pay(ref, ORDER_KEY)

    assert response.status_code == 500
    assert "The shop is misconfigured; the merchant has been told." in response.text
    assert driver.payments_of(ref) == []
    assert error_logs(caplog) == [
        f"payment start for demo/{ref}: order {ref} of shop demo is a subscription,"
        " and connector book_shop does not take subscriptions"
    ]
