"""The payment form's page: what it accepts, what it refuses, what it stores, where it sends."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from bluepaid_plugins.errors import ValidationError
from hub.desk import CLIENT_WINDOW, ORDERS_PER_CLIENT
from hub.payments import list_payments, show_payment
from hub.shops import add_shop
from tests.payment_form.conftest import GOOD as GOOD_FORM
from tests.payment_form.conftest import PLATFORM, PUBLIC, Buyer, MakeBuyer, errors, parse

XSS = '"><script>alert(1)</script><img src=x onerror=alert(2)>'


def platform_fields(buyer: Buyer, pay_url: str) -> dict[str, str]:
    """Follow the hub's pay URL as the browser does; the variables it sends to the platform."""
    answer = buyer.client.get(pay_url.removeprefix(PUBLIC))
    assert answer.status_code == 302, answer.text
    location = answer.headers["Location"]
    assert location.startswith(f"{PLATFORM}/in.php?")
    return {name: values[0] for name, values in parse_qs(urlsplit(location).query).items()}


def test_a_typed_amount_becomes_an_order_and_the_buyer_goes_to_its_pay_link(buyer: Buyer) -> None:
    answer = buyer.submit(amount="12,50")

    assert answer.status_code == 303
    (order,) = buyer.orders()
    assert (str(order.amount), order.currency, order.description, order.email, order.language) == (
        "12.50",
        "EUR",
        "Invoice 2026-118",
        "ada@example.com",
        "EN",
    )
    assert order.ref.startswith("P")
    location = answer.headers["Location"]
    assert location.startswith(f"{PUBLIC}/pay/form/{order.ref}?key=")
    sent = platform_fields(buyer, location)
    assert (sent["montant"], sent["devise"], sent["id_client"], sent["email_client"]) == (
        "12.50",
        "EUR",
        order.ref,
        "ada@example.com",
    )


def test_the_order_is_stored_on_each_database(make_buyer: MakeBuyer, database_url: str) -> None:
    buyer = make_buyer(database_url)

    answer = buyer.submit(amount="1 234,5")

    assert answer.status_code == 303
    assert [str(order.amount) for order in buyer.orders()] == ["1234.50"]


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "This field is required."),
        ("-5", "The amount must be more than zero."),
        ("0", "The amount must be more than zero."),
        ("0.00", "The amount must be more than zero."),
        ("12.505", "At most 2 decimals."),
        ("1e3", "Type the amount in figures, like 25.50."),
        ("12.50 EUR", "Type the amount in figures, like 25.50."),
        ("NaN", "Type the amount in figures, like 25.50."),
        ("9999999999999", "Type the amount in figures, like 25.50."),
        ("4.99", "The smallest amount is €5.00."),
        ("2000.01", "The largest amount is €2,000.00."),
        ("1000000000", "The largest amount is €2,000.00."),
    ],
)
def test_a_bad_amount_is_refused_and_nothing_stored(buyer: Buyer, typed: str, message: str) -> None:
    answer = buyer.submit(amount=typed)

    assert answer.status_code == 400
    assert errors(answer.text) == [message]
    assert buyer.orders() == []


def test_a_huge_amount_is_refused_without_bounds_set(make_buyer: MakeBuyer) -> None:
    buyer = make_buyer()

    answer = buyer.submit(amount="1" * 13)

    assert answer.status_code == 400
    assert buyer.orders() == []


def test_a_currency_without_decimals_takes_whole_amounts(make_buyer: MakeBuyer) -> None:
    buyer = make_buyer(currency="JPY")

    refused = buyer.submit(amount="1500.5")
    accepted = buyer.submit(amount="1500")

    assert errors(refused.text) == ["Type a whole amount, without decimals."]
    assert accepted.status_code == 303
    assert [(str(o.amount), o.currency) for o in buyer.orders()] == [("1500", "JPY")]


def test_only_an_offered_amount_is_taken(make_buyer: MakeBuyer) -> None:
    buyer = make_buyer(amounts="10 25.50 50")

    forged = buyer.submit(amount="0.01")
    chosen = buyer.submit(amount="25.50")

    assert forged.status_code == 400
    assert errors(forged.text) == ["Choose one of the amounts offered."]
    assert chosen.status_code == 303
    assert [str(o.amount) for o in buyer.orders()] == ["25.50"]


