"""The ``divers`` token: one per payment, bound to every value it protects."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from bluepaid_plugins.money import Money
from bluepaid_plugins.protocol import TOKEN_LENGTH, check_divers, divers_token

INPUTS: dict[str, object] = {
    "secret": "shop-secret",
    "id_boutique": "21573www",
    "order_ref": "52",
    "amount": Money(Decimal("2.07"), "EUR"),
    "payment_id": "pay-1",
}

CHANGED: dict[str, object] = {
    "secret": "other-secret",
    "id_boutique": "21573xxx",
    "order_ref": "53",
    "amount": Money(Decimal("2.08"), "EUR"),
    "payment_id": "pay-2",
}


def token(**changes: object) -> str:
    return divers_token(**{**INPUTS, **changes})  # type: ignore[arg-type]


def test_same_inputs_give_the_same_token() -> None:
    assert token() == token()


def test_token_is_hex_of_the_historical_length() -> None:
    assert re.fullmatch(f"[0-9a-f]{{{TOKEN_LENGTH}}}", token())


@pytest.mark.parametrize("name", list(CHANGED))
def test_changing_any_input_changes_the_token(name: str) -> None:
    assert token(**{name: CHANGED[name]}) != token()


def test_same_amount_in_another_currency_changes_the_token() -> None:
    assert token(amount=Money(Decimal("2.07"), "USD")) != token()


def test_parts_cannot_be_shifted_from_one_input_to_the_next() -> None:
    assert token(id_boutique="21573www5", order_ref="2") != token()


def test_check_divers_accepts_the_issued_token() -> None:
    assert check_divers(token(), **INPUTS)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", list(CHANGED))
def test_check_divers_refuses_the_token_for_other_values(name: str) -> None:
    assert not check_divers(token(), **{**INPUTS, name: CHANGED[name]})  # type: ignore[arg-type]


def test_check_divers_refuses_an_altered_token() -> None:
    issued = token()
    altered = ("0" if issued[0] != "0" else "1") + issued[1:]

    assert not check_divers(altered, **INPUTS)  # type: ignore[arg-type]
