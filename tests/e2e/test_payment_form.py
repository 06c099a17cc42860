"""A buyer pays through the payment form in a real browser: the form with its buyer-details
section, the sandbox's card page, the hub's return page, the order paid. Screenshots of
each page (see :mod:`tests.e2e.test_screens`)."""

from __future__ import annotations

from playwright.sync_api import Page
from sqlalchemy import select

from hub.models import LinkOrder
from hub.shops import add_shop
from hub.urls import confirmation_url
from sandbox.accounts import add_account
from tests.e2e.conftest import Stack
from tests.e2e.test_screens import DESKTOP, PHONE, fits_the_screen, pay_with_visa

FORM_BOUTIQUE = "FORM5678"


def form_shop(stack: Stack) -> str:
    """A payment-form shop with its buyer-details section on, and its sandbox account."""
    shop = add_shop(
        stack.hub,
        slug="atelier",
        id_boutique=FORM_BOUTIQUE,
        name="Atelier des Lilas",
        allowed_ips=["127.0.0.1"],
        connector="payment_form",
        settings={"buyer_details": True, "min_amount": "5", "max_amount": "500"},
    )
    add_account(
        stack.platform,
        FORM_BOUTIQUE,
        name="Atelier des Lilas",
        merchant_email="atelier@shop.test",
        url_confirmation=confirmation_url(stack.hub, shop),
    )
    return shop.slug


def fill_in(page: Page, postcode: str) -> None:
    page.get_by_label("Montant (EUR)").fill("42,50")
    page.get_by_label("Référence ou description").fill("Facture 2026-118")
    page.get_by_label("E-mail").fill("ada@example.com")
    page.get_by_label("Nom", exact=True).fill("Lovelace")
    page.get_by_label("Prénom").fill("Ada")
    page.get_by_label("Téléphone").fill("01 23 45 67 89")
    page.get_by_label("Adresse").fill("12 rue des Lilas")
    page.get_by_label("Code postal").fill(postcode)
    page.get_by_label("Ville").fill("Paris")
    page.get_by_label("Pays").select_option("FR")


def test_a_buyer_pays_through_the_form_with_the_buyer_details(
    stack: Stack, page: Page, shoot: object
) -> None:
    slug = form_shop(stack)
    page.set_extra_http_headers({"Accept-Language": "fr-FR,fr;q=0.9"})
    page.set_viewport_size(PHONE)
    page.goto(f"{stack.hub_url}/form/{slug}")

    assert page.inner_text("h1") == "Payer Atelier des Lilas"
    assert fits_the_screen(page)
    shoot("form-empty-phone-fr")  # type: ignore[operator]

    fill_in(page, postcode="750")
    page.get_by_role("button", name="Continuer vers le paiement").click()
    assert "Ce code postal ne correspond pas au pays choisi." in page.inner_text("main")
    assert page.get_by_label("Code postal").get_attribute("aria-invalid") == "true"
    assert fits_the_screen(page)
    shoot("form-errors-phone-fr")  # type: ignore[operator]

    page.get_by_label("Code postal").fill("75011")
    page.get_by_role("button", name="Continuer vers le paiement").click()
    page.wait_for_url(f"{stack.sandbox_url}/p/**")
    assert "Payer 42,50" in page.inner_text("button[name=pay]")
    shoot("form-sandbox-card-page-phone-fr")  # type: ignore[operator]

    pay_with_visa(page)
    page.wait_for_url(f"{stack.hub_url}/return/**")
    assert page.inner_text("h1") == "Paiement accepté. Merci\u202f!"
    assert "Atelier des Lilas" in page.inner_text("header")
    shoot("form-return-paid-phone-fr")  # type: ignore[operator]

    stack.run_worker()
    with stack.hub.db.transaction() as session:
        order = session.scalars(select(LinkOrder).where(LinkOrder.shop_id != stack.shop.id)).one()
    assert (order.status, str(order.amount), order.description) == ("paid", "42.50", "Facture 2026-118")
    assert order.buyer is not None and order.buyer["country"] == "FRA"
    assert stack.payment(order.ref).state == "paid"


def test_the_form_offering_amounts_in_english_on_a_desktop(stack: Stack, page: Page, shoot: object) -> None:
    add_shop(
        stack.hub,
        slug="club",
        id_boutique="CLUB0001",
        name="Tennis club",
        connector="payment_form",
        settings={"amounts": "25 50 120", "reference_label": "Member number"},
    )
    page.set_extra_http_headers({"Accept-Language": "en-GB,en;q=0.9"})
    page.set_viewport_size(DESKTOP)
    page.goto(f"{stack.hub_url}/form/club")

    assert page.get_by_label("€120.00").is_visible()
    assert page.get_by_label("Member number").is_visible()
    page.get_by_role("button", name="Continue to payment").click()
    assert "Please correct the following:" in page.inner_text("main")
    shoot("form-amounts-errors-desktop-en")  # type: ignore[operator]

    page.get_by_role("link", name="Français").click()
    assert page.get_attribute("html", "lang") == "fr"
    assert page.get_by_label("120,00\xa0€").is_visible()
