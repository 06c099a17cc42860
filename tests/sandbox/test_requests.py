"""``/in.php`` and ``/ABOv2/in.php``: exactly the protocol's variables, problems named (FAQ 24)."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient

from sandbox.models import Account, TxKind, TxStatus
from sandbox.platform import Platform
from tests.sandbox.conftest import (
    ID_BOUTIQUE,
    SHOP_OK,
    SHOP_STOP,
    ShopServer,
    open_payment,
    page_token,
    payment_fields,
    transaction,
)


def subscription_fields(**changes: str) -> dict[str, str]:
    fields = {
        "ID_BOUTIQUE": ID_BOUTIQUE,
        "ID_CLIENT": "abo-7",
        "MONTANT": "9.99",
        "MONTANT_INITIAL": "19.99",
        "NB_OCCURENCES_MAX": "12",
        "PERIODE_NB": "1",
        "PERIODE_TYPE": "M",
        "DEVISE": "EUR",
        "LANGUE": "FR",
        "DIVERS": "token-abo",
    }
    fields.update(changes)
    return {name: value for name, value in fields.items() if value}


def problems_page(client: FlaskClient, path: str = "/in.php", **fields: str) -> str:
    response = client.get(path, query_string=fields)
    assert response.status_code == 400
    return response.get_data(as_text=True)


def named(page: str, variable: str) -> bool:
    """Whether the 400 page lists a problem under ``variable``."""
    return f"<code>{variable}</code>" in page


def test_get_request_opens_an_open_transaction_and_sends_the_browser_to_its_page(
    client: FlaskClient, platform: Platform, account: Account, shop: ShopServer
) -> None:
    token = open_payment(client)

    tx = transaction(platform, token)
    assert tx.status == TxStatus.OPEN
    assert re.fullmatch(r"BP[0-9]{12}", tx.id_trans)
    assert (str(tx.amount), tx.currency, tx.id_client, tx.langue) == ("2.07", "EUR", "52", "FR")
    assert tx.divers == "1aca230749db383749bd1bb1c471dab1"
    assert (tx.url_ok, tx.url_stop, tx.url_confirm) == (SHOP_OK, SHOP_STOP, shop.confirm_url)
    assert client.get(f"/p/{token}").status_code == 200


def test_post_request_is_accepted_too(client: FlaskClient, platform: Platform, account: Account) -> None:
    token = page_token(client.post("/in.php", data=payment_fields(montant="36.60")))

    assert str(transaction(platform, token).amount) == "36.60"


def test_two_requests_get_two_transaction_numbers(
    client: FlaskClient, platform: Platform, account: Account
) -> None:
    first, second = open_payment(client), open_payment(client)

    assert transaction(platform, first).id_trans != transaction(platform, second).id_trans


@pytest.mark.parametrize(
    ("changes", "variable"),
    [
        ({"montant": ""}, "montant"),
        ({"montant": "2,07"}, "montant"),
        ({"montant": "0.00"}, "montant"),
        ({"montant": "2.075"}, "montant"),
        ({"devise": "XYZ"}, "devise"),
        ({"langue": "fr"}, "langue"),
        ({"id_client": "x" * 65}, "id_client"),
        ({"email_client": "not-an-address"}, "email_client"),
        ({"url_retour_ok": "https://shop.test/ok"}, "url_retour_ok"),
        ({"url_retour_bo": "shop.test/ confirm"}, "url_retour_bo"),
        ({"set_secure_return": "2"}, "set_secure_return"),
        ({"pays_liv": "FR"}, "pays_liv"),
        ({"id_boutique": "bad id!"}, "id_boutique"),
    ],
)
def test_a_broken_rule_gives_a_400_naming_the_variable(
    client: FlaskClient, account: Account, changes: dict[str, str], variable: str
) -> None:
    page = problems_page(client, **payment_fields(**changes))

    assert named(page, variable)
    assert "Demande de paiement invalide" in page


def test_every_problem_is_listed_at_once(client: FlaskClient, account: Account) -> None:
    page = problems_page(client, **payment_fields(montant="abc", email_client="nope", pays_liv="france"))

    assert named(page, "montant") and named(page, "email_client") and named(page, "pays_liv")


@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize(
    ("path", "fields", "variables"),
    [
        ("/in.php", payment_fields(devise="XYZ", montant="2,07"), ("montant", "devise")),
        (
            "/ABOv2/in.php",
            subscription_fields(DEVISE="XYZ", MONTANT="abc", MONTANT_INITIAL="0"),
            ("MONTANT", "MONTANT_INITIAL", "DEVISE"),
        ),
    ],
)
def test_an_unknown_currency_does_not_hide_a_malformed_amount(
    client: FlaskClient,
    account: Account,
    method: str,
    path: str,
    fields: dict[str, str],
    variables: tuple[str, ...],
) -> None:
    # GET carries the variables in the query string, POST in the form body.
    response = client.open(
        path,
        method=method,
        query_string=fields if method == "GET" else None,
        data=fields if method == "POST" else None,
    )

    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert [variable for variable in variables if named(page, variable)] == list(variables)


def test_an_empty_request_lists_every_required_variable(client: FlaskClient, account: Account) -> None:
    page = problems_page(client)

    for variable in ("id_boutique", "id_client", "montant", "devise"):
        assert named(page, variable)


def test_an_unknown_variable_is_named(client: FlaskClient, account: Account) -> None:
    page = problems_page(client, **payment_fields(coupon="FREE"))

    assert named(page, "coupon")
    assert "unknown variable" in page


def test_an_unknown_id_boutique_says_so(client: FlaskClient, account: Account) -> None:
    page = problems_page(client, **payment_fields(id_boutique="99999xyz"))

    assert named(page, "id_boutique")
    assert "no merchant account &#39;99999xyz&#39;" in page


def test_a_variable_given_twice_is_refused(client: FlaskClient, account: Account) -> None:
    response = client.get("/in.php?montant=1.00&" + "&".join(f"{k}={v}" for k, v in payment_fields().items()))

    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert named(page, "montant")
    assert "given 2 times" in page


def test_a_post_reads_the_query_string_too_and_refuses_a_variable_in_both(
    client: FlaskClient, account: Account
) -> None:
    response = client.post("/in.php?montant=0.01", data=payment_fields())

    assert response.status_code == 400
    assert "given 2 times" in response.get_data(as_text=True)


def test_the_problem_page_follows_langue(client: FlaskClient, account: Account) -> None:
    page = problems_page(client, **payment_fields(langue="EN", montant="abc"))

    assert "Invalid payment request" in page


def test_request_urls_override_the_account_with_the_secure_flags(
    client: FlaskClient, platform: Platform, account: Account
) -> None:
    token = open_payment(
        client,
        url_retour_ok="shop.example/merci?order=52",
        url_retour_stop="shop.example/panier",
        set_secure_return="1",
        url_retour_bo="127.0.0.1:8080/confirm/secret",
        set_secure_conf="0",
    )

    tx = transaction(platform, token)
    assert tx.url_ok == "https://shop.example/merci?order=52"
    assert tx.url_stop == "https://shop.example/panier"
    assert tx.url_confirm == "http://127.0.0.1:8080/confirm/secret"


def test_a_request_url_without_its_flag_is_http(
    client: FlaskClient, platform: Platform, account: Account
) -> None:
    token = open_payment(client, url_retour_ok="shop.example/merci")

    assert transaction(platform, token).url_ok == "http://shop.example/merci"


def test_the_request_opener_is_recorded(client: FlaskClient, platform: Platform, account: Account) -> None:
    token = open_payment(client, headers={"Referer": "https://shop.example/checkout"})

    tx = transaction(platform, token)
    assert (tx.referrer, tx.remote_addr) == ("https://shop.example/checkout", "127.0.0.1")


def test_without_langue_the_page_is_french(client: FlaskClient, platform: Platform, account: Account) -> None:
    token = open_payment(client, langue="")

    assert transaction(platform, token).langue == "FR"


def test_subscription_request_opens_its_first_debit(
    client: FlaskClient, platform: Platform, account: Account
) -> None:
    token = page_token(client.get("/ABOv2/in.php", query_string=subscription_fields()))

    tx = transaction(platform, token)
    assert tx.kind == TxKind.DEBIT
    assert str(tx.amount) == "19.99"
    assert (tx.id_client, tx.divers) == ("abo-7", "token-abo")
    assert tx.request["NB_OCCURENCES_MAX"] == "12"


def test_subscription_without_initial_amount_charges_montant_first(
    client: FlaskClient, platform: Platform, account: Account
) -> None:
    token = page_token(client.post("/ABOv2/in.php", data=subscription_fields(MONTANT_INITIAL="")))

    assert str(transaction(platform, token).amount) == "9.99"


def test_subscription_rules_name_the_upper_case_variable(client: FlaskClient, account: Account) -> None:
    page = problems_page(
        client, "/ABOv2/in.php", **subscription_fields(NB_OCCURENCES_MAX="0", PERIODE_TYPE="Y")
    )

    assert named(page, "NB_OCCURENCES_MAX") and named(page, "PERIODE_TYPE")


def test_subscription_endpoint_refuses_lower_case_variables(client: FlaskClient, account: Account) -> None:
    page = problems_page(client, "/ABOv2/in.php", **payment_fields())

    assert named(page, "id_boutique")
    assert "&#39;ID_BOUTIQUE&#39;" in page


def test_subscription_unknown_id_boutique_says_so(client: FlaskClient, account: Account) -> None:
    page = problems_page(client, "/ABOv2/in.php", **subscription_fields(ID_BOUTIQUE="nobody"))

    assert named(page, "ID_BOUTIQUE")
    assert "no merchant account" in page
