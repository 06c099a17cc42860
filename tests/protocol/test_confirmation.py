"""Reading the platform's confirmation POST, strictly, and writing it for the sandbox."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bluepaid_plugins.errors import ConfirmationError
from bluepaid_plugins.money import CURRENCIES, Money
from bluepaid_plugins.protocol import CONFIRMATION_FIELDS, Confirmation, Etat, Mode
from bluepaid_plugins.protocol import parse_confirmation as parse

Pairs = list[tuple[str, str]]


def valid_pairs(**changes: str) -> Pairs:
    """A live, accepted payment of 36.60 EUR, with ``changes`` applied (appended if new)."""
    values = {
        "etat": "ok",
        "mode": "",
        "id_trans": "T20160412-0001",
        "id_client": "52",
        "divers": "1aca230749db383749bd1bb1c471dab1",
        "langue": "FR",
        "id_boutique": "21573www",
        "montant": "36.60",
        "devise": "EUR",
        **changes,
    }
    return list(values.items())


def without(name: str) -> Pairs:
    return [(key, value) for key, value in valid_pairs() if key != name]


def rejected(pairs: Pairs) -> dict[str, str]:
    """The problems of a rejected confirmation, by field."""
    with pytest.raises(ConfirmationError) as caught:
        parse(pairs)
    return {problem.field: problem.message for problem in caught.value.problems}


def test_valid_confirmation_is_read() -> None:
    assert parse(valid_pairs()) == Confirmation(
        etat=Etat.OK,
        mode=Mode.LIVE,
        id_trans="T20160412-0001",
        id_client="52",
        id_boutique="21573www",
        amount=Money(Decimal("36.60"), "EUR"),
        divers="1aca230749db383749bd1bb1c471dab1",
        langue="FR",
    )


def test_decimal_comma_amount_is_read() -> None:
    assert parse(valid_pairs(montant="36,60")).amount == Money(Decimal("36.60"), "EUR")


@pytest.mark.parametrize("etat", list(Etat))
def test_each_etat_is_read(etat: Etat) -> None:
    assert parse(valid_pairs(etat=etat.value)).etat is etat


@pytest.mark.parametrize("mode", list(Mode))
def test_each_mode_is_read(mode: Mode) -> None:
    assert parse(valid_pairs(mode=mode.value)).mode is mode


def test_missing_mode_means_live() -> None:
    assert parse(without("mode")).mode is Mode.LIVE


def test_unknown_etat_is_rejected_with_the_allowed_values() -> None:
    problems = rejected(valid_pairs(etat="paid"))

    assert list(problems) == ["etat"]
    assert "'paid'" in problems["etat"] and "ok, ko, attente, annu" in problems["etat"]


def test_etat_is_case_sensitive() -> None:
    assert list(rejected(valid_pairs(etat="OK"))) == ["etat"]


def test_unknown_mode_is_rejected_with_the_allowed_values() -> None:
    problems = rejected(valid_pairs(mode="live"))

    assert list(problems) == ["mode"]
    assert "'test'" in problems["mode"] and "'r'" in problems["mode"]


@pytest.mark.parametrize("field", ["etat", "montant", "divers", "mode"])
def test_duplicated_field_is_rejected_even_with_the_same_value(field: str) -> None:
    pairs = valid_pairs()
    pairs.append(next(pair for pair in pairs if pair[0] == field))

    problems = rejected(pairs)

    assert list(problems) == [field]
    assert "2 times" in problems[field]


def test_duplicated_field_with_another_value_is_rejected() -> None:
    pairs = [*valid_pairs(), ("etat", "ko")]

    assert list(rejected(pairs)) == ["etat"]


def test_all_missing_required_fields_are_listed() -> None:
    problems = rejected([("mode", "test"), ("divers", "x")])

    assert list(problems) == ["etat", "id_trans", "id_client", "id_boutique", "montant", "devise"]
    assert all("missing" in message for message in problems.values())


@pytest.mark.parametrize("field", ["etat", "id_trans", "id_client", "id_boutique", "montant"])
def test_empty_required_field_is_rejected(field: str) -> None:
    assert list(rejected(valid_pairs(**{field: ""}))) == [field]


@pytest.mark.parametrize(
    "montant",
    ["1e5", "NaN", "Infinity", "-1", "+1", "٣", "3٫5", "36.605", "1,2,3", " 36.60", "36.60\n", "1_0"],
)
def test_malformed_amount_is_rejected(montant: str) -> None:
    assert list(rejected(valid_pairs(montant=montant))) == ["montant"]


def test_amount_decimals_follow_the_currency() -> None:
    assert parse(valid_pairs(montant="207", devise="JPY")).amount == Money(Decimal(207), "JPY")
    assert list(rejected(valid_pairs(montant="2.07", devise="JPY"))) == ["montant"]


def test_unknown_currency_is_rejected_and_the_amount_left_unjudged() -> None:
    problems = rejected(valid_pairs(devise="FRF", montant="36.605"))

    assert list(problems) == ["devise"]
    assert "EUR" in problems["devise"]


@pytest.mark.parametrize(
    ("field", "limit"),
    [("id_trans", 64), ("id_client", 64), ("id_boutique", 32), ("divers", 255), ("num_abo", 64)],
)
def test_too_long_value_is_rejected(field: str, limit: int) -> None:
    assert getattr(parse(valid_pairs(**{field: "x" * limit})), field) == "x" * limit

    problems = rejected(valid_pairs(**{field: "x" * (limit + 1)}))

    assert list(problems) == [field]
    assert f"at most {limit}" in problems[field]


@pytest.mark.parametrize("value", ["52\x00", "52\r\n", "5\u202e2", "\ud800"])
def test_control_or_invisible_character_is_rejected(value: str) -> None:
    assert list(rejected(valid_pairs(id_client=value))) == ["id_client"]


def test_subscription_debit_fields_are_read() -> None:
    confirmation = parse(valid_pairs(num_abo="A-77", num_prochaine_presentation="4", fini="non"))

    assert (confirmation.num_abo, confirmation.num_prochaine_presentation) == ("A-77", 4)
    assert confirmation.fini is False
    assert parse(valid_pairs(fini="oui")).fini is True


def test_empty_debit_index_counts_as_not_sent() -> None:
    assert parse(valid_pairs(num_prochaine_presentation="")).num_prochaine_presentation is None


@pytest.mark.parametrize("index", ["x", "-1", "٣", "4.0", "1e3", "1234567890"])
def test_debit_index_must_be_ascii_digits(index: str) -> None:
    problems = rejected(valid_pairs(num_prochaine_presentation=index))

    assert list(problems) == ["num_prochaine_presentation"]


@pytest.mark.parametrize("fini", ["yes", "OUI", "1", "true"])
def test_fini_other_than_oui_or_non_is_rejected(fini: str) -> None:
    problems = rejected(valid_pairs(fini=fini))

    assert list(problems) == ["fini"]
    assert "'oui'" in problems["fini"]


def test_unknown_fields_are_ignored_even_duplicated() -> None:
    pairs = [*valid_pairs(), ("date", "2016-04-12"), ("date", "2016-04-13")]

    assert parse(pairs) == parse(valid_pairs())


def test_every_problem_is_reported_at_once() -> None:
    pairs = [
        ("etat", "paid"),
        ("mode", "live"),
        ("id_client", "52"),
        ("id_client", "52"),
        ("id_boutique", "21573www"),
        ("montant", "1e5"),
        ("devise", "EUR"),
        ("fini", "yes"),
    ]

    assert set(rejected(pairs)) == {"id_client", "id_trans", "etat", "mode", "montant", "fini"}


def test_huge_values_are_rejected_quickly() -> None:
    huge = "9" * 1_000_000

    problems = rejected(valid_pairs(montant=huge, id_trans=huge, num_prochaine_presentation=huge))

    assert set(problems) == {"montant", "id_trans", "num_prochaine_presentation"}
    assert all(len(message) < 200 for message in problems.values())


def test_pairs_that_are_not_pairs_of_text_are_rejected() -> None:
    pairs: list[object] = [*valid_pairs(), ("etat",), (b"mode", b"test")]

    problems = rejected(pairs)  # type: ignore[arg-type]

    assert list(problems) == ["form"]


def test_fields_send_debit_fields_only_when_set() -> None:
    plain = parse(valid_pairs(montant="36,60"))
    debit = parse(valid_pairs(num_abo="A-77", num_prochaine_presentation="0", fini="oui"))

    assert plain.fields() == dict(valid_pairs())
    assert debit.fields() == {
        **dict(valid_pairs()),
        "num_abo": "A-77",
        "num_prochaine_presentation": "0",
        "fini": "oui",
    }


def test_return_params_carry_what_the_browser_gets_back() -> None:
    confirmation = parse(valid_pairs(montant="36,60", mode="test"))

    assert confirmation.return_params() == {
        "id_client": "52",
        "divers": "1aca230749db383749bd1bb1c471dab1",
        "etat": "ok",
        "montant": "36.60",
        "mode": "test",
        "id_trans": "T20160412-0001",
    }


# --- properties -------------------------------------------------------------------------

# Exactly the characters str.isprintable() accepts: no Other, no Separator but the space.
printable = st.characters(exclude_categories=("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp", "Zs")) | st.just(" ")


def texts(min_size: int, max_size: int) -> st.SearchStrategy[str]:
    return st.text(printable, min_size=min_size, max_size=max_size)


@st.composite
def confirmations(draw: st.DrawFn) -> Confirmation:
    currency = draw(st.sampled_from(sorted(CURRENCIES)))
    return Confirmation(
        etat=draw(st.sampled_from(Etat)),
        mode=draw(st.sampled_from(Mode)),
        id_trans=draw(texts(1, 64)),
        id_client=draw(texts(1, 64)),
        id_boutique=draw(texts(1, 32)),
        amount=Money.from_minor(draw(st.integers(0, 10**12 - 1)), currency),
        divers=draw(texts(0, 255)),
        langue=draw(texts(0, 8)),
        num_abo=draw(texts(0, 64)),
        num_prochaine_presentation=draw(st.none() | st.integers(0, 999_999_999)),
        fini=draw(st.booleans()),
    )


def parse_or_reject(pairs: Pairs) -> Confirmation | None:
    """Parse; a rejection must be a ConfirmationError that names at least one problem."""
    try:
        return parse(pairs)
    except ConfirmationError as exc:
        assert exc.problems
        return None


@given(confirmations())
def test_fields_of_a_confirmation_parse_back_to_it(confirmation: Confirmation) -> None:
    assert parse(list(confirmation.fields().items())) == confirmation


tricky_values = st.sampled_from(
    ["", "ok", "test", "r", "EUR", "JPY", "36,60", "2.07", "1e5", "NaN", "-1", "٣", "oui", "0"]
)
names = st.sampled_from(CONFIRMATION_FIELDS) | st.text(max_size=30)
values = tricky_values | st.text(max_size=300)


@given(st.lists(st.tuples(names, values), max_size=30))
def test_any_pairs_give_a_confirmation_or_a_confirmation_error(pairs: Pairs) -> None:
    parse_or_reject(pairs)


@st.composite
def mutated(draw: st.DrawFn) -> Pairs:
    """A valid confirmation's pairs with one to four fields dropped, doubled, changed or added."""
    pairs = list(draw(confirmations()).fields().items())
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["drop", "double", "value", "name", "add"]))
        if kind == "add" or not pairs:
            pairs.append((draw(names), draw(values)))
            continue
        at = draw(st.integers(0, len(pairs) - 1))
        name, value = pairs[at]
        if kind == "drop":
            del pairs[at]
        elif kind == "double":
            pairs.insert(draw(st.integers(0, len(pairs))), (name, draw(st.just(value) | values)))
        elif kind == "value":
            pairs[at] = (name, draw(values))
        else:
            pairs[at] = (draw(names), value)
    return pairs


@given(mutated())
def test_mutated_confirmation_is_read_consistently_or_rejected(pairs: Pairs) -> None:
    confirmation = parse_or_reject(pairs)

    if confirmation is not None:
        assert parse(list(confirmation.fields().items())) == confirmation
