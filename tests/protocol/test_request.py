"""Payment and subscription requests: the variables, their encoding, their rules."""

from __future__ import annotations

from decimal import Decimal
from urllib.parse import parse_qsl, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bluepaid_plugins.errors import Problem, ValidationError
from bluepaid_plugins.money import Money
from bluepaid_plugins.protocol import (
    LANGUAGES,
    PAYMENT_FIELDS,
    PERIOD_TYPES,
    PLATFORM_URL,
    SUBSCRIPTION_FIELDS,
    PaymentRequest,
    SubscriptionRequest,
    join_url,
    split_url,
    validate_payment_fields,
    validate_subscription_fields,
)

# The request a 2016 module logged (protocol document, section 1), line breaks removed.
LOGGED_QUERY = (
    "id_boutique=21573www&id_client=52&montant=2.07&devise=EUR&langue=FR"
    "&divers=1aca230749db383749bd1bb1c471dab1&email_client=blup%40yopmail.com"
    "&url_retour_ok=www.safetycheck.fr%2Ft%2Fprestashop%2Fmodules%2Fbluepaid%2Fcontrollers"
    "%2Ffront%2Fpayment_return.php"
    "&url_retour_stop=www.safetycheck.fr%2Ft%2Fprestashop%2Findex.php%3Fcontroller%3Dorder"
    "%26step%3D3"
    "&set_secure_return=1&set_secure_conf=1"
)

EUR_2_07 = Money(Decimal("2.07"), "EUR")


def logged_request(**changes: str) -> PaymentRequest:
    """The logged request's inputs, URLs with scheme as our objects take them."""
    values: dict[str, str] = {
        "divers": "1aca230749db383749bd1bb1c471dab1",
        "langue": "FR",
        "email_client": "blup@yopmail.com",
        "url_retour_ok": (
            "https://www.safetycheck.fr/t/prestashop/modules/bluepaid/controllers/front/payment_return.php"
        ),
        "url_retour_stop": "https://www.safetycheck.fr/t/prestashop/index.php?controller=order&step=3",
        **changes,
    }
    return PaymentRequest("21573www", EUR_2_07, "52", **values)


def valid_fields(**changes: str) -> dict[str, str]:
    """A raw valid single-payment mapping with ``changes`` applied."""
    fields = dict(parse_qsl(LOGGED_QUERY))
    fields.update(changes)
    return fields


def fields_at_fault(problems: list[Problem]) -> list[str]:
    return [problem.field for problem in problems]


def problem_for(problems: list[Problem], field: str) -> str:
    """The message of the one problem about ``field``."""
    messages = [problem.message for problem in problems if problem.field == field]
    assert len(messages) == 1, problems
    return messages[0]


# --- the logged request ---------------------------------------------------------------


def test_logged_request_is_rebuilt_variable_for_variable_in_order() -> None:
    url = logged_request().url("https://paiement-securise.bluepaid.com")

    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == ("https://paiement-securise.bluepaid.com/in.php")
    assert parse_qsl(parts.query, keep_blank_values=True) == parse_qsl(LOGGED_QUERY)


def test_logged_request_is_encoded_exactly_as_logged() -> None:
    assert logged_request().url().endswith("/in.php?" + LOGGED_QUERY)


def test_logged_request_passes_validation() -> None:
    assert validate_payment_fields(dict(parse_qsl(LOGGED_QUERY))) == []


def test_post_form_action_is_in_php_on_the_platform() -> None:
    assert logged_request().action() == f"{PLATFORM_URL}/in.php"
    assert logged_request().action("http://127.0.0.1:5000/") == "http://127.0.0.1:5000/in.php"


# --- building the fields ----------------------------------------------------------------


def test_minimal_request_sends_only_required_variables_and_langue() -> None:
    fields = PaymentRequest("21573www", EUR_2_07, "52").fields()

    assert fields == {
        "id_boutique": "21573www",
        "id_client": "52",
        "montant": "2.07",
        "devise": "EUR",
        "langue": "FR",
        "set_secure_conf": "1",
    }


def test_optional_buyer_variables_come_last_in_protocol_order() -> None:
    request = logged_request(
        url_retour_bo="https://hub.example/c/s3cret", pays_liv="FRA", nom="Dupont", prenom="Zoé"
    )

    assert list(request.fields()) == [
        "id_boutique",
        "id_client",
        "montant",
        "devise",
        "langue",
        "divers",
        "email_client",
        "url_retour_ok",
        "url_retour_stop",
        "url_retour_bo",
        "set_secure_return",
        "set_secure_conf",
        "pays_liv",
        "nom",
        "prenom",
    ]


