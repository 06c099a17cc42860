"""The console never shows a confirmation URL's secret; confirmations still go to the whole URL."""

from __future__ import annotations

import html
import re

import pytest
from flask.testing import FlaskClient

from sandbox.accounts import add_account, get_account
from sandbox.cards import Scenario
from sandbox.masking import mask_in, mask_url
from sandbox.models import Account, Mode
from sandbox.platform import Platform
from tests.sandbox.backoffice_fixtures import csrf_app, csrf_token, free_port
from tests.sandbox.conftest import ID_BOUTIQUE, ShopServer, card, open_payment, pay, transaction

#: A token as the hub makes them (``secrets.token_urlsafe(32)``).
TOKEN = "Zq3vK8xN2mP5rT7wY9aB1cD4eF6gH0jL-_sUoViXkWs"
MASKED = f"/confirm/demo/{TOKEN[:4]}…"
#: What another shop module might carry in the query string.
QUERY_SECRET = "s3cr3t-k3y-0f-th3-sh0p"


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (f"https://hub.example/confirm/demo/{TOKEN}", f"https://hub.example{MASKED}"),
        (f"https://hub.example/prefix/confirm/demo/{TOKEN}", f"https://hub.example/prefix{MASKED}"),
        ("https://hub.example/confirm/demo/short", "https://hub.example/confirm/demo/…"),
        (
            f"https://shop.example/bluepaid/validation.php?step=3&key={QUERY_SECRET}",
            "https://shop.example/bluepaid/validation.php?step=3&key=s3cr…",
        ),
        ("https://merchant:longpassword@shop.example/c", "https://merchant:long…@shop.example/c"),
        ("https://shop.example/ok?controller=order", "https://shop.example/ok?controller=order"),
        ("", ""),
    ],
)
def test_a_url_is_shown_without_its_secret_parts(url: str, shown: str) -> None:
    assert mask_url(url) == shown


def test_a_text_quoting_the_url_is_masked_too() -> None:
    url = f"http://127.0.0.1:9/confirm/demo/{TOKEN}?key={QUERY_SECRET}"
    error = f"ConnectionError: Max retries exceeded with url: /confirm/demo/{TOKEN}?key={QUERY_SECRET}"

    assert mask_in(error, url) == f"ConnectionError: Max retries exceeded with url: {MASKED}?key=s3cr…"


@pytest.fixture
def secret_account(platform: Platform, shop: ShopServer) -> Account:
    """An account whose confirmation URL, on the shop server, carries the hub's token."""
    return add_account(
        platform,
        ID_BOUTIQUE,
        name="Boutique Démo",
        url_confirmation=f"{shop.url}/confirm/demo/{TOKEN}",
        merchant_email="merchant@shop.test",
    )


def console_pages(client: FlaskClient, id_trans: str) -> dict[str, str]:
    """Every console page that may show the account or the transaction, by path."""
    paths = [
        "/console/",
        "/console/transactions",
        f"/console/transactions/{id_trans}",
        "/console/accounts",
        f"/console/accounts/{ID_BOUTIQUE}",
        "/console/mails",
        "/console/subscriptions",
    ]
    pages = {path: client.get(path).get_data(as_text=True) for path in paths}
    for mail_path in sorted(set(re.findall(r'href="(/console/mails/[^"]+)"', pages["/console/mails"]))):
        pages[mail_path] = client.get(mail_path).get_data(as_text=True)
    return pages


def test_the_console_masks_the_token_while_the_confirmation_goes_to_the_whole_url(
    client: FlaskClient, platform: Platform, secret_account: Account, shop: ShopServer
) -> None:
    token = open_payment(client)
    assert pay(client, token, card(Scenario.ACCEPTED)).status_code == 303

    assert [request.path for request in shop.received] == [f"/confirm/demo/{TOKEN}"]
    pages = console_pages(client, transaction(platform, token).id_trans)
    assert [path for path, page in pages.items() if TOKEN in page] == []
    assert MASKED in pages[f"/console/transactions/{transaction(platform, token).id_trans}"]
    assert MASKED in pages[f"/console/accounts/{ID_BOUTIQUE}"]


