"""Money as the protocol writes it: exact, in the currency's own decimals."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bluepaid_plugins.errors import ValidationError
from bluepaid_plugins.money import Money

# The protocol's amounts have at most 12 digits before the decimal point.
minor_units = st.integers(min_value=0, max_value=10**12 - 1)


@pytest.mark.parametrize("currency", ["EUR", "JPY"])
@given(minor=minor_units)
def test_minor_units_round_trip(currency: str, minor: int) -> None:
    money = Money.from_minor(minor, currency)

    assert money.minor == minor
    assert Money.from_minor(money.minor, currency) == money


@pytest.mark.parametrize("currency", ["EUR", "JPY"])
@given(minor=minor_units)
def test_protocol_text_round_trips(currency: str, minor: int) -> None:
    money = Money.from_minor(minor, currency)

    assert Money.parse(str(money), currency) == money


@given(minor=minor_units)
def test_decimal_comma_reads_like_a_dot(minor: int) -> None:
    text = str(Money.from_minor(minor, "EUR"))

    assert Money.parse(text.replace(".", ","), "EUR") == Money.parse(text, "EUR")


@pytest.mark.parametrize(
    ("text", "currency", "expected"),
    [("2.07", "EUR", "2.07"), ("2.5", "EUR", "2.50"), ("12", "EUR", "12.00"), ("207", "JPY", "207")],
)
def test_protocol_text_is_written_with_the_currency_decimals(text: str, currency: str, expected: str) -> None:
    assert str(Money.parse(text, currency)) == expected


@pytest.mark.parametrize(
    ("text", "currency"), [("2.071", "EUR"), ("2.07", "JPY"), ("-1", "EUR"), ("1e5", "EUR")]
)
def test_amounts_the_currency_cannot_hold_are_refused(text: str, currency: str) -> None:
    with pytest.raises(ValidationError):
        Money.parse(text, currency)