def test_http_return_urls_set_secure_return_to_0() -> None:
    request = logged_request(url_retour_ok="http://shop.example/ok", url_retour_stop="")

    fields = request.fields()

    assert fields["url_retour_ok"] == "shop.example/ok"
    assert fields["set_secure_return"] == "0"
    assert "url_retour_stop" not in fields


def test_confirmation_url_scheme_sets_secure_conf() -> None:
    fields = logged_request(url_retour_bo="http://127.0.0.1:5000/confirm/abc").fields()

    assert fields["url_retour_bo"] == "127.0.0.1:5000/confirm/abc"
    assert fields["set_secure_conf"] == "0"


def test_return_urls_with_different_schemes_are_a_problem() -> None:
    request = logged_request(url_retour_stop="http://www.safetycheck.fr/stop")

    with pytest.raises(ValidationError) as caught:
        request.fields()

    message = problem_for(caught.value.problems, "url_retour_stop")
    assert "set_secure_return" in message and "same scheme" in message


def test_request_url_without_scheme_is_a_problem_naming_the_variable() -> None:
    with pytest.raises(ValidationError) as caught:
        logged_request(url_retour_ok="shop.example/ok").fields()

    assert fields_at_fault(caught.value.problems) == ["url_retour_ok"]
    assert "https://" in caught.value.problems[0].message


def test_request_reports_every_problem_at_once_by_variable() -> None:
    request = PaymentRequest(
        "21573 www",
        Money(Decimal("0"), "EUR"),
        "",
        langue="fr",
        email_client="blup",
        url_retour_bo="ftp://hub.example/c",
        pays_liv="FR",
    )

    with pytest.raises(ValidationError) as caught:
        request.fields()

    assert fields_at_fault(caught.value.problems) == [
        "id_boutique",
        "id_client",
        "montant",
        "langue",
        "email_client",
        "url_retour_bo",
        "pays_liv",
    ]
    assert str(caught.value).startswith("invalid payment request: id_boutique: ")


def test_jpy_amount_is_sent_without_decimals() -> None:
    request = PaymentRequest("21573www", Money(Decimal("207"), "JPY"), "52")

    assert request.fields()["montant"] == "207"


# --- validate_payment_fields, one rule at a time ------------------------------------------

RULE_BREAKERS = [
    ("id_boutique", "21573 www", "A-Z"),
    ("id_boutique", "x" * 33, "1 to 32"),
    ("id_boutique", "boutiqué", "A-Z"),
    ("montant", "2,07", "dot"),
    ("montant", "2.071", "decimals"),
    ("montant", "0", "more than 0"),
    ("montant", "0.00", "more than 0"),
    ("montant", "-1", "not an amount"),
    ("montant", "1e5", "not an amount"),
    ("montant", "٣", "not an amount"),
    ("montant", "2.07\n", "U+000A"),
    ("devise", "XXX", "EUR"),
    ("devise", "eur", "EUR"),
    ("langue", "fr", "upper case"),
    ("langue", "XX", "FR, EN, DE, ES, IT, NL, PT"),
    ("id_client", "x" * 65, "at most 64"),
    ("id_client", "52\t", "U+0009"),
    ("divers", "x" * 256, "at most 255"),
    ("divers", "token\x00", "U+0000"),
    ("email_client", "blup", "'@'"),
    ("email_client", "a@b@yopmail.com", "'@'"),
    ("email_client", "blup@yopmail", "'@'"),
    ("email_client", "@yopmail.com", "'@'"),
    ("email_client", "blup @yopmail.com", "space"),
    ("email_client", "b" * 120 + "@yopmail.com", "at most 128"),
    ("url_retour_ok", "https://shop.example/ok", "without"),
    ("url_retour_ok", "/ok", "no host"),
    ("url_retour_stop", "http://shop.example/stop", "without"),
    ("url_retour_stop", "shop.example/a b", "whitespace"),
    ("url_retour_bo", "?confirm=1", "no host"),
    ("url_retour_bo", "a..b/x", "empty label"),
    ("url_retour_ok", ".shop.example/ok", "empty label"),
    ("url_retour_stop", "shop.example./stop", "empty label"),
    ("url_retour_bo", "shop..example:5000?c=1", "empty label"),
    ("url_retour_bo", "shop .example/c", "whitespace"),
    ("url_retour_bo", "shop.example:http/c", "port"),
    ("url_retour_bo", "shop.example:99999/c", "port"),
    ("url_retour_bo", "[::1/c", "IPv6"),
    ("url_retour_bo", "[shop.example]:8080/c", "IPv6"),
    ("url_retour_bo", "x" * 64 + ".example/c", "63"),
    ("url_retour_bo", "shop.example/" + "c" * 500, "at most 512"),
    ("set_secure_return", "2", "'1' for https"),
    ("set_secure_conf", "true", "'1' for https"),
    ("pays_liv", "FR", "3 upper-case letters"),
    ("pays_liv", "fra", "3 upper-case letters"),
    ("nom", "D" * 65, "at most 64"),
    ("prenom", "Zo\u200be", "U+200B"),
]


