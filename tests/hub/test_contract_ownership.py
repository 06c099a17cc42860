"""A pay link works only with the proof that the buyer holds the order.

Without it the hub answers exactly as for a shop or an order that does not
exist, so nobody learns which orders exist by guessing.
"""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

import pytest

from bluepaid_plugins.money import Money
from bluepaid_plugins.paylink import sign_pay_token
from hub.orders import create_link_order
from hub.shops import add_shop
from tests.conftest import FrozenClock
from tests.hub.conftest import SANDBOX_IP, HubDriver, MakeDriver
from tests.hub.contract_connectors import (
    ORDER_KEY,
    OrderBook,
    OrderWatcher,
    book_driver,
    book_shop,
    error_logs,
)

BUYER = "ada.buyer@example.com"

UNKNOWN_ORDER = {
    "en": "This payment link does not match any order.",
    "fr": "Ce lien de paiement ne correspond à aucune commande.",
}


def link_with_email(driver: HubDriver, ref: str = "L1") -> str:
    order = create_link_order(
        driver.hub.db, driver.shop, Money.parse("36.60", "EUR"), now=driver.hub.clock(), email=BUYER, ref=ref
    )
    return order.ref


def unknown_page(driver: HubDriver, language: str) -> str:
    response = driver.client.get("/pay/demo/NO-SUCH-ORDER", headers={"Accept-Language": language})
    assert response.status_code == 404
    return response.text


def get(driver: HubDriver, path: str, language: str = "en") -> tuple[int, str]:
    response = driver.client.get(path, headers={"Accept-Language": language})
    return response.status_code, response.text


# Payment links: a token the hub signed


@pytest.mark.parametrize("language", ["en", "fr"])
@pytest.mark.parametrize("key", ["", "?key=", "?key=not-the-token"], ids=["no-key", "empty-key", "wrong-key"])
def test_a_payment_link_without_its_token_is_answered_as_an_unknown_order(
    driver: HubDriver, language: str, key: str
) -> None:
    ref = link_with_email(driver)

    status, page = get(driver, f"/pay/demo/{ref}{key}", language)

    assert status == 404
    assert page == unknown_page(driver, language)
    assert UNKNOWN_ORDER[language] in page
    assert BUYER not in page
    assert driver.payments_of(ref) == []


@pytest.mark.parametrize("language", ["en", "fr"])
def test_a_payment_link_with_another_shops_token_is_answered_as_an_unknown_order(
    driver: HubDriver, language: str
) -> None:
    other = add_shop(driver.hub, slug="other", id_boutique="99999www", allowed_ips=[SANDBOX_IP])
    ref = link_with_email(driver, "SAME-REF")
    create_link_order(driver.hub.db, other, Money.parse("1.00", "EUR"), now=driver.hub.clock(), ref=ref)
    theirs = urlsplit(driver.hub.pay_url(other, ref)).query

    status, page = get(driver, f"/pay/demo/{ref}?{theirs}", language)

    assert status == 404
    assert page == unknown_page(driver, language)
    assert driver.payments_of(ref) == []


def test_a_token_for_another_order_of_the_shop_opens_nothing(driver: HubDriver) -> None:
    mine, yours = link_with_email(driver, "MINE"), link_with_email(driver, "YOURS")
    my_token = urlsplit(driver.hub.pay_url(driver.shop, mine)).query

    status, page = get(driver, f"/pay/demo/{yours}?{my_token}")

    assert (status, page) == (404, unknown_page(driver, "en"))


def test_an_unknown_shop_and_an_unknown_order_get_the_same_page(driver: HubDriver) -> None:
    ref = link_with_email(driver)
    token = urlsplit(driver.hub.pay_url(driver.shop, ref)).query

    status, page = get(driver, f"/pay/nowhere/{ref}?{token}")

    assert (status, page) == (404, unknown_page(driver, "en"))


@pytest.mark.parametrize(
    ("language", "headline"),
    [("en", "This payment link has expired."), ("fr", "Ce lien de paiement a expiré.")],
)
def test_an_expired_hub_link_says_so_and_starts_no_payment(
    driver: HubDriver, clock: FrozenClock, language: str, headline: str
) -> None:
    ref = link_with_email(driver)
    url = urlsplit(driver.hub.pay_url(driver.shop, ref, expires=clock() + timedelta(days=7)))
    clock.advance(timedelta(days=7, seconds=1))

    status, page = get(driver, f"{url.path}?{url.query}", language)

    assert status == 410
    assert headline in page
    assert driver.payments_of(ref) == []


def test_a_hub_link_works_until_it_expires(driver: HubDriver, clock: FrozenClock) -> None:
    ref = link_with_email(driver)
    url = urlsplit(driver.hub.pay_url(driver.shop, ref, expires=clock() + timedelta(days=7)))
    clock.advance(timedelta(days=6, hours=23))

    assert driver.client.get(f"{url.path}?{url.query}").status_code == 302


def test_an_expired_link_with_a_forged_signature_is_unknown_not_expired(
    driver: HubDriver, clock: FrozenClock
) -> None:
    ref = link_with_email(driver)
    forged = sign_pay_token("not-the-shop-secret", "demo", ref, expires=clock() - timedelta(days=1))

    status, page = get(driver, f"/pay/demo/{ref}?key={forged}")

    assert (status, page) == (404, unknown_page(driver, "en"))


# Shop software with its own order secret


def test_the_orders_own_secret_opens_the_way_to_the_platform(make_driver: MakeDriver) -> None:
    book = OrderBook()
    driver = book_driver(make_driver, book_shop(book))
    ref = book.add()

    response = driver.open_pay(ref, ORDER_KEY)

    assert response.status_code == 302
    assert ORDER_KEY not in response.headers["Location"]


@pytest.mark.parametrize("key", ["", "?key=", f"?key={ORDER_KEY}x", f"?key={ORDER_KEY[:-1]}"])
def test_a_wrong_or_missing_order_secret_is_answered_as_an_unknown_order(
    make_driver: MakeDriver, key: str
) -> None:
    book = OrderBook()
    driver = book_driver(make_driver, book_shop(book))
    ref = book.add()

    status, page = get(driver, f"/pay/demo/{ref}{key}")

    assert (status, page) == (404, unknown_page(driver, "en"))
    assert driver.payments_of(ref) == []


def test_an_order_given_without_its_secret_is_unknown_and_logged(
    make_driver: MakeDriver, caplog: pytest.LogCaptureFixture
) -> None:
    book = OrderBook()
    driver = book_driver(make_driver, book_shop(book))
    ref = book.add(secret="")

    status, page = get(driver, f"/pay/demo/{ref}?key=anything")

    assert (status, page) == (404, unknown_page(driver, "en"))
    assert error_logs(caplog) == [f"connector book_shop gave order {ref} of shop demo without its secret"]


def test_the_orders_secret_never_reaches_the_hooks(make_driver: MakeDriver) -> None:
    book, watcher = OrderBook(), OrderWatcher()
    driver = book_driver(make_driver, book_shop(book), watcher)
    ref = book.add()

    driver.start(ref, ORDER_KEY)

    assert [(hook, order.ref, order.secret) for hook, order in watcher.seen] == [
        ("bluepaid_check_order", ref, ""),
        ("bluepaid_payment_request", ref, ""),
    ]
