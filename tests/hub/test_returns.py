"""The buyer's return pages: they show what the hub knows and never change a payment."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

import pytest
from sqlalchemy import func, select

from bluepaid_plugins.money import Money
from hub.context import Hub
from hub.models import InboxMessage, OutboxTask, PaymentEventRow, Shop
from hub.orders import create_link_order
from hub.shops import add_shop
from tests.hub.conftest import PUBLIC, SANDBOX_IP, HubDriver, MakeDriver, Started
from tests.hub.contract_connectors import ORDER_KEY, OrderBook, book_driver, book_shop

RETURN_URL = "https://shop.example/account/orders"


@pytest.fixture
def shop(hub: Hub) -> Shop:
    return add_shop(
        hub,
        slug="demo",
        id_boutique="21573www",
        test_mode=True,
        allowed_ips=[SANDBOX_IP],
        return_url=RETURN_URL,
    )


class Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str | None] = []
        self.refresh: list[str | None] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "a":
            self.hrefs.append(values.get("href"))
        if tag == "meta" and (values.get("http-equiv") or "").lower() == "refresh":
            self.refresh.append(values.get("content"))


def links(text: str) -> Links:
    parser = Links()
    parser.feed(text)
    parser.close()
    return parser


def start(driver: HubDriver, language: str = "") -> Started:
    ref = create_link_order(
        driver.hub.db, driver.shop, Money.parse("36.60", "EUR"), now=driver.hub.clock(), language=language
    ).ref
    return driver.start(ref)


def back(driver: HubDriver, started: Started, kind: str = "ok", **params: str) -> Any:
    return driver.client.get(f"/return/demo/{started.payment_id}/{kind}", query_string=params)


def pay_link(driver: HubDriver, started: Started) -> str:
    """The pay link ``started`` was opened with (the hub signs the same proof again)."""
    return driver.hub.pay_url(driver.shop, started.fields["id_client"])


def snapshot(driver: HubDriver, payment_id: str) -> tuple[Any, ...]:
    """Everything a return could wrongly change: the payment row and every table it feeds."""
    payment = driver.payment(payment_id)
    with driver.hub.db.transaction() as session:
        counts = tuple(
            session.scalar(select(func.count()).select_from(table))
            for table in (PaymentEventRow, OutboxTask, InboxMessage)
        )
    return (
        payment.state,
        tuple(payment.flags),
        payment.id_trans,
        payment.amount_minor,
        payment.refunded_minor,
        payment.updated_at,
        *counts,
    )


# What the page says


def test_paid_payment_shows_paid(driver: HubDriver) -> None:
    started = start(driver, "EN")
    driver.post(driver.confirmation(started))

    response = back(driver, started)

    assert response.status_code == 200
    assert "Payment accepted. Thank you!" in response.text
    assert started.fields["id_client"] in response.text
    assert "€36.60" in response.text
    assert links(response.text).refresh == []


def test_paid_payment_shows_paid_in_french(driver: HubDriver) -> None:
    started = start(driver, "FR")
    driver.post(driver.confirmation(started))

    response = back(driver, started)

    assert "Paiement accepté. Merci\u202f!" in response.text
    assert '<html lang="fr">' in response.text


def test_refused_payment_shows_refused(driver: HubDriver) -> None:
    started = start(driver, "EN")
    driver.post(driver.confirmation(started, etat="ko"))

    response = back(driver, started, "stop")

    assert response.status_code == 200
    assert "The payment was refused." in response.text
    assert links(response.text).refresh == []


def test_refused_payment_shows_refused_in_french(driver: HubDriver) -> None:
    started = start(driver, "FR")
    driver.post(driver.confirmation(started, etat="ko"))

    response = back(driver, started, "stop")

    assert "Le paiement a été refusé." in response.text


def test_unconfirmed_payment_shows_pending_and_refreshes(driver: HubDriver) -> None:
    started = start(driver, "EN")

    response = back(driver, started)

    assert response.status_code == 200
    assert "Waiting for the payment to be confirmed" in response.text
    assert "This page refreshes by itself." in response.text
    assert len(links(response.text).refresh) == 1
    assert "Payment accepted" not in response.text


def test_waiting_payment_shows_pending_in_french(driver: HubDriver) -> None:
    started = start(driver, "FR")
    driver.post(driver.confirmation(started, etat="attente"))

    response = back(driver, started)

    assert "Paiement en cours de confirmation" in response.text
    assert len(links(response.text).refresh) == 1


def test_stop_return_of_an_unconfirmed_payment_shows_stopped(driver: HubDriver) -> None:
    started = start(driver, "EN")

    response = back(driver, started, "stop")

    assert response.status_code == 200
    assert "You left the payment page without paying." in response.text
    assert links(response.text).refresh == []


def test_stop_return_shows_stopped_in_french(driver: HubDriver) -> None:
    started = start(driver, "FR")

    response = back(driver, started, "stop")

    assert "Vous avez quitté la page de paiement sans payer." in response.text


def test_ok_return_of_a_payment_the_platform_has_not_confirmed_never_says_paid(driver: HubDriver) -> None:
    started = start(driver, "EN")

    response = back(driver, started, "ok", etat="ok", id_trans="T1", montant="36.60")

    assert "Payment accepted" not in response.text
    assert "Waiting for the payment to be confirmed" in response.text


def test_return_language_follows_the_order_not_the_browser(driver: HubDriver) -> None:
    started = start(driver, "EN")

    response = driver.client.get(f"/return/demo/{started.payment_id}/stop", headers={"Accept-Language": "fr"})

    assert "You left the payment page without paying." in response.text


def test_test_payment_shows_the_test_banner(driver: HubDriver) -> None:
    started = start(driver, "EN")
    driver.post(driver.confirmation(started, mode="test"))

    response = back(driver, started)

    assert "TEST MODE: no real card is charged." in response.text


# A return changes nothing


@pytest.mark.parametrize(
    ("kind", "params"),
    [
        ("ok", {"etat": "ok", "mode": "", "id_trans": "T9", "montant": "36.60"}),
        ("ok", {"etat": "ko"}),
        ("stop", {"etat": "annu"}),
        ("stop", {}),
    ],
)
def test_return_never_changes_an_unconfirmed_payment(
    driver: HubDriver, kind: str, params: dict[str, str]
) -> None:
    started = start(driver)
    before = snapshot(driver, started.payment_id)

    back(driver, started, kind, **params)

    assert snapshot(driver, started.payment_id) == before
    assert driver.payment(started.payment_id).state == "created"


@pytest.mark.parametrize(("kind", "params"), [("stop", {"etat": "annu"}), ("ok", {"etat": "ko"})])
def test_return_never_changes_a_paid_payment(driver: HubDriver, kind: str, params: dict[str, str]) -> None:
    started = start(driver, "EN")
    driver.post(driver.confirmation(started))
    before = snapshot(driver, started.payment_id)

    response = back(driver, started, kind, **params)

    assert snapshot(driver, started.payment_id) == before
    assert "Payment accepted" in response.text


def test_return_params_are_never_shown(driver: HubDriver) -> None:
    started = start(driver, "EN")

    response = back(driver, started, "ok", montant="0.01", id_client="<b>forged</b>")

    assert "0.01" not in response.text
    assert "forged" not in response.text


# The back link


def test_back_link_is_the_shops_return_url(driver: HubDriver) -> None:
    started = start(driver)

    response = back(driver, started)

    assert links(response.text).hrefs == [RETURN_URL]


def test_back_link_ignores_urls_in_the_query(driver: HubDriver) -> None:
    started = start(driver)

    response = back(
        driver,
        started,
        "stop",
        url_retour_ok="https://evil.example/",
        return_url="https://evil.example/",
        next="https://evil.example/",
    )

    assert links(response.text).hrefs == [pay_link(driver, started), RETURN_URL]
    assert "evil.example" not in response.text


def test_shop_without_return_url_shows_no_back_link(hub: Hub, app: Any) -> None:
    bare = add_shop(hub, slug="bare", id_boutique="11111www", allowed_ips=[SANDBOX_IP])
    driver = HubDriver(hub, app.test_client(), bare)
    ref = driver.new_order()
    started = driver.start(ref)

    response = driver.client.get(
        f"/return/bare/{started.payment_id}/ok", query_string={"return_url": "https://evil.example/"}
    )

    assert response.status_code == 200
    assert links(response.text).hrefs == []


# Unknown returns


def test_unknown_payment_is_404(driver: HubDriver) -> None:
    response = driver.client.get(f"/return/demo/{'0' * 32}/ok")

    assert response.status_code == 404
    assert "Page not found." in response.text


def test_payment_under_another_shop_is_404(driver: HubDriver) -> None:
    started = start(driver)
    add_shop(driver.hub, slug="other", id_boutique="99999www", allowed_ips=[SANDBOX_IP])

    response = driver.client.get(f"/return/other/{started.payment_id}/ok")

    assert response.status_code == 404
    assert started.fields["id_client"] not in response.text


def test_unknown_return_kind_is_404(driver: HubDriver) -> None:
    started = start(driver)

    response = back(driver, started, "paid")

    assert response.status_code == 404


def test_unknown_payment_is_404_in_french(driver: HubDriver) -> None:
    response = driver.client.get(f"/return/demo/{'0' * 32}/ok", headers={"Accept-Language": "fr"})

    assert response.status_code == 404
    assert "Page introuvable." in response.text


def test_order_without_a_language_follows_the_browser(driver: HubDriver) -> None:
    started = start(driver, language="")

    english = driver.client.get(
        f"/return/demo/{started.payment_id}/stop", headers={"Accept-Language": "en-GB,en;q=0.8"}
    )

    assert '<html lang="en">' in english.text
    assert "You left the payment page without paying." in english.text


def test_order_and_browser_without_a_language_fall_back_to_the_shop(driver: HubDriver) -> None:
    started = start(driver, language="")

    page = driver.client.get(f"/return/demo/{started.payment_id}/stop")

    assert '<html lang="fr">' in page.text  # the shop's language is FR by default


# The shop's name, and trying again


def test_the_return_page_is_under_the_shops_name(hub: Hub, app: Any) -> None:
    named = add_shop(hub, slug="named", name="Librairie <Lune>", id_boutique="22222www")
    driver = HubDriver(hub, app.test_client(), named)
    started = driver.start(driver.new_order())

    response = driver.client.get(f"/return/named/{started.payment_id}/ok", headers={"Accept-Language": "en"})

    assert "<header>Librairie &lt;Lune&gt;</header>" in response.text
    assert "<title>Waiting for the payment to be confirmed… — Librairie &lt;Lune&gt;</title>" in response.text


@pytest.mark.parametrize(
    ("etat", "headline"), [("ko", "The payment was refused."), ("annu", "The payment was cancelled.")]
)
def test_after_a_refusal_or_a_cancel_the_page_offers_the_pay_link_again(
    driver: HubDriver, etat: str, headline: str
) -> None:
    started = start(driver, "EN")
    driver.post(driver.confirmation(started, etat=etat))

    response = back(driver, started, "stop")

    assert headline in response.text
    assert links(response.text).hrefs == [pay_link(driver, started), RETURN_URL]
    assert ">Try again</a>" in response.text


def test_a_buyer_who_left_the_payment_page_may_try_again(driver: HubDriver) -> None:
    started = start(driver, "FR")

    response = back(driver, started, "stop")

    assert links(response.text).hrefs == [pay_link(driver, started), RETURN_URL]
    assert ">Réessayer</a>" in response.text


@pytest.mark.parametrize("etat", ["ok", "attente"])
def test_a_paid_or_pending_payment_offers_no_second_try(driver: HubDriver, etat: str) -> None:
    started = start(driver, "EN")
    driver.post(driver.confirmation(started, etat=etat))

    response = back(driver, started)

    assert links(response.text).hrefs == [RETURN_URL]


def test_another_browser_gets_no_pay_link_it_did_not_open(driver: HubDriver, app: Any) -> None:
    started = start(driver, "EN")
    driver.post(driver.confirmation(started, etat="ko"))

    stranger = app.test_client().get(f"/return/demo/{started.payment_id}/stop")

    assert "The payment was refused." in stranger.text
    assert links(stranger.text).hrefs == [RETURN_URL]
    assert "/pay/" not in stranger.text


def test_with_the_shops_own_order_key_the_pay_link_again_carries_that_key(make_driver: MakeDriver) -> None:
    book = OrderBook()
    driver = book_driver(make_driver, book_shop(book))
    ref = book.add("A1")
    started = driver.start(ref, ORDER_KEY)
    driver.post(driver.confirmation(started, etat="ko"))

    response = driver.client.get(f"/return/demo/{started.payment_id}/ok")

    assert links(response.text).hrefs == [f"{PUBLIC}/pay/demo/A1?key={ORDER_KEY}"]
