"""The same flow in a real browser: Playwright driving Debian's Chromium."""

from __future__ import annotations

from playwright.sync_api import Page

from hub.models import Shop
from sandbox.cards import TEST_CARDS, Scenario
from tests.e2e.conftest import Stack

ACCEPTED = next(card for card in TEST_CARDS if card.scenario is Scenario.ACCEPTED)


def pay_with_card(page: Page, number: str, card_type: str) -> None:
    page.select_option("select[name=card_type]", card_type)
    page.fill("input[name=number]", number)
    page.select_option("select[name=expiry_month]", "12")
    page.select_option("select[name=expiry_year]", "2030")
    page.fill("input[name=cvv2]", "123")
    page.click("button[name=pay]")


def test_french_buyer_pays_and_comes_back_to_a_paid_page(stack: Stack, page: Page) -> None:
    ref = stack.new_order("36.60", language="FR")

    page.goto(stack.pay_url(ref))
    assert page.url.startswith(f"{stack.sandbox_url}/p/")
    assert page.get_attribute("html", "lang") == "fr"
    assert page.get_by_label("Numéro de carte").is_visible()
    assert "36,60" in page.inner_text(".amount")
    pay_with_card(page, ACCEPTED.number, ACCEPTED.type.value)
    page.wait_for_url(f"{stack.hub_url}/return/**")

    assert page.inner_text("h1") == "Paiement accepté. Merci\u202f!"
    assert stack.payment(ref).state == "paid"
    assert stack.run_worker() == ["done"]
    assert stack.order_status(ref) == "paid"


def test_english_buyer_through_the_auto_submitted_post_form(stack: Stack, page: Page) -> None:
    with stack.hub.db.transaction() as session:
        shop = session.get(Shop, stack.shop.id)
        assert shop is not None
        shop.redirect_method = "post"
    ref = stack.new_order("12.50", language="EN")

    # The hub's page posts itself to the platform with a script allowed by its CSP nonce.
    page.goto(stack.pay_url(ref))
    page.wait_for_url(f"{stack.sandbox_url}/p/**")
    assert page.get_attribute("html", "lang") == "en"
    assert page.get_by_label("Card number").is_visible()
    pay_with_card(page, ACCEPTED.number, ACCEPTED.type.value)
    page.wait_for_url(f"{stack.hub_url}/return/**")

    assert page.inner_text("h1") == "Payment accepted. Thank you!"
    assert stack.payment(ref).state == "paid"


def test_retour_boutique_comes_back_unpaid(stack: Stack, page: Page) -> None:
    ref = stack.new_order(language="FR")

    page.goto(stack.pay_url(ref))
    page.click("button.stop")
    page.wait_for_url(f"{stack.hub_url}/return/**/stop")

    # The platform tells the hub (etat=annu) before the browser leaves: the page says so.
    assert page.inner_text("h1") == "Le paiement a été annulé."
    assert stack.payment(ref).state == "cancelled"
    # The order stays payable: the link offered leads to a new payment page.
    assert stack.run_worker() == ["done"]
    page.get_by_role("link", name="Réessayer").click()
    page.wait_for_url(f"{stack.sandbox_url}/p/**")
    assert page.get_by_label("Numéro de carte").is_visible()
