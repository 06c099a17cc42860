"""A buyer shops in the built-in cart in a real browser: two products in French on a
phone, the sandbox's card page, the hub's return page, the order paid; a refused card
keeps the basket. Screenshots of each page (see :mod:`tests.e2e.test_screens`)."""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace
from typing import cast

import pytest
import requests
from playwright.sync_api import Page

from cart.catalog import import_catalog, parse_catalog
from hub.shops import add_shop
from hub.testing.stack import free_port, pay_with_card
from hub.urls import confirmation_url
from sandbox.accounts import add_account
from sandbox.cards import TEST_CARDS, CardType, Scenario
from tests.e2e.conftest import Stack
from tests.e2e.test_screens import PHONE, VISA, fits_the_screen, pay_with_visa
from tests.hub.shop_stub import wait_until
from tests.hub.test_demo import SCRIPT, demo_process, newcomer_environment

CART_BOUTIQUE = "CART5678"
REFUSED = next(card for card in TEST_CARDS if card.scenario is Scenario.REFUSED_CEILING)

#: The catalog of the tests, as a merchant writes it (semicolons, decimal commas).
PRODUCTS = """sku;name;description;price;vat_rate;stock
TEE;T-shirt bio;Coton bio, teint en France;19,90;20;5
BOOK;Livre de recettes;200 recettes de saison;12,00;5,5;
"""


def cart_shop(stack: Stack) -> str:
    """A cart shop with a shipping fee, its catalog, and its sandbox account."""
    shop = add_shop(
        stack.hub,
        slug="lilas",
        id_boutique=CART_BOUTIQUE,
        name="Atelier des Lilas",
        allowed_ips=["127.0.0.1"],
        connector="cart",
        settings={"shipping_fee": "4.90", "countries": "FR BE"},
        return_url=f"{stack.hub_url}/cart/lilas/orders",
    )
    import_catalog(stack.hub.db, "lilas", parse_catalog(PRODUCTS.splitlines(keepends=True), "EUR"))
    add_account(
        stack.platform,
        CART_BOUTIQUE,
        name="Atelier des Lilas",
        merchant_email="atelier@shop.test",
        url_confirmation=confirmation_url(stack.hub, shop),
    )
    return shop.slug


def fill_in_details(page: Page) -> None:
    page.get_by_label("E-mail").fill("ada@example.com")
    page.get_by_label("Nom", exact=True).fill("Lovelace")
    page.get_by_label("Prénom").fill("Ada")
    page.get_by_label("Téléphone").fill("01 23 45 67 89")
    page.get_by_label("Adresse").fill("12 rue des Lilas")
    page.get_by_label("Code postal").fill("75011")
    page.get_by_label("Ville").fill("Paris")
    page.get_by_label("Pays").select_option("FR")


def fill_basket(stack: Stack, page: Page, shoot: object) -> None:
    """Two T-shirts from the product's page, a book from the list, on a French phone."""
    page.set_extra_http_headers({"Accept-Language": "fr-FR,fr;q=0.9"})
    page.set_viewport_size(PHONE)
    page.goto(f"{stack.hub_url}/cart/lilas")
    assert page.inner_text("h1") == "Produits"
    assert fits_the_screen(page)
    shoot("cart-products-phone-fr")  # type: ignore[operator]

    page.get_by_role("link", name="T-shirt bio").click()
    page.get_by_label("Quantité").fill("2")
    shoot("cart-product-phone-fr")  # type: ignore[operator]
    page.get_by_role("button", name="Ajouter au panier").click()
    page.get_by_role("link", name="Produits").click()
    page.get_by_role("button", name="Ajouter Livre de recettes au panier").click()
    assert page.inner_text("h1") == "Panier"
    main = page.inner_text("main")
    assert "56,70\u00a0€" in main  # 2 × 19,90 + 12,00 + 4,90 of shipping
    assert fits_the_screen(page)
    shoot("cart-basket-phone-fr")  # type: ignore[operator]


def test_a_buyer_buys_two_products_in_french_and_sees_the_order_paid(
    stack: Stack, page: Page, shoot: object
) -> None:
    cart_shop(stack)
    fill_basket(stack, page, shoot)

    page.get_by_role("link", name="Commander").click()
    fill_in_details(page)
    shoot("cart-checkout-phone-fr")  # type: ignore[operator]
    page.get_by_role("button", name="Continuer vers le paiement").click()
    page.wait_for_url(f"{stack.sandbox_url}/p/**")
    assert "Payer 56,70" in page.inner_text("button[name=pay]")

    pay_with_visa(page)
    page.wait_for_url(f"{stack.hub_url}/return/**")
    assert page.inner_text("h1") == "Paiement accepté. Merci\u202f!"
    stack.run_worker()
    page.get_by_role("link", name="Retour à la boutique").click()
    page.get_by_role("link", name=re.compile("^C")).first.click()

    assert "Payée" in page.inner_text("main")
    assert "Panier (0)" in page.inner_text("nav")
    assert fits_the_screen(page)
    shoot("cart-order-paid-phone-fr")  # type: ignore[operator]


