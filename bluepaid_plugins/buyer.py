"""Checks of a buyer's details, shared by every page that asks for them: the payment
form, the cart's checkout and the sandbox's payment page.

Plain functions over text, so any form library can wrap them: each returns
whether the value is acceptable; the page words the message in its language.
Values are checked as typed, surrounding spaces already stripped.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

#: Postcode formats of the countries most buyers of a French-speaking shop live in,
#: by ISO 3166 alpha-2 code; other countries get :func:`plausible_postcode`'s loose rule.
POSTCODES: Mapping[str, re.Pattern[str]] = {
    code: re.compile(pattern, re.IGNORECASE)
    for code, pattern in {
        "FR": r"[0-9]{5}",
        "MC": r"980[0-9]{2}",
        "DE": r"[0-9]{5}",
        "ES": r"[0-9]{5}",
        "IT": r"[0-9]{5}",
        "BE": r"[1-9][0-9]{3}",
        "CH": r"[1-9][0-9]{3}",
        "AT": r"[1-9][0-9]{3}",
        "LU": r"(?:L-?)?[0-9]{4}",
        "NL": r"[1-9][0-9]{3} ?[A-Z]{2}",
        "PT": r"[0-9]{4}-[0-9]{3}",
        "GB": r"[A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][A-Z]{2}",
        "US": r"[0-9]{5}(?:-[0-9]{4})?",
        "CA": r"[A-Z][0-9][A-Z] ?[0-9][A-Z][0-9]",
    }.items()
}

_PHONE = re.compile(r"\+?[0-9 .()-]+")
_POSTCODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9 -]{0,8}[A-Za-z0-9]")


def plausible_phone(value: str) -> bool:
    """6 to 20 digits among spaces, dots, dashes, brackets and a leading ``+``."""
    digits = sum(char.isdigit() for char in value)
    return value.isascii() and bool(_PHONE.fullmatch(value)) and 6 <= digits <= 20


def plausible_postcode(value: str) -> bool:
    """2 to 10 letters, digits, spaces or dashes, starting and ending with a letter or digit."""
    return value.isascii() and bool(_POSTCODE.fullmatch(value))


def postcode_fits(value: str, country: str) -> bool:
    """Whether ``value`` is a postcode of ``country`` (alpha-2): its own format when
    :data:`POSTCODES` knows it, else :func:`plausible_postcode`."""
    pattern = POSTCODES.get(country.upper())
    if pattern is None:
        return plausible_postcode(value)
    return value.isascii() and bool(pattern.fullmatch(value))