@pytest.mark.parametrize(("variable", "value", "explains"), RULE_BREAKERS)
def test_each_rule_names_the_variable_and_says_what_is_expected(
    variable: str, value: str, explains: str
) -> None:
    problems = validate_payment_fields(valid_fields(**{variable: value}))

    assert fields_at_fault(problems) == [variable]
    assert explains in problems[0].message


@pytest.mark.parametrize("variable", ["id_boutique", "montant", "devise", "id_client"])
def test_missing_required_variable_is_a_problem(variable: str) -> None:
    fields = valid_fields()
    del fields[variable]

    assert fields_at_fault(validate_payment_fields(fields)) == [variable]


@pytest.mark.parametrize("variable", ["id_boutique", "montant", "devise", "id_client"])
def test_empty_required_variable_is_a_problem(variable: str) -> None:
    assert fields_at_fault(validate_payment_fields(valid_fields(**{variable: ""}))) == [variable]


def test_empty_optional_variable_counts_as_not_given() -> None:
    assert validate_payment_fields(valid_fields(langue="", email_client="", pays_liv="")) == []


def test_unknown_variable_is_a_problem() -> None:
    problems = validate_payment_fields(valid_fields(montant_ttc="2.07"))

    assert fields_at_fault(problems) == ["montant_ttc"]
    assert "unknown variable" in problems[0].message


def test_upper_case_variable_on_in_php_points_to_the_lower_case_name() -> None:
    problems = validate_payment_fields(valid_fields(LANGUE="FR"))

    assert fields_at_fault(problems) == ["LANGUE"]
    assert "'langue'" in problems[0].message


def test_amount_is_not_judged_against_an_unknown_currency() -> None:
    problems = validate_payment_fields(valid_fields(devise="XXX", montant="2.071"))

    assert fields_at_fault(problems) == ["devise"]


@pytest.mark.parametrize(
    ("montant", "explains"),
    [("2,07", "dot"), ("abc", "not an amount"), ("-1", "not an amount"), ("0.00", "more than 0")],
)
def test_a_malformed_amount_is_reported_even_when_the_currency_is_unknown(
    montant: str, explains: str
) -> None:
    problems = validate_payment_fields(valid_fields(devise="XXX", montant=montant))

    assert fields_at_fault(problems) == ["montant", "devise"]
    assert explains in problem_for(problems, "montant")


def test_amount_decimals_follow_the_currency() -> None:
    assert validate_payment_fields(valid_fields(devise="JPY", montant="207")) == []
    assert fields_at_fault(validate_payment_fields(valid_fields(devise="JPY", montant="2.07"))) == ["montant"]


@pytest.mark.parametrize("langue", LANGUAGES)
def test_every_known_language_is_accepted(langue: str) -> None:
    assert validate_payment_fields(valid_fields(langue=langue)) == []


def test_buyer_variables_and_confirmation_url_are_accepted() -> None:
    fields = valid_fields(pays_liv="FRA", nom="Dupont", prenom="Zoé", url_retour_bo="localhost:5000/c/abc")

    assert validate_payment_fields(fields) == []


@pytest.mark.parametrize(
    "url",
    [
        "127.0.0.1:5000/confirm/abc",
        "shop.example",
        "shop.example/ok?step=3#top",
        "localhost",
        "localhost:5000/c",
        "[::1]:8080/c",
        "[2001:db8::7]/c",
        "boutique-démo.example/ok",
        "user@shop.example/c",
    ],
)
def test_usual_hosts_are_accepted_in_every_url(url: str) -> None:
    fields = valid_fields(url_retour_ok=url, url_retour_stop=url, url_retour_bo=url)

    assert validate_payment_fields(fields) == []


