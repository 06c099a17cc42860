"""The shop's webhook page: the latest requests its webhook URL received, the values of
their query strings masked, shown to the shop's users only."""

from __future__ import annotations

from hub.redaction import MASK
from hub.testing.driver import HubDriver
from tests.backoffice.conftest import READER, STRANGER, Browser

PAGE = "/backoffice/shops/demo/webhooks"
SECRET = "s3cr3t-in-the-query-0123"


def webhook(driver: HubDriver, query: str) -> None:
    """A request to the shop's webhook URL with ``query`` as sent (raw, not re-encoded)."""
    driver.client.post(f"/webhooks/demo/{driver.shop.webhook_token}", query_string=query, data=b"{}")


def test_the_page_shows_each_webhooks_query_with_its_values_masked(owner: Browser, driver: HubDriver) -> None:
    webhook(driver, f"shop-id=Zx9b4s7mQ2&key={SECRET}")

    page = owner.get(PAGE)

    assert page.status_code == 200
    assert f"?shop-id={MASK}&amp;key={MASK}" in page.text
    assert SECRET not in page.text and "Zx9b4s7mQ2" not in page.text
    assert "connector payment_link takes no webhooks" in page.text


def test_a_query_is_shown_as_text_never_as_markup(owner: Browser, driver: HubDriver) -> None:
    webhook(driver, "<script>alert(1)</script>=1")

    page = owner.get(PAGE)

    assert "<script>alert(1)</script>" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text


def test_a_read_only_user_sees_the_page(browser: Browser, driver: HubDriver) -> None:
    webhook(driver, "ping=1")
    browser.login(READER)

    page = browser.get(PAGE)

    assert page.status_code == 200 and f"?ping={MASK}" in page.text


def test_another_shops_webhooks_are_not_found(browser: Browser, driver: HubDriver) -> None:
    webhook(driver, "ping=1")
    browser.login(STRANGER)

    assert browser.get(PAGE).status_code == 404


def test_the_shops_page_links_to_the_webhooks(owner: Browser) -> None:
    assert PAGE in owner.get("/backoffice/shops").text