def test_a_refused_card_shows_the_refusal_and_keeps_the_basket(
    stack: Stack, page: Page, shoot: object
) -> None:
    cart_shop(stack)
    fill_basket(stack, page, shoot)
    page.get_by_role("link", name="Commander").click()
    fill_in_details(page)
    page.get_by_role("button", name="Continuer vers le paiement").click()
    page.wait_for_url(f"{stack.sandbox_url}/p/**")

    page.select_option("select[name=card_type]", CardType.VISA.value)
    page.fill("input[name=number]", REFUSED.number)
    page.fill("input[name=cvv2]", "123")
    page.click("button[name=pay]")
    assert page.inner_text("h1") == "Paiement refusé"
    page.get_by_role("link", name="Retour boutique").click()
    page.wait_for_url(f"{stack.hub_url}/return/**")
    assert page.inner_text("h1") == "Le paiement a été refusé."
    stack.run_worker()
    page.goto(f"{stack.hub_url}/cart/lilas/basket")

    assert "Panier (3)" in page.inner_text("nav")
    assert "56,70\u00a0€" in page.inner_text("main")
    shoot("cart-basket-kept-after-refusal-phone-fr")  # type: ignore[operator]


def test_the_cart_pages_never_hold_a_card_field(stack: Stack, page: Page, tmp_path: Path) -> None:
    cart_shop(stack)
    page.goto(f"{stack.hub_url}/cart/lilas")
    page.get_by_role("button", name="Add Livre de recettes to the basket").click()
    pages = ["/cart/lilas", "/cart/lilas/basket", "/cart/lilas/checkout"]

    for path in pages:
        page.goto(f"{stack.hub_url}{path}")
        names = page.eval_on_selector_all(
            "input, select, textarea", "els => els.map(e => [e.name, e.id, e.autocomplete].join(' '))"
        )
        assert not [name for name in names if re.search(r"card|cc-|cvv|cvc|expir", str(name), re.I)], path


README = Path(__file__).resolve().parents[2] / "README.md"
#: The README's second command of the first sale from a CSV of products.
FIRST_SALE = ".venv/bin/bluepaid demo --catalog products.csv"


def details(csrf: str) -> dict[str, str]:
    return {
        "csrf_token": csrf,
        "email": "ada@example.com",
        "last_name": "Lovelace",
        "first_name": "Ada",
        "phone": "01 23 45 67 89",
        "address": "12 rue des Lilas",
        "postcode": "75011",
        "city": "Paris",
        "country": "FR",
    }


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert found, "the page has no CSRF token"
    return found.group(1)


@pytest.mark.slow
def test_the_readmes_two_commands_make_a_first_sale_in_the_merchants_own_cart(tmp_path: Path) -> None:
    lines = [line.strip() for line in README.read_text(encoding="utf-8").splitlines()]
    assert FIRST_SALE in lines, "the README no longer shows the first sale's command"
    (tmp_path / "products.csv").write_text(PRODUCTS, encoding="utf-8")
    venv = tmp_path / ".venv" / "bin"
    venv.mkdir(parents=True)
    # The first command made .venv here; this test's virtualenv stands in for it.
    (venv / "bluepaid").symlink_to(SCRIPT)
    hub_port, sandbox_port = free_port(), free_port()
    hub_url, sandbox_url = f"http://127.0.0.1:{hub_port}", f"http://127.0.0.1:{sandbox_port}"
    # Exactly the README's command, on free ports: the machine may be running another demo.
    command = ["bash", "-c", f"exec {FIRST_SALE} --port {hub_port} --sandbox-port {sandbox_port}"]

    with demo_process(command, tmp_path, newcomer_environment(), (hub_port, sandbox_port)) as served:
        assert f"your cart        : {hub_url}/cart/boutique" in served.printed()
        with requests.Session() as buyer:
            buyer.headers["Accept-Language"] = "en"
            products = buyer.get(f"{hub_url}/cart/boutique", timeout=10).text
            add = re.search(r'action="(/cart/boutique/basket/add/\d+)"', products)
            assert add, products
            buyer.post(
                f"{hub_url}{add.group(1)}",
                data={"csrf_token": csrf_of(products), "quantity": "2"},
                timeout=10,
            )
            checkout = buyer.get(f"{hub_url}/cart/boutique/checkout", timeout=10).text
            sent = buyer.post(
                f"{hub_url}/cart/boutique/checkout",
                data=details(csrf_of(checkout)),
                allow_redirects=False,
                timeout=10,
            )
            assert sent.status_code == 303, sent.text
            stack = SimpleNamespace(hub_url=hub_url, sandbox_url=sandbox_url)
            paid = pay_with_card(cast(Stack, stack), sent.headers["Location"], VISA)
            assert paid.status_code == 200

            def shown_paid() -> bool:
                return "Paid" in buyer.get(f"{hub_url}/cart/boutique/orders", timeout=10).text

            wait_until(shown_paid, "the order to show paid in the cart", timeout=30)
