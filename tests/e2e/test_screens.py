"""The pages a buyer, a merchant and a tester see, in a real browser, with a screenshot of
each (in ``$BLUEPAID_SCREENSHOTS`` when set, to be looked at; else in the test's folder).

Each test asserts what a person would check by eye: the page's words, the primary
button, nothing wider than the screen."""

from __future__ import annotations

from playwright.sync_api import Page

from sandbox.cards import TEST_CARDS, CardType, Scenario
from tests.e2e.conftest import Stack

VISA = next(c for c in TEST_CARDS if c.scenario is Scenario.ACCEPTED and c.type is CardType.VISA)
PHONE = {"width": 375, "height": 740}
DESKTOP = {"width": 1280, "height": 800}


def fits_the_screen(page: Page) -> bool:
    """Whether the page needs no horizontal scrolling at the viewport's width."""
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


def pay_with_visa(page: Page) -> None:
    """The card step as a tester does it: the type, a test card, a CVV2; the expiry as it starts."""
    page.select_option("select[name=card_type]", "VISA")
    page.fill("input[name=number]", VISA.number)
    page.fill("input[name=cvv2]", "123")
    page.click("button[name=pay]")


def background(page: Page, selector: str) -> str:
    return str(page.eval_on_selector(selector, "e => getComputedStyle(e).backgroundColor"))


def test_the_hub_landing_page(stack: Stack, page: Page, shoot: object) -> None:
    page.set_extra_http_headers({"Accept-Language": "fr-FR,fr;q=0.9"})
    page.set_viewport_size(DESKTOP)
    page.goto(f"{stack.hub_url}/")

    assert page.inner_text("h1") == "Hub Bluepaid"
    assert page.get_by_role("link", name="Sa console").get_attribute("href") == (
        f"{stack.sandbox_url}/console/"
    )
    assert fits_the_screen(page)
    shoot("hub-landing-fr")  # type: ignore[operator]


def test_the_payment_page_on_a_phone(stack: Stack, page: Page, shoot: object) -> None:
    page.set_viewport_size(PHONE)
    page.goto(stack.pay_url(stack.new_order("36.60", language="FR")))

    assert page.get_by_label("Numéro de carte").is_visible()
    # "Payer" is the primary button: it stands out from "Retour boutique".
    assert background(page, "button[name=pay]") != background(page, "button.stop")
    assert "Payer 36,60" in page.inner_text("button[name=pay]")
    assert fits_the_screen(page)
    shoot("sandbox-payment-page-phone-fr")  # type: ignore[operator]


def test_a_wrong_card_type_says_why_then_the_hub_offers_a_new_try(
    stack: Stack, page: Page, shoot: object
) -> None:
    page.set_viewport_size(DESKTOP)
    page.goto(stack.pay_url(stack.new_order("12.50", language="FR")))
    page.select_option("select[name=card_type]", "MASTERCARD")
    page.fill("input[name=number]", VISA.number)
    page.fill("input[name=cvv2]", "123")
    page.click("button[name=pay]")

    assert page.inner_text("h1") == "Paiement refusé"
    assert "le type choisi est MASTERCARD" in page.inner_text("main")
    shoot("sandbox-refused-wrong-type-fr")  # type: ignore[operator]

    page.get_by_role("link", name="Retour boutique").click()
    page.wait_for_url(f"{stack.hub_url}/return/**")
    assert page.inner_text("h1") == "Le paiement a été refusé."
    assert page.get_by_role("link", name="Réessayer").is_visible()
    assert fits_the_screen(page)
    shoot("hub-return-refused-fr")  # type: ignore[operator]


def test_an_english_buyer_pays_and_sees_the_shops_return_page(
    stack: Stack, page: Page, shoot: object
) -> None:
    page.set_extra_http_headers({"Accept-Language": "en-GB,en;q=0.9"})
    page.set_viewport_size(PHONE)
    # An order with no language of its own: the buyer's browser decides, on both sides.
    page.goto(stack.pay_url(stack.new_order("8.00", language="")))

    assert page.get_attribute("html", "lang") == "en"
    shoot("sandbox-payment-page-phone-en")  # type: ignore[operator]
    pay_with_visa(page)
    page.wait_for_url(f"{stack.hub_url}/return/**")

    assert page.inner_text("h1") == "Payment accepted. Thank you!"
    assert stack.shop.name in page.inner_text("header")
    assert fits_the_screen(page)
    shoot("hub-return-paid-phone-en")  # type: ignore[operator]


def test_the_french_console_lists_transactions(stack: Stack, page: Page, shoot: object) -> None:
    for language in ("FR", "EN"):
        page.goto(stack.pay_url(stack.new_order("5.00", language=language)))
        pay_with_visa(page)
        page.wait_for_url(f"{stack.hub_url}/return/**")
    page.set_viewport_size(DESKTOP)
    page.goto(f"{stack.sandbox_url}/console/transactions?lang=fr")

    table = page.inner_text("table")
    assert table.count("acceptée") == 2
    assert "accepted" not in table
    assert fits_the_screen(page)
    shoot("sandbox-console-transactions-fr")  # type: ignore[operator]


def test_an_unknown_hub_page(stack: Stack, page: Page, shoot: object) -> None:
    page.set_extra_http_headers({"Accept-Language": "fr"})
    page.set_viewport_size(PHONE)
    response = page.goto(f"{stack.hub_url}/nothing/here")

    assert response is not None and response.status == 404
    assert page.inner_text("h1") == "Page introuvable."
    shoot("hub-404-fr")  # type: ignore[operator]


def test_the_carts_pages_in_english_on_a_desktop(stack: Stack, page: Page, shoot: object) -> None:
    # Imported here: the cart's browser tests take this module's helpers.
    from tests.e2e.test_cart import cart_shop

    slug = cart_shop(stack)
    page.set_extra_http_headers({"Accept-Language": "en-GB,en;q=0.9"})
    page.set_viewport_size(DESKTOP)
    page.goto(f"{stack.hub_url}/cart/{slug}")
    page.get_by_role("link", name="T-shirt bio").click()

    assert page.inner_text(".price") == "€19.90 VAT included (20%)"
    assert "5 in stock" in page.inner_text("main")
    shoot("cart-product-desktop-en")  # type: ignore[operator]

    page.get_by_role("button", name="Add to basket").click()
    page.get_by_role("link", name="Checkout").click()
    page.get_by_label("Country").select_option("DE")
    page.get_by_role("button", name="Continue to payment").click()

    assert "Please correct the following:" in page.inner_text("main")
    assert "Sorry, this shop does not deliver to this country." in page.inner_text("main")
    assert page.get_by_label("Country").get_attribute("aria-invalid") == "true"
    assert fits_the_screen(page)
    shoot("cart-checkout-errors-desktop-en")  # type: ignore[operator]

    page.get_by_role("link", name="Français").click()
    assert page.get_attribute("html", "lang") == "fr"
    assert page.inner_text("h1") == "Commander"
