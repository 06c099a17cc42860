"""The payment page: languages, card checks, referrer check, country ban, Retour boutique."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import inspect, text

from sandbox.accounts import add_account, set_account
from sandbox.app import create_sandbox_app
from sandbox.cards import CardType, Scenario
from sandbox.config import SandboxConfig
from sandbox.models import Account, TxStatus
from sandbox.platform import Platform
from tests.conftest import FrozenClock
from tests.sandbox.conftest import (
    GERMAN_ADDRESS,
    ID_BOUTIQUE,
    SHOP_OK,
    SHOP_STOP,
    ShopServer,
    back_to_shop,
    card,
    card_form,
    open_payment,
    page_token,
    pay,
    transaction,
)

ACCEPTED = card(Scenario.ACCEPTED, CardType.VISA)
SHOP_ORIGIN = "https://shop.example"


def page(client: FlaskClient, token: str) -> str:
    return client.get(f"/p/{token}").get_data(as_text=True)


def still_open(platform: Platform, token: str, shop: ShopServer) -> bool:
    return transaction(platform, token).status == TxStatus.OPEN and shop.received == []


# --- Languages and what the page shows ----------------------------------------------------------


def test_the_page_is_french_for_fr(client: FlaskClient, account: Account) -> None:
    html = page(client, open_payment(client, langue="FR"))

    assert '<html lang="fr">' in html
    assert "Paiement sécurisé" in html
    assert "Boutique Démo" in html
    assert "2,07\xa0€" in html
    assert "Retour boutique" in html


def test_the_page_is_english_for_en(client: FlaskClient, account: Account) -> None:
    html = page(client, open_payment(client, langue="EN"))

    assert '<html lang="en">' in html
    assert "Secure payment" in html
    assert "€2.07" in html


def test_other_languages_fall_back_to_english(client: FlaskClient, account: Account) -> None:
    html = page(client, open_payment(client, langue="DE"))

    assert "Secure payment" in html


def test_the_amount_follows_the_currency(client: FlaskClient, account: Account) -> None:
    html = page(client, open_payment(client, langue="EN", montant="1500", devise="JPY"))

    assert "¥1,500" in html


def test_test_mode_shows_the_banner(client: FlaskClient, account: Account) -> None:
    assert "MODE TEST" in page(client, open_payment(client))


def test_production_mode_shows_no_banner(client: FlaskClient, platform: Platform, account: Account) -> None:
    set_account(platform, ID_BOUTIQUE, mode="production")

    assert "MODE TEST" not in page(client, open_payment(client))


def test_the_subscription_page_shows_the_first_debit_and_the_schedule(
    client: FlaskClient, account: Account
) -> None:
    fields = {
        "ID_BOUTIQUE": ID_BOUTIQUE,
        "ID_CLIENT": "abo-7",
        "MONTANT": "9.99",
        "MONTANT_INITIAL": "19.99",
        "NB_OCCURENCES_MAX": "12",
        "PERIODE_NB": "2",
        "PERIODE_TYPE": "S",
        "DEVISE": "EUR",
    }
    html = page(client, page_token(client.get("/ABOv2/in.php", query_string=fields)))

    assert "Premier prélèvement" in html
    assert "19,99\xa0€, puis 11 × 9,99\xa0€ toutes les 2 semaines" in html


# --- Card checks ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("form", "message"),
    [
        (card_form("4000000000000001", "VISA"), "Numéro de carte invalide"),
        (card_form("", "VISA"), "Ce champ est obligatoire"),
        (card_form(ACCEPTED.number, "VISA", month="10", year="2026"), "Cette carte est expirée"),
        (card_form(ACCEPTED.number, "VISA", cvv2=""), "les cartes sans CVV2 ne sont pas acceptées"),
        (card_form(ACCEPTED.number, "VISA", cvv2="12"), "compte 3 chiffres"),
        (card_form(ACCEPTED.number, "VISA", cvv2="12a"), "compte 3 chiffres"),
        (card_form(ACCEPTED.number, "AMEX"), "Choix invalide"),
    ],
    ids=["luhn", "number-missing", "expired", "cvv2-missing", "cvv2-short", "cvv2-letters", "card-type"],
)
def test_a_form_error_redisplays_the_form_and_pays_nothing(
    client: FlaskClient,
    platform: Platform,
    account: Account,
    shop: ShopServer,
    form: dict[str, str],
    message: str,
) -> None:
    token = open_payment(client)

    response = client.post(f"/p/{token}", data=form)

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert message in html
    assert "Veuillez corriger les erreurs" in html
    assert still_open(platform, token, shop)


def test_a_card_expiring_this_month_is_still_good(
    client: FlaskClient, platform: Platform, account: Account, base_clock: FrozenClock
) -> None:
    token = open_payment(client)
    month, year = f"{base_clock.now.month:02d}", str(base_clock.now.year)

    response = client.post(f"/p/{token}", data=card_form(ACCEPTED.number, "VISA", month=month, year=year))

    assert response.status_code == 303
    assert transaction(platform, token).status == TxStatus.ACCEPTED


def test_a_real_card_is_refused_with_a_clear_message_and_never_charged(
    client: FlaskClient, platform: Platform, account: Account, shop: ShopServer
) -> None:
    token = open_payment(client, langue="EN")

    response = client.post(f"/p/{token}", data=card_form("4111 1111 1111 1111", "VISA"))

    assert "the sandbox never charges a real card" in response.get_data(as_text=True)
    assert still_open(platform, token, shop)


def test_a_test_card_of_another_type_than_chosen_is_refused(
    client: FlaskClient, platform: Platform, account: Account, shop: ShopServer
) -> None:
    token = open_payment(client)

    response = client.post(f"/p/{token}", data=card_form(ACCEPTED.number, CardType.MASTERCARD))

    tx = transaction(platform, token)
    assert tx.status == TxStatus.REFUSED
    assert "card type mismatch" in tx.reason
    assert [post["etat"] for post in shop.posts()] == ["ko"]
    # The platform's page says why, and leads back to the shop with the refusal.
    assert response.headers["Location"] == f"/p/{token}"
    html = page(client, token)
    assert "Le numéro est celui d&#39;une carte VISA, et le type choisi est MASTERCARD" in html
    back = back_to_shop(html)
    assert back.startswith(SHOP_OK + "?")
    assert parse_qs(urlsplit(back).query)["etat"] == ["ko"]


def test_spaces_in_the_number_are_fine(client: FlaskClient, platform: Platform, account: Account) -> None:
    token = open_payment(client)
    spaced = " ".join(ACCEPTED.number[i : i + 4] for i in range(0, 16, 4))

    client.post(f"/p/{token}", data=card_form(spaced, ACCEPTED.type))

    assert transaction(platform, token).status == TxStatus.ACCEPTED


def test_a_paid_page_shows_its_result_and_does_not_pay_twice(
    client: FlaskClient, platform: Platform, account: Account, shop: ShopServer
) -> None:
    token = open_payment(client)
    pay(client, token, ACCEPTED)

    again = pay(client, token, ACCEPTED)

    assert len(shop.posts()) == 1
    html = again.get_data(as_text=True)
    assert "Paiement accepté" in html
    assert f"Carte VISA se terminant par {ACCEPTED.number[-4:]}" in html


def test_without_a_return_url_the_sandbox_shows_the_result(
    client: FlaskClient, platform: Platform, shop: ShopServer
) -> None:
    add_account(platform, "noreturn", url_confirmation=shop.confirm_url)
    token = open_payment(client, id_boutique="noreturn")

    response = pay(client, token, ACCEPTED)

    assert response.headers["Location"] == f"/p/{token}"
    assert "Paiement accepté" in page(client, token)


def test_an_unknown_page_is_a_404(client: FlaskClient) -> None:
    response = client.get("/p/nope")

    assert response.status_code == 404
    assert "Page de paiement inconnue" in response.get_data(as_text=True)


def test_payment_pages_are_never_cached(client: FlaskClient, account: Account) -> None:
    assert client.get(f"/p/{open_payment(client)}").headers["Cache-Control"] == "no-store"


# --- The card number is never kept, and shown back only while it is a test card -------------------


def test_after_a_form_error_the_test_card_and_expiry_stay_and_the_cvv2_goes(
    client: FlaskClient, platform: Platform, account: Account
) -> None:
    token = open_payment(client)

    with_error = client.post(f"/p/{token}", data=card_form(ACCEPTED.number, "VISA", year="2031", cvv2="98"))

    html = with_error.get_data(as_text=True)
    assert "Le cryptogramme visuel compte 3 chiffres." in html
    assert f'value="{ACCEPTED.number}"' in html
    assert '<option selected value="2031">' in html
    [cvv2] = re.findall(r'<input[^>]*name="cvv2"[^>]*>', html)
    assert 'value=""' in cvv2


def test_a_real_card_number_is_never_written_back_into_the_page(
    client: FlaskClient, platform: Platform, account: Account
) -> None:
    token = open_payment(client)

    html = client.post(f"/p/{token}", data=card_form("4111111111111111", "VISA")).get_data(as_text=True)

    assert "n&#39;est pas une carte de test" in html
    assert "4111111111111111" not in html


def test_the_card_number_is_never_stored_nor_shown_once_paid(
    client: FlaskClient, platform: Platform, account: Account, shop: ShopServer
) -> None:
    token = open_payment(client)

    client.post(f"/p/{token}", data=card_form(ACCEPTED.number, "VISA", cvv2="987"))

    assert ACCEPTED.number not in page(client, token)
    with platform.db.engine.connect() as connection:
        for table in inspect(connection).get_table_names():
            for row in connection.execute(text(f"select * from {table}")):
                assert ACCEPTED.number not in repr(row), table
                # Exact values only: random ids and tokens may contain the digits by chance.
                assert not any(str(v) == "987" or '"987"' in str(v) for v in row), table
    tx = transaction(platform, token)
    assert (tx.card_type, tx.card_last4) == ("VISA", ACCEPTED.number[-4:])


# --- Buyer details ------------------------------------------------------------------------------


BUYER = {
    "buyer-nom": "Martin",
    "buyer-prenom": "Léa",
    "buyer-email": "lea@example.com",
    "buyer-telephone": "+33 1 23 45 67 89",
    "buyer-telecopie": "",
    "buyer-adresse": "1 rue de la Paix",
    "buyer-cp": "75002",
    "buyer-ville": "Paris",
    "buyer-pays": "FR",
}


@pytest.fixture
def buyer_form_account(platform: Platform, account: Account) -> Account:
    return set_account(platform, ID_BOUTIQUE, buyer_form=True)


def test_the_buyer_form_appears_only_when_switched_on(
    client: FlaskClient, platform: Platform, account: Account
) -> None:
    assert "Vos coordonnées" not in page(client, open_payment(client))

    set_account(platform, ID_BOUTIQUE, buyer_form=True)

    html = page(client, open_payment(client))
    assert "Vos coordonnées" in html
    assert "Télécopie" in html


def test_the_buyer_details_are_validated(
    client: FlaskClient, platform: Platform, buyer_form_account: Account, shop: ShopServer
) -> None:
    token = open_payment(client)
    details = {**BUYER, "buyer-email": "lea at example", "buyer-cp": "", "buyer-telephone": "12"}

    response = client.post(f"/p/{token}", data={**card_form(ACCEPTED.number, "VISA"), **details})

    html = response.get_data(as_text=True)
    assert "Adresse e-mail invalide" in html
    assert "Ce champ est obligatoire" in html
    assert "Numéro invalide" in html
    assert still_open(platform, token, shop)


def test_valid_buyer_details_are_kept_with_the_payment(
    client: FlaskClient, platform: Platform, buyer_form_account: Account
) -> None:
    token = open_payment(client, email_client="")

    pay(client, token, ACCEPTED, **BUYER)

    tx = transaction(platform, token)
    assert tx.status == TxStatus.ACCEPTED
    assert tx.buyer["ville"] == "Paris"
    assert tx.buyer["prenom"] == "Léa"
    assert tx.email_client == "lea@example.com"


# --- Retour boutique ---------------------------------------------------------------------------


def test_retour_boutique_abandons_tells_the_shop_annu_and_goes_to_url_stop(
    client: FlaskClient, platform: Platform, account: Account, shop: ShopServer
) -> None:
    token = open_payment(client)

    response = client.post(f"/p/{token}/stop")

    assert response.status_code == 303
    assert response.headers["Location"] == SHOP_STOP
    tx = transaction(platform, token)
    assert tx.status == TxStatus.ABANDONED
    # Sent before the browser left: the shop's page already knows.
    assert shop.posts() == [
        {
            "etat": "annu",
            "mode": "test",
            "id_trans": tx.id_trans,
            "id_client": "52",
            "divers": "1aca230749db383749bd1bb1c471dab1",
            "langue": "FR",
            "id_boutique": ID_BOUTIQUE,
            "montant": "2.07",
            "devise": "EUR",
        }
    ]
    assert "Paiement abandonné" in pay(client, token, ACCEPTED).get_data(as_text=True)
    assert len(shop.posts()) == 1


def test_retour_boutique_twice_tells_the_shop_once(
    client: FlaskClient, platform: Platform, account: Account, shop: ShopServer
) -> None:
    token = open_payment(client)
    client.post(f"/p/{token}/stop")

    again = client.post(f"/p/{token}/stop")

    assert again.headers["Location"] == SHOP_STOP
    assert [post["etat"] for post in shop.posts()] == ["annu"]


def test_retour_boutique_after_paying_changes_nothing(
    client: FlaskClient, platform: Platform, account: Account
) -> None:
    token = open_payment(client)
    pay(client, token, ACCEPTED)

    response = client.post(f"/p/{token}/stop")

    assert response.headers["Location"] == f"/p/{token}"
    assert transaction(platform, token).status == TxStatus.ACCEPTED


# --- Referrer check (FAQ 23) --------------------------------------------------------------------


@pytest.fixture
def referrer_account(platform: Platform, account: Account) -> Account:
    return set_account(platform, ID_BOUTIQUE, referrer_url=f"{SHOP_ORIGIN}/boutique/")


def test_a_referer_of_the_registered_origin_passes(client: FlaskClient, referrer_account: Account) -> None:
    token = open_payment(client, headers={"Referer": "https://SHOP.example:443/checkout?step=3"})

    assert "Attention" not in page(client, token)


def test_in_test_mode_another_origin_warns_and_the_buyer_can_pay(
    client: FlaskClient, platform: Platform, referrer_account: Account, shop: ShopServer
) -> None:
    token = open_payment(client, headers={"Referer": "http://shop.example/checkout"})

    html = page(client, token)
    assert "Attention\u202f: ce paiement n&#39;a pas été demandé" in html
    assert "http://shop.example" in html
    pay(client, token, ACCEPTED)
    assert transaction(platform, token).status == TxStatus.ACCEPTED
    assert [post["etat"] for post in shop.posts()] == ["ok"]


def test_in_test_mode_a_missing_referer_warns(client: FlaskClient, referrer_account: Account) -> None:
    token = open_payment(client)

    assert "en-tête Referer absent" in page(client, token)


def test_in_production_another_origin_is_blocked_with_an_explanation(
    client: FlaskClient, platform: Platform, referrer_account: Account, shop: ShopServer
) -> None:
    set_account(platform, ID_BOUTIQUE, mode="production")
    token = open_payment(client, langue="EN", headers={"Referer": "https://evil.example/pay"})

    response = client.get(f"/p/{token}")

    html = response.get_data(as_text=True)
    assert response.status_code == 403
    assert "Payment blocked" in html
    assert "https://shop.example" in html and "https://evil.example" in html
    assert 'name="number"' not in html
    assert pay(client, token, ACCEPTED).status_code == 403
    tx = transaction(platform, token)
    assert tx.status == TxStatus.BLOCKED
    assert tx.reason.startswith("referrer check")
    assert shop.received == []


def test_in_production_a_missing_referer_is_blocked(
    client: FlaskClient, platform: Platform, referrer_account: Account
) -> None:
    set_account(platform, ID_BOUTIQUE, mode="production")
    token = open_payment(client)

    response = client.get(f"/p/{token}")

    assert response.status_code == 403
    assert "en-tête Referer absent" in response.get_data(as_text=True)


def test_without_a_referrer_url_nothing_is_checked(
    client: FlaskClient, platform: Platform, account: Account
) -> None:
    set_account(platform, ID_BOUTIQUE, mode="production")
    token = open_payment(client)

    assert client.get(f"/p/{token}").status_code == 200


# --- Country ban (FAQ 15) ------------------------------------------------------------------------


@pytest.fixture
def banning_account(platform: Platform, account: Account) -> Account:
    return set_account(platform, ID_BOUTIQUE, banned_countries=["DE"], merchant_email="contact@shop.test")


def test_a_buyer_from_a_banned_country_sees_ip_bannie(
    app: Flask, platform: Platform, banning_account: Account, shop: ShopServer
) -> None:
    german = app.test_client()
    german.environ_base["REMOTE_ADDR"] = GERMAN_ADDRESS
    token = open_payment(german)

    response = german.get(f"/p/{token}")

    html = response.get_data(as_text=True)
    assert response.status_code == 403
    assert "IP bannie" in html
    assert "Contactez le marchand" in html and "contact@shop.test" in html
    assert 'name="number"' not in html
    assert pay(german, token, ACCEPTED).status_code == 403
    tx = transaction(platform, token)
    assert (tx.status, tx.country) == (TxStatus.BLOCKED, "DE")
    assert shop.received == []


def test_the_ip_bannie_page_speaks_english_too(app: Flask, banning_account: Account) -> None:
    german = app.test_client()
    german.environ_base["REMOTE_ADDR"] = GERMAN_ADDRESS

    html = page(german, open_payment(german, langue="EN"))

    assert "IP bannie" in html
    assert "Please contact the merchant" in html


def test_a_country_not_banned_pays(app: Flask, platform: Platform, account: Account) -> None:
    german = app.test_client()
    german.environ_base["REMOTE_ADDR"] = GERMAN_ADDRESS
    token = open_payment(german)

    pay(german, token, ACCEPTED)

    assert transaction(platform, token).status == TxStatus.ACCEPTED


def test_changing_address_after_opening_does_not_escape_the_ban(
    app: Flask, client: FlaskClient, platform: Platform, banning_account: Account
) -> None:
    token = open_payment(client)
    german = app.test_client()
    german.environ_base["REMOTE_ADDR"] = GERMAN_ADDRESS

    assert pay(german, token, ACCEPTED).status_code == 403
    assert transaction(platform, token).status == TxStatus.BLOCKED


def test_x_forwarded_for_is_ignored_unless_a_proxy_is_trusted(
    client: FlaskClient, platform: Platform, banning_account: Account
) -> None:
    token = open_payment(client, headers={"X-Forwarded-For": GERMAN_ADDRESS})

    assert client.get(f"/p/{token}", headers={"X-Forwarded-For": GERMAN_ADDRESS}).status_code == 200


@pytest.fixture
def proxied_client(
    sandbox_config: SandboxConfig, base_clock: FrozenClock, tmp_path: Path
) -> Iterator[FlaskClient]:
    config = dataclasses.replace(
        sandbox_config, trust_proxy=True, database_url=f"sqlite:///{tmp_path / 'proxied.sqlite3'}"
    )
    platform = Platform(config, base_clock=base_clock)
    add_account(platform, ID_BOUTIQUE, banned_countries=["DE"])
    app = create_sandbox_app(platform=platform)
    app.config.update(TESTING=True, WTF_CSRF_ENABLED=False)
    yield app.test_client()
    platform.dispose()


def test_behind_a_trusted_proxy_x_forwarded_for_is_the_buyer(proxied_client: FlaskClient) -> None:
    token = open_payment(proxied_client, headers={"X-Forwarded-For": GERMAN_ADDRESS})

    assert "IP bannie" in page(proxied_client, token)


# --- CSRF -----------------------------------------------------------------------------------------


def test_the_card_form_needs_its_csrf_token(
    app: Flask, platform: Platform, account: Account, shop: ShopServer
) -> None:
    app.config["WTF_CSRF_ENABLED"] = True
    browser = app.test_client()
    token = page_token(
        browser.post(
            "/in.php", data={"id_boutique": ID_BOUTIQUE, "id_client": "1", "montant": "5.00", "devise": "EUR"}
        )
    )

    forged = browser.post(f"/p/{token}", data=card_form(ACCEPTED.number, "VISA"))
    assert forged.status_code == 400
    assert still_open(platform, token, shop)

    html = browser.get(f"/p/{token}").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html)
    assert csrf is not None
    paid = browser.post(
        f"/p/{token}", data={**card_form(ACCEPTED.number, "VISA"), "csrf_token": csrf.group(1)}
    )
    assert paid.status_code == 303
    assert paid.headers["Location"].startswith(SHOP_OK)


def test_retour_boutique_needs_the_csrf_token_too(app: Flask, platform: Platform, account: Account) -> None:
    app.config["WTF_CSRF_ENABLED"] = True
    browser = app.test_client()
    token = open_payment(browser)

    assert browser.post(f"/p/{token}/stop").status_code == 400
    assert transaction(platform, token).status == TxStatus.OPEN