def test_a_failed_delivery_shows_its_error_without_the_secrets(
    client: FlaskClient, platform: Platform, account: Account
) -> None:
    closed = f"http://127.0.0.1:{free_port()}/confirm/demo/{TOKEN}?key={QUERY_SECRET}"
    token = open_payment(client, url_retour_bo=closed.removeprefix("http://"))
    assert pay(client, token, card(Scenario.ACCEPTED)).status_code == 303

    page = client.get(f"/console/transactions/{transaction(platform, token).id_trans}").get_data(as_text=True)

    assert "ConnectionError" in page
    assert TOKEN not in page and QUERY_SECRET not in page
    assert f"{MASKED}?key=s3cr…" in page


def test_the_request_table_masks_a_confirmation_url_sent_in_the_request(
    client: FlaskClient, platform: Platform, account: Account, shop: ShopServer
) -> None:
    url_retour_bo = f"{shop.url.removeprefix('http://')}/confirm/demo/{TOKEN}"
    token = open_payment(client, url_retour_bo=url_retour_bo)
    assert pay(client, token, card(Scenario.ACCEPTED)).status_code == 303

    page = client.get(f"/console/transactions/{transaction(platform, token).id_trans}").get_data(as_text=True)

    assert [request.path for request in shop.received] == [f"/confirm/demo/{TOKEN}"]
    assert TOKEN not in page
    assert page.count(MASKED) == 2  # the request variable and the delivery


# ---------------------------------------------------------------- the account form


@pytest.fixture
def browser(platform: Platform) -> FlaskClient:
    return csrf_app(platform).test_client()


def shown_form(browser: FlaskClient) -> dict[str, str]:
    """The account form as the page fills it in, with its CSRF token: what "Save" sends."""
    path = f"/console/accounts/{ID_BOUTIQUE}"
    form = {"csrf_token": csrf_token(browser, path)}
    page = browser.get(path).get_data(as_text=True)
    for name, value in re.findall(r'<input id="[^"]+" name="([^"]+)" value="([^"]*)"', page):
        form[name] = html.unescape(value)
    for name in ("mode", "plan"):
        select = re.search(rf'<select id="{name}" name="{name}">(.*?)</select>', page, flags=re.S)
        assert select, f"no {name} on the page"
        chosen = re.search(r'<option value="([^"]+)" selected>', select.group(1))
        assert chosen, f"no {name} chosen on the page"
        form[name] = chosen.group(1)
    return form


@pytest.mark.parametrize("mode", [Mode.TEST, Mode.PRODUCTION])
def test_saving_the_form_as_shown_keeps_the_whole_confirmation_url(
    platform: Platform, browser: FlaskClient, mode: Mode
) -> None:
    whole = f"https://hub.example/confirm/demo/{TOKEN}"
    add_account(platform, ID_BOUTIQUE, url_confirmation=whole, mode=mode.value)
    form = shown_form(browser)
    assert form["url_confirmation"] == f"https://hub.example{MASKED}"

    answer = browser.post(f"/console/accounts/{ID_BOUTIQUE}", data={**form, "name": "Renamed"})

    assert answer.status_code == 302, answer.get_data(as_text=True)
    saved = get_account(platform, ID_BOUTIQUE)
    assert (saved.url_confirmation, saved.name) == (whole, "Renamed")


@pytest.mark.parametrize("typed", ["https://other-hub.example/confirm/demo/NewTokenNewTokenNewToken", ""])
def test_typing_over_the_masked_url_replaces_or_removes_it(
    platform: Platform, browser: FlaskClient, typed: str
) -> None:
    add_account(platform, ID_BOUTIQUE, url_confirmation=f"https://hub.example/confirm/demo/{TOKEN}")
    form = shown_form(browser)

    answer = browser.post(f"/console/accounts/{ID_BOUTIQUE}", data={**form, "url_confirmation": typed})

    assert answer.status_code == 302, answer.get_data(as_text=True)
    assert get_account(platform, ID_BOUTIQUE).url_confirmation == typed