def test_a_value_that_is_not_text_is_a_problem() -> None:
    fields: dict[str, object] = {**valid_fields(), "id_client": 52}

    problems = validate_payment_fields(fields)  # type: ignore[arg-type]

    assert fields_at_fault(problems) == ["id_client"]
    assert "text" in problems[0].message


def test_several_problems_are_reported_in_protocol_order() -> None:
    fields = valid_fields(montant="2,07", langue="fr", set_secure_conf="yes")
    del fields["id_client"]

    problems = validate_payment_fields(fields)

    assert fields_at_fault(problems) == ["id_client", "montant", "langue", "set_secure_conf"]


names = st.one_of(st.sampled_from(PAYMENT_FIELDS), st.text(max_size=20))


@given(st.dictionaries(names, st.text(max_size=600)))
def test_validation_of_any_mapping_returns_problems_and_never_raises(
    fields: dict[str, str],
) -> None:
    problems = validate_payment_fields(fields)

    assert all(isinstance(problem, Problem) for problem in problems)


# --- split_url / join_url ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "value", "secure"),
    [
        ("https://shop.example/ok?x=1", "shop.example/ok?x=1", True),
        ("http://127.0.0.1:5000/c", "127.0.0.1:5000/c", False),
        ("HTTPS://shop.example/", "shop.example/", True),
    ],
)
def test_split_url_separates_scheme_from_value(url: str, value: str, secure: bool) -> None:
    assert split_url(url) == (value, secure)


@pytest.mark.parametrize(("value", "secure"), [("shop.example/ok", True), ("a/b?c=d", False)])
def test_join_url_undoes_split_url(value: str, secure: bool) -> None:
    assert split_url(join_url(value, secure)) == (value, secure)


@pytest.mark.parametrize("url", ["ftp://shop.example/ok", "shop.example/ok", "https://", ""])
def test_split_url_refuses_anything_but_an_http_url(url: str) -> None:
    with pytest.raises(ValidationError) as caught:
        split_url(url, "url_retour_ok")

    assert fields_at_fault(caught.value.problems) == ["url_retour_ok"]


# --- subscriptions -----------------------------------------------------------------------


def subscription(**changes: object) -> SubscriptionRequest:
    values: dict[str, object] = {
        "id_boutique": "21573www",
        "amount": Money(Decimal("9.90"), "EUR"),
        "id_client": "52",
        "occurrences": 12,
        "url_retour_ok": "https://shop.example/ok",
        "url_retour_stop": "https://shop.example/stop",
        "url_retour_bo": "https://hub.example/c/s3cret",
        **changes,
    }
    return SubscriptionRequest(**values)  # type: ignore[arg-type]


def valid_subscription_fields(**changes: str) -> dict[str, str]:
    fields = subscription().fields()
    fields.update(changes)
    return fields


def test_subscription_sends_upper_case_variables_without_scheme() -> None:
    fields = subscription(initial_amount=Money(Decimal("1"), "EUR"), divers="tok").fields()

    assert fields == {
        "ID_BOUTIQUE": "21573www",
        "ID_CLIENT": "52",
        "MONTANT": "9.90",
        "MONTANT_INITIAL": "1.00",
        "NB_OCCURENCES_MAX": "12",
        "PERIODE_NB": "1",
        "PERIODE_TYPE": "M",
        "TYPE_ABO": "STANDARD",
        "TOLERANCE_JOURS": "0",
        "TOLERANCE_NBMAX": "0",
        "DEVISE": "EUR",
        "LANGUE": "FR",
        "DIVERS": "tok",
        "URL_RETOUR_OK": "shop.example/ok",
        "URL_RETOUR_STOP": "shop.example/stop",
        "URL_RETOUR_BO": "hub.example/c/s3cret",
        "SET_SECURE_RETURN": "1",
        "SET_SECURE_CONF": "1",
    }
    assert list(fields) == [name for name in SUBSCRIPTION_FIELDS if name in fields]


def test_subscription_without_initial_amount_does_not_send_one() -> None:
    assert "MONTANT_INITIAL" not in subscription().fields()


def test_subscription_goes_to_abov2() -> None:
    url = subscription().url("http://127.0.0.1:5000")

    assert url.startswith("http://127.0.0.1:5000/ABOv2/in.php?ID_BOUTIQUE=21573www&")
    assert subscription().action() == f"{PLATFORM_URL}/ABOv2/in.php"
    assert dict(parse_qsl(urlsplit(url).query)) == subscription().fields()