def test_a_forged_amount_field_beside_the_form_changes_nothing(buyer: Buyer) -> None:
    answer = buyer.submit(amount="40.00", montant="0.01", total="0.01", devise="JPY", currency="JPY")

    assert answer.status_code == 303
    assert [(str(o.amount), o.currency) for o in buyer.orders()] == [("40.00", "EUR")]
    assert platform_fields(buyer, answer.headers["Location"])["montant"] == "40.00"


def test_a_post_without_the_csrf_token_is_refused(buyer: Buyer) -> None:
    answer = buyer.submit(csrf=False)

    assert answer.status_code == 400
    assert "This form has expired. Check it and send it again." in answer.text
    assert buyer.orders() == []
    # The page comes back with a fresh token and what the buyer typed.
    assert 'name="csrf_token"' in answer.text
    assert 'value="Invoice 2026-118"' in answer.text


def test_a_post_with_a_wrong_csrf_token_is_refused(buyer: Buyer) -> None:
    buyer.token()
    answer = buyer.client.post("/form/form", data={"csrf_token": "forged", "amount": "10"})

    assert answer.status_code == 400
    assert buyer.orders() == []


@pytest.mark.parametrize(
    "field",
    [
        "amount",
        "reference",
        "email",
        "last_name",
        "first_name",
        "phone",
        "fax",
        "address",
        "postcode",
        "city",
    ],
)
def test_markup_typed_in_any_field_comes_back_escaped(make_buyer: MakeBuyer, field: str) -> None:
    buyer = make_buyer(buyer_details="yes")

    answer = buyer.submit(**{field: XSS, "amount": XSS if field == "amount" else "abc"})

    assert answer.status_code == 400
    assert "<script>alert(1)" not in answer.text
    assert "<img src=x" not in answer.text
    assert parse(answer.text).scripts == 0
    assert buyer.orders() == []


def test_markup_in_the_reference_is_stored_as_text_and_escaped_in_the_shop_name(
    make_buyer: MakeBuyer,
) -> None:
    buyer = make_buyer()

    page = buyer.open()
    answer = buyer.submit(reference=XSS)

    assert "Atelier &lt;Lilas&gt;" in page.text
    assert answer.status_code == 303
    assert [o.description for o in buyer.orders()] == [XSS]


def test_a_merchants_link_prefills_the_form_escaped(buyer: Buyer) -> None:
    page = buyer.open(f"?reference=Invoice%2042&amount=25.50&email={XSS}")

    assert page.status_code == 200
    assert 'value="Invoice 42"' in page.text
    assert 'value="25.50"' in page.text
    assert "<script>alert(1)" not in page.text
    assert buyer.orders() == []


def test_a_bad_email_is_refused(buyer: Buyer) -> None:
    answer = buyer.submit(email="ada@localhost")

    assert errors(answer.text) == ["Invalid e-mail address."]


def test_the_buyer_details_are_stored_and_sent_to_the_platform(make_buyer: MakeBuyer) -> None:
    buyer = make_buyer(buyer_details="yes")

    answer = buyer.submit(country="BE", postcode="1000", fax="+32 2 123 45 67")

    assert answer.status_code == 303, errors(answer.text)
    (order,) = buyer.orders()
    assert order.buyer == {
        "first_name": "Ada",
        "last_name": "Lovelace",
        "country": "BEL",
        "phone": "+33 1 23 45 67 89",
        "fax": "+32 2 123 45 67",
        "address": "12 rue des Lilas",
        "postcode": "1000",
        "city": "Paris",
    }
    sent = platform_fields(buyer, answer.headers["Location"])
    assert (sent["pays_liv"], sent["nom"], sent["prenom"]) == ("BEL", "Lovelace", "Ada")


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"last_name": ""}, "last_name", "This field is required."),
        ({"first_name": "A" * 65}, "first_name", "At most 64 characters."),
        (
            {"phone": "12345"},
            "phone",
            "Invalid number: 6 to 20 digits, with spaces, dots, dashes, + or brackets.",
        ),
        (
            {"phone": "01 23 45 67 89 ext"},
            "phone",
            "Invalid number: 6 to 20 digits, with spaces, dots, dashes, + or brackets.",
        ),
        ({"fax": "1-2"}, "fax", "Invalid number: 6 to 20 digits, with spaces, dots, dashes, + or brackets."),
        ({"postcode": "7501"}, "postcode", "This postcode does not fit the chosen country."),
        ({"postcode": "1000", "country": "DE"}, "postcode", "This postcode does not fit the chosen country."),
        ({"postcode": "!", "country": "JP"}, "postcode", "Invalid postcode: 2 to 10 letters or digits."),
        ({"country": "ZZ"}, "country", "Not a valid choice."),
        ({"country": "EU"}, "country", "Not a valid choice."),
        ({"country": ""}, "country", "This field is required."),
        ({"address": "rue\x00"}, "address", "Remove the invisible or control characters."),
    ],
)
def test_bad_buyer_details_are_refused(
    make_buyer: MakeBuyer, changes: dict[str, str], field: str, message: str
) -> None:
    buyer = make_buyer(buyer_details="yes")

    answer = buyer.submit(**changes)

    assert answer.status_code == 400
    assert f'id="{field}-error-1">{message}' in answer.text.replace("&#39;", "'")
    assert buyer.orders() == []


