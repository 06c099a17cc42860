"""The merchant's back office in a real browser: log in, the dashboard, the payments,
one payment's timeline, statements, settings, the cart's catalog, on a desktop and on a
phone, with screenshots."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page

from hub.backoffice.users import add_user
from hub.models import Role
from hub.testing.stack import pay_with_card
from tests.e2e.conftest import Stack
from tests.e2e.test_cart import cart_shop
from tests.e2e.test_screens import DESKTOP, PHONE, VISA, fits_the_screen

PASSWORD = "correct horse battery"


@pytest.fixture
def merchant(stack: Stack) -> str:
    add_user(stack.hub, "owner@shop.test", PASSWORD, {stack.shop.slug: Role.OWNER})
    return "owner@shop.test"


def log_in(page: Page, stack: Stack, email: str) -> None:
    page.goto(f"{stack.hub_url}/backoffice/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def test_the_main_back_office_path(stack: Stack, merchant: str, page: Page, shoot: object) -> None:
    ref = stack.new_order("36.60")
    pay_with_card(stack, stack.pay_url(ref), VISA)
    stack.run_worker()
    page.set_extra_http_headers({"Accept-Language": "en"})
    page.set_viewport_size(DESKTOP)

    log_in(page, stack, merchant)
    assert page.inner_text("h1") == "Dashboard"
    assert page.locator("svg.chart rect").count() == 90
    shoot("backoffice-dashboard")  # type: ignore[operator]

    page.get_by_role("link", name="Payments").first.click()
    page.get_by_label("Search").fill(ref)
    page.get_by_role("button", name="Filter").click()
    assert "1 payment" in page.inner_text("main")
    shoot("backoffice-payments")  # type: ignore[operator]

    page.get_by_role("link", name=ref).click()
    timeline = page.inner_text("ol.timeline")
    assert "Request sent to the platform" in timeline
    assert "Confirmation received from 127.0.0.1" in timeline
    assert stack.shop.confirm_token not in page.content()
    shoot("backoffice-payment-timeline")  # type: ignore[operator]

    page.get_by_role("link", name="Statements").click()
    assert page.get_by_role("link", name="PDF").count() == 6
    shoot("backoffice-statements")  # type: ignore[operator]

    page.get_by_role("link", name="Shops").click()
    page.get_by_role("link", name="Settings").click()
    assert page.get_by_label("Return URL").is_visible()
    shoot("backoffice-settings")  # type: ignore[operator]

    page.get_by_role("button", name="Français").click()
    assert page.inner_text("h1").startswith("Réglages")


def test_the_back_office_on_a_phone_in_french(stack: Stack, merchant: str, page: Page, shoot: object) -> None:
    pay_with_card(stack, stack.pay_url(stack.new_order("12.50")), VISA)
    page.set_extra_http_headers({"Accept-Language": "fr-FR,fr;q=0.9"})
    page.set_viewport_size(PHONE)

    page.goto(f"{stack.hub_url}/backoffice/login")
    page.get_by_label("E-mail").fill(merchant)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()

    assert page.inner_text("h1") == "Tableau de bord"
    assert fits_the_screen(page)
    shoot("backoffice-dashboard-phone-fr")  # type: ignore[operator]
    page.goto(f"{stack.hub_url}/backoffice/payments")
    # The table itself may scroll sideways; on a phone its amount and state must not need to.
    assert page.evaluate("(s => s.scrollWidth <= s.clientWidth)(document.querySelector('.scroll'))")
    assert page.get_by_role("cell", name="12,50").is_visible()
    shoot("backoffice-payments-phone-fr")  # type: ignore[operator]


def test_the_owner_manages_the_carts_catalog(stack: Stack, page: Page, shoot: object, tmp_path: Path) -> None:
    slug = cart_shop(stack)
    add_user(stack.hub, "atelier@shop.test", PASSWORD, {slug: Role.OWNER})
    page.set_extra_http_headers({"Accept-Language": "en"})
    page.set_viewport_size(DESKTOP)
    log_in(page, stack, "atelier@shop.test")

    page.get_by_role("link", name="Shops").click()
    page.get_by_role("link", name="Catalog").click()
    assert "T-shirt bio" in page.inner_text("table")
    bad = tmp_path / "bad.csv"
    bad.write_text("sku;name;price;vat_rate\nTEE;T-shirt;19,90;20\nCAP;Casquette;-1;20\n", encoding="utf-8")
    page.get_by_label("Import a CSV file", exact=False).set_input_files(str(bad))
    page.get_by_role("button", name="Import", exact=True).click()
    assert "line 3, column price" in page.inner_text("[role=alert]")
    shoot("backoffice-catalog-import-errors")  # type: ignore[operator]

    page.get_by_role("link", name="BOOK").click()
    page.get_by_label("Price, VAT included").fill("13,50")
    page.get_by_role("button", name="Save", exact=True).click()
    assert "Saved." in page.inner_text("main")
    page.get_by_role("link", name="Catalog").last.click()
    page.get_by_role("row", name="TEE").get_by_role("button", name="Take off sale").click()
    assert "Put on sale" in page.inner_text("table")
    shoot("backoffice-catalog")  # type: ignore[operator]

    page.set_extra_http_headers({"Accept-Language": "fr-FR,fr;q=0.9"})
    page.set_viewport_size(PHONE)
    page.get_by_role("button", name="Français").click()
    assert page.inner_text("h1").startswith("Catalogue")
    assert fits_the_screen(page)
    shoot("backoffice-catalog-phone-fr")  # type: ignore[operator]
