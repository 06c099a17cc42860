"""The buyer-detail checks shared by the payment form, the cart's checkout and the sandbox."""

from __future__ import annotations

import pytest

from bluepaid_plugins.buyer import plausible_phone, plausible_postcode, postcode_fits


@pytest.mark.parametrize("phone", ["01 23 45 67 89", "+33 (0)1.23.45.67.89", "123456", "+1-202-555-0143"])
def test_a_phone_written_as_people_do_is_plausible(phone: str) -> None:
    assert plausible_phone(phone)


@pytest.mark.parametrize(
    "phone",
    ["12345", "1" * 21, "01 23 45 67 8x", "01+23456789", "０１２３４５６７", "<script>1234567</script>"],
)
def test_a_phone_with_too_few_digits_or_other_characters_is_not(phone: str) -> None:
    assert not plausible_phone(phone)


@pytest.mark.parametrize(
    ("postcode", "country", "fits"),
    [
        ("75011", "FR", True),
        ("7501", "FR", False),
        ("1000", "BE", True),
        ("0999", "BE", False),
        ("sw1a 1aa", "GB", True),
        ("1012 AB", "NL", True),
        ("L-1234", "LU", True),
        ("12-345", "PL", True),
        ("-123", "PL", False),
        ("１２３４５", "FR", False),
    ],
)
def test_a_postcode_fits_its_countrys_format_or_the_loose_rule(
    postcode: str, country: str, fits: bool
) -> None:
    assert postcode_fits(postcode, country) is fits


def test_the_loose_rule_takes_2_to_10_letters_digits_spaces_or_dashes() -> None:
    assert plausible_postcode("A1")
    assert plausible_postcode("AB-12 34CD")
    assert not plausible_postcode("A")
    assert not plausible_postcode("ABCDEFGHIJK")
    assert not plausible_postcode("12_34")
