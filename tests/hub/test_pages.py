"""The hub's own pages: the landing page, and the 404 and 500 pages in its style and
the buyer's language."""

from __future__ import annotations

import dataclasses

import pytest
from flask import Flask

from bluepaid_plugins.money import Money
from hub.app import create_app
from hub.context import Hub
from hub.models import Shop
from hub.orders import create_link_order
from hub.shops import add_shop
from tests.hub.conftest import SANDBOX_IP

FRENCH = {"Accept-Language": "fr-FR,fr;q=0.9,en;q=0.5"}
LOOPBACK = {"REMOTE_ADDR": "127.0.0.1"}


def local_hub(hub: Hub) -> Flask:
    """The hub as ``bluepaid demo`` runs it: its public URL on this machine."""
    hub.config = dataclasses.replace(hub.config, public_url="http://127.0.0.1:5000")
    return create_app(hub=hub)


def test_the_landing_page_says_what_the_hub_is_and_where_to_go(app: Flask) -> None:
    response = app.test_client().get("/")

    assert response.status_code == 200
    assert "<h1>Bluepaid hub</h1>" in response.text
    assert "http://hub.test/pay/&lt;shop&gt;/&lt;order&gt;?key=&lt;key&gt;" in response.text
    # A sandbox platform has a console to point at.
    assert 'href="http://platform.test/console/"' in response.text


def test_the_landing_page_speaks_the_browsers_language(app: Flask) -> None:
    response = app.test_client().get("/", headers=FRENCH)

    assert '<html lang="fr">' in response.text
    assert "La plateforme bac à sable" in response.text


def test_a_local_demo_hub_lists_the_demo_shops_open_links_to_this_machine(hub: Hub, shop: Shop) -> None:
    order = create_link_order(
        hub.db, shop, Money.parse("12.50", "EUR"), now=hub.clock(), description="Blue mug"
    )
    client = local_hub(hub).test_client()

    page = client.get("/", environ_overrides=LOOPBACK).text
    stranger = client.get("/", environ_overrides={"REMOTE_ADDR": "203.0.113.9"}).text

    assert "Blue mug" in page
    assert f"/pay/demo/{order.ref}?key=" in page
    # A pay link is a buyer's key to an order: nobody but this machine sees them.
    assert "Blue mug" not in stranger
    assert "/pay/demo/" not in stranger


def test_a_live_shop_named_demo_never_has_its_links_listed(hub: Hub) -> None:
    live = add_shop(hub, slug="demo", id_boutique="21573www", test_mode=False, allowed_ips=[SANDBOX_IP])
    create_link_order(hub.db, live, Money.parse("9.00", "EUR"), now=hub.clock(), description="Real order")

    page = local_hub(hub).test_client().get("/", environ_overrides=LOOPBACK).text

    assert "Real order" not in page


def test_an_unknown_page_is_a_404_in_the_hubs_style_and_the_buyers_language(app: Flask) -> None:
    english = app.test_client().get("/no/such/page")
    french = app.test_client().get("/no/such/page", headers=FRENCH)

    assert english.status_code == 404
    assert "<h1>Page not found.</h1>" in english.text
    assert '<html lang="en">' in english.text
    assert french.status_code == 404
    assert "<h1>Page introuvable.</h1>" in french.text
    # The hub's page, not Werkzeug's.
    assert "The requested URL was not found on the server" not in english.text
    assert english.text.count("<main") == 1


@pytest.mark.parametrize("headers", [{}, FRENCH])
def test_an_unexpected_error_is_a_500_page_without_a_traceback(hub: Hub, headers: dict[str, str]) -> None:
    app = create_app(hub=hub)
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.get("/boom")
    def boom() -> str:
        raise RuntimeError("secret detail of the failure")

    response = app.test_client().get("/boom", headers=headers)

    assert response.status_code == 500
    expected = "Une erreur est survenue." if headers else "Something went wrong."
    assert f"<h1>{expected}</h1>" in response.text
    assert "secret detail" not in response.text
    assert "Traceback" not in response.text


def test_a_method_the_route_does_not_take_gets_the_hubs_page_too(app: Flask) -> None:
    response = app.test_client().post("/", headers=FRENCH)

    assert response.status_code == 405
    assert "<h1>Cette demande ne peut pas aboutir.</h1>" in response.text
