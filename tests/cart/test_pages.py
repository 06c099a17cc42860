"""The cart's pages: the basket, the checkout, the order and its payment, and what
they refuse (forged amounts, missing CSRF tokens, foreign countries, double submits)."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from hub.desk import ORDERS_PER_CLIENT
from hub.shops import get_shop
from hub.testing.driver import HubDriver
from tests.cart.conftest import GOOD, PLATFORM, PUBLIC, Buyer, MakeBuyer, errors
from tests.sandbox.backoffice_fixtures import SmtpSink

XSS = '"><script>alert(1)</script><img src=x onerror=alert(2)>'


class Tags(HTMLParser):
    """Every input and select of a page, with its attributes; ids; labels' targets; scripts."""

    def __init__(self) -> None:
        super().__init__()
        self.inputs: list[dict[str, str]] = []
        self.ids: set[str] = set()
        self.labels_for: set[str] = set()
        self.scripts = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if "id" in values:
            self.ids.add(values["id"])
        if tag in ("input", "select", "textarea"):
            self.inputs.append({"tag": tag, **values})
        if tag == "label" and "for" in values:
            self.labels_for.add(values["for"])
        if tag == "script":
            self.scripts += 1


def tags(page: str) -> Tags:
    found = Tags()
    found.feed(page)
    return found


def pay(buyer: Buyer, ref: str, etat: str = "ok") -> None:
    """The platform's answer for the order's payment, and the worker applying it."""
    driver = HubDriver(buyer.hub, buyer.client, get_shop(buyer.hub, "shop"))
    started = driver.start(ref)
    assert driver.post(driver.confirmation(started, etat=etat)).status_code == 200
    driver.run_worker()


def test_the_catalog_lists_active_products_escaped(buyer: Buyer) -> None:
    page = buyer.get().text

    assert "T-shirt &lt;bio&gt;" in page
    assert "<bio>" not in page
    assert "Ancien" not in page
    assert "€19.90" in page


def test_a_product_off_sale_or_of_another_shop_is_not_found(buyer: Buyer) -> None:
    assert buyer.get(f"/product/{buyer.product_id('OLD')}").status_code == 404
    assert buyer.get("/product/999").status_code == 404
    assert buyer.client.get("/cart/nope").status_code == 404


def test_the_basket_adds_changes_and_removes_lines(buyer: Buyer) -> None:
    buyer.add("TEE", 2)
    buyer.add("BOOK")
    buyer.add("TEE")
    assert "Basket (4)" in buyer.get("/basket").text

    buyer.post(f"/basket/{buyer.product_id('TEE')}", quantity="1", update="1")
    buyer.post(f"/basket/{buyer.product_id('BOOK')}", remove="1")
    page = buyer.get("/basket").text

    assert "Basket (1)" in page
    assert "Livre" not in page
    assert "€19.90" in page and "€24.80" in page  # one T-shirt and the 4.90 shipping


@pytest.mark.parametrize("quantity", ["-1", "100", "1.5", "abc", ""])
def test_a_bad_quantity_changes_nothing(buyer: Buyer, quantity: str) -> None:
    buyer.add("TEE", 2)

    answer = buyer.post(f"/basket/{buyer.product_id('TEE')}", quantity=quantity, update="1")

    assert answer.status_code == 400
    assert "Basket (2)" in buyer.get("/basket").text


def test_a_post_without_the_csrf_token_is_refused(buyer: Buyer) -> None:
    answer = buyer.post(f"/basket/add/{buyer.product_id('TEE')}", csrf=False, quantity="1")

    assert answer.status_code == 400
    assert "This form has expired" in answer.text
    assert "Basket (0)" in answer.text


def test_the_checkout_makes_an_order_of_the_catalog_prices_whatever_the_request_says(buyer: Buyer) -> None:
    buyer.add("TEE", 2)
    buyer.add("BOOK")

    answer = buyer.checkout(total="0.01", amount="0.01", montant="0.01", price="0.01")

    assert answer.status_code == 303
    (order,) = buyer.orders()
    assert (str(order.amount), order.email, order.buyer and order.buyer["country"]) == (
        "56.70",
        "ada@example.com",
        "FRA",
    )
    assert order.lines == [["T-shirt <bio>", 2, "19.90"], ["Livre", 1, "12.00"], ["Shipping", 1, "4.90"]]
    assert answer.headers["Location"].startswith(f"{PUBLIC}/pay/shop/{order.ref}?key=")
    assert buyer.stock("TEE") == 3