def test_other_countries_postcodes_are_checked_loosely(make_buyer: MakeBuyer) -> None:
    buyer = make_buyer(buyer_details="yes")

    answer = buyer.submit(country="JP", postcode="100-0001")

    assert answer.status_code == 303, errors(answer.text)


def test_without_buyer_details_the_section_is_not_asked_nor_stored(buyer: Buyer) -> None:
    page = buyer.open()
    answer = buyer.submit(country="BE")

    names = {i.get("name") for i in parse(page.text).inputs}
    assert names == {"csrf_token", "once", "amount", "reference", "email"}
    assert answer.status_code == 303
    assert [o.buyer for o in buyer.orders()] == [None]


def test_the_page_speaks_french_to_a_french_browser(make_buyer: MakeBuyer) -> None:
    buyer = make_buyer(amounts="10 25.50", buyer_details="yes")

    page = buyer.open(language="fr-FR,fr;q=0.9")

    assert '<html lang="fr">' in page.text
    assert "<h1>Payer Atelier &lt;Lilas&gt;</h1>" in page.text
    assert "25,50\xa0€" in page.text
    assert ">Allemagne</option>" in page.text
    assert 'hreflang="en"' in page.text


def test_the_switch_makes_the_page_english_and_the_order_too(make_buyer: MakeBuyer) -> None:
    buyer = make_buyer(amounts="10 25.50")

    page = buyer.open("?lang=en", language="fr")
    answer = buyer.submit("?lang=en", language="fr", amount="25.50")

    assert '<html lang="en">' in page.text
    assert "€25.50" in page.text
    assert 'action="/form/form?lang=en"' in page.text
    assert answer.status_code == 303
    assert [o.language for o in buyer.orders()] == ["EN"]


def test_errors_are_french_on_a_french_page(buyer: Buyer) -> None:
    answer = buyer.submit("?lang=fr", amount="3")

    assert errors(answer.text) == ["Le montant minimum est de 5,00\xa0€."]


@pytest.mark.parametrize("settings", [{}, {"amounts": "10 20"}, {"buyer_details": "yes"}])
def test_every_input_has_a_label_and_every_error_is_tied_to_its_field(
    make_buyer: MakeBuyer, settings: dict[str, str]
) -> None:
    buyer = make_buyer(**settings)

    answer = buyer.submit(amount="", reference="", email="", last_name="", country="")
    found = parse(answer.text)

    shown = [i for i in found.inputs if i.get("type") != "hidden"]
    assert shown
    for element in shown:
        assert element["id"] in found.labels_for, f"no label for {element}"
    described = [i for i in shown if "aria-describedby" in i]
    assert described
    for element in described:
        for target in element["aria-describedby"].split():
            assert target in found.ids, f"{element['name']} points to no element {target}"
    assert 'id="amount-error-1"' in answer.text


@pytest.mark.parametrize(
    "settings", [{}, {"amounts": "10 20"}, {"buyer_details": "yes"}, {"buyer_details": "yes", "amounts": "5"}]
)
def test_no_input_looks_like_a_card_field(make_buyer: MakeBuyer, settings: dict[str, str]) -> None:
    buyer = make_buyer(**settings)

    for page in (buyer.open().text, buyer.submit(amount="x", phone="1").text):
        for element in parse(page).inputs:
            words = " ".join(
                element.get(a, "") for a in ("name", "id", "autocomplete", "placeholder")
            ).lower()
            assert not any(w in words for w in ("card", "cc-", "cvv", "cvc", "expir", "pan", "carte")), (
                element
            )
            long_number = element.get("inputmode") == "numeric" and element.get("maxlength", "") in {
                str(n) for n in range(13, 20)
            }
            assert not long_number, element
    assert "Card number" not in buyer.open().text


