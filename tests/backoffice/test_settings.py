"""Shop settings in the back office: the connector's form (secrets write-only), the
status mapping, and the production lock an owner lifts with a reason."""

from __future__ import annotations

import re

from flask import Flask
from sqlalchemy import select, update

from hub.context import Hub
from hub.models import AuditEntry, Membership, Role, Shop, User
from hub.shops import add_shop
from tests.backoffice.conftest import OWNER, Browser

SETTINGS = "/backoffice/shops/demo/settings"


def go_live(hub: Hub) -> None:
    with hub.db.transaction() as db:
        db.execute(update(Shop).where(Shop.slug == "demo").values(test_mode=False))


def test_payment_settings_are_saved_and_recorded(owner: Browser, hub: Hub) -> None:
    response = owner.post(
        SETTINGS,
        {
            "return_url": "https://shop.test/",
            "redirect_method": "post",
            "allowed_ips": "193.33.47.34\n127.0.0.1",
        },
        page=SETTINGS,
    )

    assert response.status_code == 200 and "Saved." in response.text
    with hub.db.transaction() as db:
        shop = db.scalars(select(Shop).where(Shop.slug == "demo")).one()
        assert (shop.return_url, shop.redirect_method) == ("https://shop.test/", "post")
        assert shop.allowed_ips == ["193.33.47.34", "127.0.0.1"]
        assert db.scalars(select(AuditEntry.action)).all() == ["settings"]


def test_a_bad_address_saves_nothing(owner: Browser, hub: Hub) -> None:
    response = owner.post(SETTINGS, {"allowed_ips": "not an address"}, page=SETTINGS)

    assert response.status_code == 400
    assert "not an address" in response.text


def test_in_production_payment_settings_are_locked_until_unlocked_with_a_reason(
    owner: Browser, hub: Hub
) -> None:
    go_live(hub)

    refused = owner.post(
        SETTINGS, {"return_url": "https://elsewhere.test/", "allowed_ips": "127.0.0.1"}, page=SETTINGS
    )
    no_reason = owner.post("/backoffice/shops/demo/unlock", {"reason": " "}, page=SETTINGS)
    owner.post("/backoffice/shops/demo/unlock", {"reason": "new domain"}, page=SETTINGS)
    allowed = owner.post(
        SETTINGS, {"return_url": "https://elsewhere.test/", "allowed_ips": "127.0.0.1"}, page=SETTINGS
    )

    assert refused.status_code == 400 and "locked in production" in refused.text
    assert no_reason.status_code == 400
    assert allowed.status_code == 200
    with hub.db.transaction() as db:
        unlocks = db.scalars(select(AuditEntry).where(AuditEntry.action == "unlock_settings")).all()
        assert [(u.actor, u.detail) for u in unlocks] == [(OWNER, "new domain")]


def test_secrets_are_write_only(owner: Browser, hub: Hub) -> None:
    add_shop(
        hub,
        slug="woo",
        id_boutique="55555www",
        connector="woocommerce",
        settings={
            "base_url": "https://woo.test",
            "consumer_key": "ck_secretvalue123456",
            "consumer_secret": "cs_secretvalue123456",
        },
    )
    with hub.db.transaction() as db:
        user = db.scalars(select(User).where(User.email == OWNER)).one()
        shop = db.scalars(select(Shop).where(Shop.slug == "woo")).one()
        db.add(Membership(user_id=user.id, shop_id=shop.id, role=Role.OWNER.value))

    page = owner.get("/backoffice/shops/woo/settings").text
    owner.post(
        "/backoffice/shops/woo/settings",
        {"setting_base_url": "https://woo2.test", "setting_consumer_key": "", "allowed_ips": ""},
        page=SETTINGS,
    )

    assert "ck_secretvalue123456" not in page and "cs_secretvalue123456" not in page
    assert "set, unchanged if left empty" in page
    with hub.db.transaction() as db:
        shop = db.scalars(select(Shop).where(Shop.slug == "woo")).one()
    settings = hub.connector_settings(shop)
    assert settings["base_url"] == "https://woo2.test"
    assert settings["consumer_key"].reveal() == "ck_secretvalue123456"


def test_read_only_and_other_shops(browser: Browser) -> None:
    browser.login("reader@demo.test")
    assert browser.get(SETTINGS).status_code == 200
    assert browser.post(SETTINGS, {"return_url": "https://x.test/"}, page=SETTINGS).status_code == 403
    browser.post("/backoffice/logout", page="/backoffice/")
    browser.login("owner@other.test")
    assert browser.get(SETTINGS).status_code == 404


def test_a_field_not_sent_keeps_its_value(owner: Browser, hub: Hub) -> None:
    owner.post(SETTINGS, {"notify_email": "boss@shop.test"}, page=SETTINGS)

    with hub.db.transaction() as db:
        shop = db.scalars(select(Shop).where(Shop.slug == "demo")).one()
    assert shop.allowed_ips == ["127.0.0.1"]
    assert shop.notify_email == "boss@shop.test"


def test_an_owner_creates_an_api_token_shown_once_then_revokes_it(owner: Browser, app: Flask) -> None:
    created = owner.post("/backoffice/shops/demo/tokens", {"name": "accounting"}, page=SETTINGS)
    token = re.search(r"<code>(bp_[^<]+)</code>", created.text)
    assert token is not None
    api = app.test_client()
    headers = {"Authorization": f"Bearer {token.group(1)}"}
    assert api.get("/api/v1/payments", headers=headers).status_code == 200

    again = owner.get(SETTINGS).text
    token_id = re.search(r"/tokens/(\d+)/revoke", again)
    assert token_id is not None
    owner.post(f"/backoffice/shops/demo/tokens/{token_id.group(1)}/revoke", page=SETTINGS)

    assert token.group(1) not in again
    assert api.get("/api/v1/payments", headers=headers).status_code == 401


def test_the_shop_language_of_its_mails_is_chosen_in_the_settings(owner: Browser, hub: Hub) -> None:
    page = owner.get(SETTINGS).text
    saved = owner.post(SETTINGS, {"notify_email": "boss@shop.test", "language": "EN"}, page=SETTINGS)
    refused = owner.post(SETTINGS, {"language": "xx"}, page=SETTINGS)

    assert '<option value="FR" selected>' in page
    assert saved.status_code == 200 and refused.status_code == 400
    with hub.db.transaction() as db:
        assert db.scalars(select(Shop.language).where(Shop.slug == "demo")).one() == "EN"