def test_every_text_field_takes_an_xss_string_and_shows_it_escaped(buyer: Buyer) -> None:
    buyer.add("TEE")

    answer = buyer.checkout(
        last_name=XSS, first_name=XSS, address=XSS, city=XSS, email=XSS, phone=XSS, postcode=XSS
    )

    assert answer.status_code == 400
    assert "<script>" not in answer.text
    assert "<img src=x" not in answer.text
    assert 'value="&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;' in answer.text
    assert errors(answer.text) == [
        "Invalid e-mail address.",
        "At most 32 characters.",
        "At most 10 characters.",
    ]


def test_a_buyer_from_a_country_the_shop_does_not_serve_is_told_before_paying(buyer: Buyer) -> None:
    buyer.add("TEE")

    answer = buyer.checkout(country="DE", postcode="10115")

    assert answer.status_code == 400
    assert errors(answer.text) == ["Sorry, this shop does not deliver to this country."]
    assert "We deliver to: Belgium, France." in answer.text
    assert buyer.orders() == []
    assert buyer.stock("TEE") == 5


def test_a_postcode_must_fit_the_country(buyer: Buyer) -> None:
    buyer.add("TEE")

    answer = buyer.checkout(country="BE", postcode="75011")

    assert errors(answer.text) == ["This postcode does not fit the chosen country."]


def test_a_checkout_sent_twice_makes_one_order(buyer: Buyer) -> None:
    buyer.add("TEE")
    data = {**GOOD, "csrf_token": buyer.token("/checkout")}

    first = buyer.client.post("/cart/shop/checkout", data=data)
    second = buyer.client.post("/cart/shop/checkout", data=data)

    assert (first.status_code, second.status_code) == (303, 303)
    assert len(buyer.orders()) == 1
    assert buyer.stock("TEE") == 4


def test_a_basket_short_of_stock_is_sent_back_and_nothing_held(buyer: Buyer) -> None:
    buyer.add("MUG", 2)

    answer = buyer.checkout()

    assert answer.status_code == 409
    assert "no longer available in that quantity" in answer.text
    assert (buyer.orders(), buyer.stock("MUG")) == ([], 1)


def test_a_paid_order_shows_paid_sells_the_stock_and_empties_the_basket(buyer: Buyer) -> None:
    buyer.add("TEE", 2)
    buyer.checkout()
    (order,) = buyer.orders()

    pay(buyer, order.ref)
    page = buyer.get(f"/order/{order.ref}").text

    assert "Paid" in page
    assert "Basket (0)" in page
    assert buyer.holds() == [("TEE", 2, "sold")]


def test_a_refused_payment_keeps_the_basket_and_gives_the_stock_back(buyer: Buyer) -> None:
    buyer.add("TEE", 2)
    buyer.checkout()
    (order,) = buyer.orders()

    pay(buyer, order.ref, etat="ko")
    page = buyer.get(f"/order/{order.ref}").text

    assert "Payment refused or given up" in page
    assert "Your basket is kept" in page
    assert "Basket (2)" in page
    assert buyer.stock("TEE") == 5
    assert buyer.checkout().status_code == 303
    assert buyer.stock("TEE") == 3


def test_an_order_is_shown_only_to_the_session_that_made_it(buyer: Buyer) -> None:
    buyer.add("TEE")
    buyer.checkout()
    (order,) = buyer.orders()

    stranger = Buyer(buyer.hub, buyer.client.application.test_client())

    assert stranger.get(f"/order/{order.ref}").status_code == 404
    assert buyer.get(f"/order/{order.ref}").status_code == 200


