"""The cart's catalog in the back office: the list, a product's form, on sale or off,
and a CSV upload imported as ``bluepaid catalog import`` does (every bad row listed,
nothing imported); owners only, CSRF, and no page of it for another shop's user."""

from __future__ import annotations

import io

import pytest
from flask import Flask

from cart.catalog import import_catalog, parse_catalog, products
from hub.backoffice.users import add_user
from hub.context import Hub
from hub.models import Role, Shop
from hub.shops import add_shop
from tests.backoffice.conftest import PASSWORD, STRANGER, Browser, csrf
from tests.cart.conftest import CATALOG
from tests.hub.conftest import SANDBOX_IP

CART_OWNER = "owner@boutique.test"
CART_READER = "reader@boutique.test"
CATALOG_PAGE = "/backoffice/shops/boutique/catalog"


@pytest.fixture
def cart_shop(hub: Hub, users: None) -> Shop:
    shop = add_shop(hub, slug="boutique", id_boutique="55555www", connector="cart", allowed_ips=[SANDBOX_IP])
    import_catalog(hub.db, "boutique", parse_catalog(CATALOG.splitlines(keepends=True), "EUR"))
    add_user(hub, CART_OWNER, PASSWORD, {"boutique": Role.OWNER})
    add_user(hub, CART_READER, PASSWORD, {"boutique": Role.READ_ONLY})
    return shop


def logged_in(app: Flask, email: str) -> Browser:
    browser = Browser(app.test_client())
    assert browser.login(email).status_code == 302
    return browser


def product_id(hub: Hub, sku: str) -> int:
    return next(p.id for p in products(hub.db, "boutique") if p.sku == sku)


def upload(browser: Browser, text: str, name: str = "products.csv") -> str:
    """POST ``text`` as the import form's file; the page's text."""
    token = csrf(browser.get(CATALOG_PAGE))
    data = {"csrf_token": token, "file": (io.BytesIO(text.encode()), name)}
    response = browser.client.post(f"{CATALOG_PAGE}/import", data=data, content_type="multipart/form-data")
    return f"{response.status_code} {response.text}"


def test_the_owner_sees_the_products_and_imports_a_file(app: Flask, hub: Hub, cart_shop: Shop) -> None:
    owner = logged_in(app, CART_OWNER)

    listing = owner.get(CATALOG_PAGE).text
    page = upload(owner, "sku;name;price;vat_rate\nTEE;T-shirt bleu;21,00;20\nCAP;Casquette;15;20\n")

    assert (
        "T-shirt &lt;bio&gt;" in listing
        and "19.90" in listing
        and "20&#x202F;%" in listing
        and "5.5&#x202F;%" in listing
    )
    assert page.startswith("200 ") and "1 new, 1 updated" in page
    by_sku = {p.sku: p for p in products(hub.db, "boutique")}
    assert (by_sku["TEE"].name, str(by_sku["TEE"].price), by_sku["CAP"].active) == (
        "T-shirt bleu",
        "21.00",
        True,
    )


def test_a_bad_file_lists_every_bad_row_and_imports_nothing(app: Flask, hub: Hub, cart_shop: Shop) -> None:
    owner = logged_in(app, CART_OWNER)
    before = [(p.sku, p.name) for p in products(hub.db, "boutique")]

    page = upload(owner, "sku,name,price,vat_rate\nTEE,Changed,19.90,20\nBAD SKU,X,1,20\nCAP,Cap,-3,120\n")

    assert page.startswith("400 ") and "Nothing was imported" in page
    assert "line 3, column sku" in page
    assert "line 4, column price" in page and "line 4, column vat_rate" in page
    assert [(p.sku, p.name) for p in products(hub.db, "boutique")] == before


def test_a_file_that_is_not_utf8_is_refused_with_a_reason(app: Flask, cart_shop: Shop) -> None:
    owner = logged_in(app, CART_OWNER)
    token = csrf(owner.get(CATALOG_PAGE))
    data = {"csrf_token": token, "file": (io.BytesIO("sku,name\nÉ,é\n".encode("latin-1")), "latin.csv")}

    response = owner.client.post(f"{CATALOG_PAGE}/import", data=data, content_type="multipart/form-data")

    assert response.status_code == 400 and "not UTF-8" in response.text