def test_the_page_runs_no_script_and_says_so_in_its_policy(buyer: Buyer) -> None:
    page = buyer.open()

    policy = page.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy
    assert "script-src" not in policy
    assert parse(page.text).scripts == 0
    assert page.headers["Cache-Control"] == "no-store"
    assert page.headers["X-Frame-Options"] == "DENY"


def test_an_unknown_shop_or_a_shop_of_another_connector_has_no_form(buyer: Buyer) -> None:
    add_shop(buyer.hub, slug="links", id_boutique="22222www", connector="payment_link")

    assert buyer.client.get("/form/nowhere").status_code == 404
    assert buyer.client.get("/form/links").status_code == 404
    assert (
        buyer.client.post("/form/links", data={"csrf_token": buyer.token(), "amount": "10"}).status_code
        == 404
    )


@pytest.mark.parametrize(
    ("settings", "problem"),
    [
        ({"amounts": "10 abc"}, "amounts"),
        ({"amounts": "0"}, "amounts"),
        ({"amounts": "10.505"}, "amounts"),
        ({"min_amount": "-1"}, "min_amount"),
        ({"min_amount": "50", "max_amount": "10"}, "max_amount"),
        ({"currency": "XYZ"}, "currency"),
        ({"buyer_details": "maybe"}, "buyer_details"),
    ],
)
def test_bad_settings_are_refused_when_the_shop_is_added(
    buyer: Buyer, settings: dict[str, str], problem: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        add_shop(buyer.hub, slug="other", id_boutique="33333www", connector="payment_form", settings=settings)

    assert problem in [p.field for p in refused.value.problems]


def test_the_merchants_label_is_escaped_too(make_buyer: MakeBuyer) -> None:
    buyer = make_buyer(reference_label=XSS)

    answer = buyer.submit(reference="")

    assert answer.status_code == 400
    assert "<script>alert(1)" not in answer.text
    assert answer.text.count("&lt;script&gt;alert(1)") == 2  # the label and the error summary


def test_a_browser_that_says_nothing_gets_the_shops_language(buyer: Buyer) -> None:
    page = buyer.client.get("/form/form")

    assert '<html lang="fr">' in page.text


def test_the_merchant_reads_what_the_buyer_said_with_the_payment(make_buyer: MakeBuyer) -> None:
    buyer = make_buyer(buyer_details="yes")
    answer = buyer.submit()
    platform_fields(buyer, answer.headers["Location"])

    (listed,) = list_payments(buyer.hub)
    order = show_payment(buyer.hub, listed["id"])["order"]

    assert order == {
        "status": "open",
        "description": "Invoice 2026-118",
        "email": "ada@example.com",
        "first_name": "Ada",
        "last_name": "Lovelace",
        "country": "FRA",
        "phone": "+33 1 23 45 67 89",
        "address": "12 rue des Lilas",
        "postcode": "75011",
        "city": "Paris",
    }


def test_a_form_sent_twice_makes_one_order_and_both_answers_lead_to_its_payment(buyer: Buyer) -> None:
    hidden = buyer.hidden()
    data = {**GOOD_FORM, **hidden}

    first = buyer.client.post("/form/form", data=data)
    second = buyer.client.post("/form/form", data=data)

    assert (first.status_code, second.status_code) == (303, 303)
    assert first.headers["Location"] == second.headers["Location"]
    assert len(buyer.orders()) == 1


def test_a_form_sent_with_another_pages_key_is_refused_as_expired(buyer: Buyer) -> None:
    answer = buyer.submit(once="forged-key")

    assert answer.status_code == 400
    assert "This form has expired" in answer.text
    assert buyer.orders() == []


def test_a_new_opening_of_the_form_makes_a_new_order(buyer: Buyer) -> None:
    buyer.submit()
    buyer.submit()

    assert len(buyer.orders()) == 2


def test_too_many_orders_from_one_address_are_refused_for_a_while(buyer: Buyer) -> None:
    for _ in range(ORDERS_PER_CLIENT):
        assert buyer.submit().status_code == 303

    refused = buyer.submit()
    elsewhere = buyer.client.post(
        "/form/form", data={**GOOD_FORM, **buyer.hidden()}, environ_base={"REMOTE_ADDR": "192.0.2.7"}
    )

    assert refused.status_code == 429
    assert "Too many payments were started from your connection" in refused.text
    assert elsewhere.status_code == 303
    assert len(buyer.orders()) == ORDERS_PER_CLIENT + 1
    assert all(order.client and "127.0.0.1" not in order.client for order in buyer.orders())
    buyer.hub.clock.advance(CLIENT_WINDOW)  # type: ignore[attr-defined]
    assert buyer.submit().status_code == 303