def test_the_pages_speak_french_with_a_switch_kept_across_pages(buyer: Buyer) -> None:
    buyer.add("TEE", 2)

    switched = buyer.client.get("/cart/shop/basket?lang=fr", headers={"Accept-Language": "en"})
    later = buyer.get("/checkout")

    assert 'lang="fr"' in switched.text
    assert "39,80\u00a0€" in switched.text
    assert "Panier" in later.text


def test_no_page_has_a_card_field_a_script_or_an_unlabelled_input(buyer: Buyer) -> None:
    buyer.add("TEE")
    pages = [buyer.get(path) for path in ("", f"/product/{buyer.product_id('TEE')}", "/basket", "/checkout")]

    for answer in pages:
        found = tags(answer.text)
        assert found.scripts == 0
        assert "script-src" not in answer.headers["Content-Security-Policy"]
        assert "default-src 'none'" in answer.headers["Content-Security-Policy"]
        for field in found.inputs:
            words = " ".join(field.get(name, "") for name in ("name", "id", "autocomplete")).lower()
            assert not any(card in words for card in ("card", "cc-", "cvv", "cvc", "expir", "pan")), field
            if field.get("type") not in ("hidden",):
                assert field.get("id") in found.labels_for or "aria-label" in field, field


def test_no_redirect_goes_where_the_request_says(buyer: Buyer) -> None:
    buyer.add("TEE")

    answers = [
        buyer.post(f"/basket/add/{buyer.product_id('TEE')}?next=https://evil.example", quantity="1"),
        buyer.post(f"/basket/{buyer.product_id('TEE')}?return=https://evil.example", remove="1"),
        buyer.client.get("/cart/shop/checkout?next=https://evil.example"),
    ]

    for answer in answers:
        assert answer.status_code == 303
        assert answer.headers["Location"].startswith("/cart/shop/")
    assert PLATFORM not in "".join(answer.headers["Location"] for answer in answers)


def test_too_many_checkouts_from_one_address_are_refused_and_hold_nothing(buyer: Buyer) -> None:
    buyer.add("BOOK")
    for _ in range(ORDERS_PER_CLIENT):
        assert buyer.checkout().status_code == 303
    buyer.add("TEE")

    refused = buyer.checkout()

    assert refused.status_code == 429
    assert "Too many payments were started from your connection" in refused.text
    assert len(buyer.orders()) == ORDERS_PER_CLIENT
    assert buyer.stock("TEE") == 5


def test_the_buyer_is_told_by_mail_in_their_language_once(make_buyer: MakeBuyer) -> None:
    with SmtpSink.running() as smtp:
        buyer = make_buyer(smtp_port=smtp.port, buyer_mail_name="Atelier des Lilas")
        buyer.language = "fr"
        buyer.add("TEE", 2)
        buyer.checkout()
        (order,) = buyer.orders()

        driver = HubDriver(buyer.hub, buyer.client, get_shop(buyer.hub, "shop"))
        confirmation = driver.confirmation(driver.start(order.ref))
        driver.post(confirmation)
        driver.run_worker()
        driver.post(confirmation)
        driver.run_worker()

    (mail,) = smtp.received
    assert mail.rcpt_tos == ["ada@example.com"]
    assert mail.message["Subject"] == f"[Atelier des Lilas] Commande {order.ref} payée"
    body = mail.message.get_content()
    assert "2 × T-shirt <bio> — 19.90 EUR" in body
    assert "Total\u00a0: 39.80 EUR" in body


def test_a_refused_payment_is_told_too_and_without_a_mail_server_nothing_is_sent(
    make_buyer: MakeBuyer,
) -> None:
    with SmtpSink.running() as smtp:
        told = make_buyer(smtp_port=smtp.port, buyer_mail_name="Atelier")
        told.add("BOOK")
        told.checkout()
        pay(told, told.orders()[0].ref, etat="ko")
    quiet = make_buyer(buyer_mail_name="Atelier")
    quiet.add("BOOK")
    quiet.checkout()
    pay(quiet, quiet.orders()[0].ref, etat="ko")

    (mail,) = smtp.received
    assert mail.message["Subject"] == f"[Atelier] Order {told.orders()[0].ref} not paid"
    assert quiet.orders()[0].status == "cancelled"