def test_the_owner_edits_a_product_with_the_files_rules(app: Flask, hub: Hub, cart_shop: Shop) -> None:
    owner = logged_in(app, CART_OWNER)
    path = f"{CATALOG_PAGE}/{product_id(hub, 'BOOK')}"
    form = {
        "name": "Livre relié",
        "description": "",
        "price": "14,50",
        "vat_rate": "5.5",
        "image": "",
        "stock": "3",
    }

    bad = owner.post(path, {**form, "price": "0", "image": "http://img.test/x.png"}, page=path)
    good = owner.post(path, {**form, "active": "yes"}, page=path)

    assert bad.status_code == 400 and "price:" in bad.text and "image: not an https:// URL" in bad.text
    assert good.status_code == 200 and "Saved." in good.text
    book = next(p for p in products(hub.db, "boutique") if p.sku == "BOOK")
    assert (book.name, str(book.price), book.stock, book.active) == ("Livre relié", "14.50", 3, True)


def test_the_owner_takes_a_product_off_sale_and_back(app: Flask, hub: Hub, cart_shop: Shop) -> None:
    owner = logged_in(app, CART_OWNER)
    path = f"{CATALOG_PAGE}/{product_id(hub, 'TEE')}/active"

    off = owner.post(path, {"active": "no"}, page=CATALOG_PAGE)
    is_off = next(p.active for p in products(hub.db, "boutique") if p.sku == "TEE")
    owner.post(path, {"active": "yes"}, page=CATALOG_PAGE)

    assert off.status_code == 302 and is_off is False
    assert next(p.active for p in products(hub.db, "boutique") if p.sku == "TEE") is True


def test_anonymous_visitors_are_sent_to_the_login(app: Flask, hub: Hub, cart_shop: Shop) -> None:
    client = app.test_client()
    tee = product_id(hub, "TEE")

    for path in (CATALOG_PAGE, f"{CATALOG_PAGE}/{tee}"):
        response = client.get(path)
        assert response.status_code == 302 and "/backoffice/login" in response.headers["Location"]
    for path in (f"{CATALOG_PAGE}/import", f"{CATALOG_PAGE}/{tee}", f"{CATALOG_PAGE}/{tee}/active"):
        assert client.post(path, data={"active": "no"}).status_code in (302, 400)
    assert all(p.active for p in products(hub.db, "boutique") if p.sku == "TEE")


def test_a_read_only_user_reads_but_changes_nothing(app: Flask, hub: Hub, cart_shop: Shop) -> None:
    reader = logged_in(app, CART_READER)
    tee = product_id(hub, "TEE")

    listing = reader.get(CATALOG_PAGE)
    form = reader.get(f"{CATALOG_PAGE}/{tee}")

    assert listing.status_code == 200 and "T-shirt" in listing.text
    assert 'name="file"' not in listing.text and "Take off sale" not in listing.text
    assert form.status_code == 200 and "Save</button>" not in form.text and "readonly" in form.text
    assert reader.post(f"{CATALOG_PAGE}/{tee}/active", {"active": "no"}, page=CATALOG_PAGE).status_code == 403
    assert reader.post(f"{CATALOG_PAGE}/{tee}", {"name": "Mine"}, page=CATALOG_PAGE).status_code == 403
    assert upload(reader, "sku,name,price,vat_rate\nNEW,New,1,20\n").startswith("403 ")
    assert all(p.sku != "NEW" and p.name != "Mine" for p in products(hub.db, "boutique"))


def test_another_shops_user_sees_no_page_of_it(app: Flask, hub: Hub, cart_shop: Shop) -> None:
    stranger = logged_in(app, STRANGER)
    tee = product_id(hub, "TEE")

    assert stranger.get(CATALOG_PAGE).status_code == 404
    assert stranger.get(f"{CATALOG_PAGE}/{tee}").status_code == 404
    assert stranger.post(f"{CATALOG_PAGE}/{tee}/active", {"active": "no"}).status_code == 404
    assert all(p.active for p in products(hub.db, "boutique") if p.sku == "TEE")


def test_a_shop_that_is_not_a_cart_has_no_catalog(app: Flask, cart_shop: Shop) -> None:
    owner = logged_in(app, "owner@demo.test")

    assert owner.get("/backoffice/shops/demo/catalog").status_code == 404


def test_a_post_without_the_csrf_token_is_refused(app: Flask, hub: Hub, cart_shop: Shop) -> None:
    owner = logged_in(app, CART_OWNER)
    tee = product_id(hub, "TEE")

    response = owner.client.post(f"{CATALOG_PAGE}/{tee}/active", data={"active": "no"})

    assert response.status_code == 400
    assert all(p.active for p in products(hub.db, "boutique") if p.sku == "TEE")