@pytest.mark.parametrize("period_type", PERIOD_TYPES)
def test_every_period_type_is_accepted(period_type: str) -> None:
    assert subscription(period_type=period_type).fields()["PERIODE_TYPE"] == period_type


def test_initial_amount_in_another_currency_is_a_problem() -> None:
    with pytest.raises(ValidationError) as caught:
        subscription(initial_amount=Money(Decimal("1"), "USD")).fields()

    assert fields_at_fault(caught.value.problems) == ["MONTANT_INITIAL"]


def test_subscription_reports_every_problem_at_once() -> None:
    request = subscription(
        occurrences=0, period_type="A", type_abo="PREMIUM", url_retour_stop="http://shop.example/s"
    )

    with pytest.raises(ValidationError) as caught:
        request.fields()

    assert fields_at_fault(caught.value.problems) == [
        "NB_OCCURENCES_MAX",
        "PERIODE_TYPE",
        "TYPE_ABO",
        "URL_RETOUR_STOP",
    ]


def test_valid_subscription_fields_pass_validation() -> None:
    assert validate_subscription_fields(valid_subscription_fields()) == []


SUBSCRIPTION_RULE_BREAKERS = [
    ("MONTANT", "9,90", "dot"),
    ("MONTANT_INITIAL", "0", "more than 0"),
    ("NB_OCCURENCES_MAX", "0", "from 1 to 999"),
    ("NB_OCCURENCES_MAX", "1000", "from 1 to 999"),
    ("NB_OCCURENCES_MAX", "+3", "from 1 to 999"),
    ("NB_OCCURENCES_MAX", "١٢", "from 1 to 999"),
    ("PERIODE_NB", "0", "from 1 to 99"),
    ("PERIODE_TYPE", "m", "M, J, S"),
    ("TYPE_ABO", "standard", "STANDARD"),
    ("TOLERANCE_JOURS", "-1", "from 0 to 99"),
    ("TOLERANCE_NBMAX", "100", "from 0 to 99"),
    ("DEVISE", "EURO", "EUR"),
    ("URL_RETOUR_OK", "https://shop.example/ok", "SET_SECURE_RETURN=1"),
    ("URL_RETOUR_BO", "https://hub.example/c", "SET_SECURE_CONF=1"),
    ("SET_SECURE_CONF", "on", "'1' for https"),
]


@pytest.mark.parametrize(("variable", "value", "explains"), SUBSCRIPTION_RULE_BREAKERS)
def test_each_subscription_rule_names_the_variable(variable: str, value: str, explains: str) -> None:
    problems = validate_subscription_fields(valid_subscription_fields(**{variable: value}))

    assert fields_at_fault(problems) == [variable]
    assert explains in problems[0].message


def test_subscription_amounts_are_reported_even_when_the_currency_is_unknown() -> None:
    problems = validate_subscription_fields(
        valid_subscription_fields(DEVISE="EURO", MONTANT="9,99", MONTANT_INITIAL="0")
    )

    assert fields_at_fault(problems) == ["MONTANT", "MONTANT_INITIAL", "DEVISE"]


def test_subscription_requires_a_number_of_debits() -> None:
    fields = valid_subscription_fields()
    del fields["NB_OCCURENCES_MAX"]

    assert fields_at_fault(validate_subscription_fields(fields)) == ["NB_OCCURENCES_MAX"]


def test_re_presenting_a_refused_debit_needs_days_between_attempts() -> None:
    problems = validate_subscription_fields(
        valid_subscription_fields(TOLERANCE_NBMAX="2", TOLERANCE_JOURS="0")
    )

    assert fields_at_fault(problems) == ["TOLERANCE_JOURS"]
    assert (
        validate_subscription_fields(valid_subscription_fields(TOLERANCE_NBMAX="2", TOLERANCE_JOURS="3"))
        == []
    )


def test_lower_case_variable_on_abov2_points_to_the_upper_case_name() -> None:
    problems = validate_subscription_fields(valid_subscription_fields(montant_initial="1.00"))

    assert fields_at_fault(problems) == ["montant_initial"]
    assert "'MONTANT_INITIAL'" in problems[0].message


subscription_names = st.one_of(st.sampled_from(SUBSCRIPTION_FIELDS), st.text(max_size=20))


@given(st.dictionaries(subscription_names, st.text(max_size=40)))
def test_subscription_validation_of_any_mapping_never_raises(fields: dict[str, str]) -> None:
    problems = validate_subscription_fields(fields)

    assert all(isinstance(problem, Problem) for problem in problems)
