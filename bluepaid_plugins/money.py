"""Money: exact amounts in a currency's own number of decimals.

Amounts are :class:`~decimal.Decimal`, never float. The number of decimals comes
from Babel's currency data (EUR 2, JPY 0, KWD 3). Two amounts are compared in
minor units (cents), so ``2.5`` and ``2.50`` EUR are equal and ``2.505`` is
rejected. Any ISO 4217 currency can be held (a shop's orders may be in any);
only :data:`CURRENCIES` can be paid on the platform (:func:`check_currency`).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from babel.numbers import get_currency_precision, list_currencies

from bluepaid_plugins.errors import Problem, ValidationError

#: The currencies the Bluepaid modules offered.
CURRENCIES = frozenset({"EUR", "CHF", "USD", "GBP", "JPY", "CAD", "AUD"})

# A protocol amount: digits, optionally one dot or comma and more digits. No sign,
# no exponent, no thousands separator: the platform never sent those.
_AMOUNT = re.compile(r"[0-9]{1,12}(?:[.,][0-9]{1,12})?")

# Babel builds this set anew on every call, and every Money checks its currency:
# read once, it is Babel's data frozen, not state.
_ISO_4217 = frozenset(list_currencies())


def currency_decimals(currency: str) -> int:
    """Number of decimals of ISO 4217 ``currency``; raises ValidationError for unknown codes."""
    if not (isinstance(currency, str) and len(currency) == 3 and currency in _ISO_4217):
        raise ValidationError(Problem("devise", f"unknown currency {str(currency)[:8]!r}"))
    return int(get_currency_precision(currency))


def check_currency(currency: str, field: str = "devise") -> None:
    """Raise ValidationError unless ``currency`` is one the platform accepts (:data:`CURRENCIES`)."""
    if currency not in CURRENCIES:
        allowed = ", ".join(sorted(CURRENCIES))
        raise ValidationError(Problem(field, f"unknown currency {currency!r}; use one of {allowed}"))


@dataclass(frozen=True, order=False)
class Money:
    """An amount in a currency, exact to the currency's minor unit.

    Construction refuses negative amounts and amounts with more decimals than
    the currency has (``Money(Decimal("1.005"), "EUR")`` is an error, not 1.01).
    """

    amount: Decimal
    currency: str

    def __post_init__(self) -> None:
        if not isinstance(self.amount, Decimal) or not self.amount.is_finite():
            raise ValidationError(Problem("montant", "amount must be a finite Decimal"))
        places = currency_decimals(self.currency)
        if self.amount.is_zero():
            # -0 would print as "-0.00", which no parser (ours included) reads back.
            object.__setattr__(self, "amount", abs(self.amount))
        if self.amount < 0:
            raise ValidationError(Problem("montant", f"negative amount {self.amount}"))
        exponent = self.amount.normalize().as_tuple().exponent
        if isinstance(exponent, int) and -exponent > places:
            raise ValidationError(
                Problem("montant", f"{self.amount} has more than {places} decimals for {self.currency}")
            )
        object.__setattr__(self, "amount", self.amount.quantize(Decimal(1).scaleb(-places)))

    @classmethod
    def parse(cls, text: str, currency: str, field: str = "montant") -> Money:
        """Read a protocol amount (``2.07``, ``36,60``, ``12``); ValidationError if malformed."""
        if not _AMOUNT.fullmatch(text):
            raise ValidationError(Problem(field, f"not an amount: {text[:40]!r}"))
        try:
            value = Decimal(text.replace(",", "."))
        except InvalidOperation as exc:  # pragma: no cover - the pattern rules this out
            raise ValidationError(Problem(field, f"not an amount: {text[:40]!r}")) from exc
        try:
            return cls(value, currency)
        except ValidationError as exc:
            raise ValidationError([Problem(field, p.message) for p in exc.problems]) from exc

    @classmethod
    def from_minor(cls, minor: int, currency: str) -> Money:
        """Build from an integer count of minor units (cents)."""
        return cls(Decimal(minor).scaleb(-currency_decimals(currency)), currency)

    @property
    def minor(self) -> int:
        """The amount in minor units (cents for EUR)."""
        return int(self.amount.scaleb(currency_decimals(self.currency)))

    def __str__(self) -> str:
        """The protocol form: major units, a dot, the currency's decimals (``2.07``)."""
        return f"{self.amount:f}"

    def __add__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.amount - other.amount, self.currency)

    def __lt__(self, other: Money) -> bool:
        self._same_currency(other)
        return self.minor < other.minor

    def __le__(self, other: Money) -> bool:
        self._same_currency(other)
        return self.minor <= other.minor

    def _same_currency(self, other: Money) -> None:
        if self.currency != other.currency:
            raise ValidationError(Problem("devise", f"cannot combine {self.currency} and {other.currency}"))


def loads_exact(text: str | bytes) -> Any:
    """Decode JSON whose amounts are JSON numbers (Magento's ``165.5``, Shopware's ``395.01``)
    with every number that has a fraction or an exponent read as a Decimal, digit for digit.

    ``json.loads`` would make them floats, and ``Decimal(395.01)`` is not
    ``Decimal("395.01")``. Integers stay ints. Raises ValueError for text that
    is not JSON.
    """
    return json.loads(text, parse_float=Decimal)


def json_amount(value: object, field: str) -> Decimal:
    """An amount read by :func:`loads_exact` (a Decimal or an int) or sent as a decimal
    string, as a finite Decimal; ValidationError naming ``field`` for anything else
    (a float, which has already lost the exact amount, a bool, a null)."""
    if isinstance(value, Decimal | int | str) and not isinstance(value, bool):
        try:
            number = Decimal(value.strip() if isinstance(value, str) else value)
        except InvalidOperation:
            number = Decimal("NaN")
        if number.is_finite():
            return number
    raise ValidationError(Problem(field, f"{str(value)[:40]!r} is not an exact amount"))
