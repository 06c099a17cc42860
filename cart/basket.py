"""The basket's arithmetic: lines, VAT per rate, shipping, the total to charge.

Prices are VAT included (a shop selling to consumers shows what they pay).
The VAT inside an amount is ``amount * rate / (100 + rate)``, rounded half up
to the currency's minor unit:

- ``per line`` (the default): each line's VAT is rounded, then the rounded VATs
  of a rate are added up;
- ``per order``: the lines of a rate are added up first, and their VAT rounded once.

The two may differ by a cent or so on a basket of many lines; the total charged
is the same (the sum of the lines plus shipping), only its VAT breakdown moves.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from bluepaid_plugins.money import Money, currency_decimals

#: The most of one product a basket holds: beyond, it is a slip of the keyboard.
QUANTITY_MAX = 99
#: The most lines a basket holds, so a session cookie stays small.
LINES_MAX = 50


class Rounding(StrEnum):
    """Where the VAT is rounded: on each line, or once per rate for the order."""

    LINE = "line"
    ORDER = "order"


@dataclass(frozen=True)
class Line:
    """A product in the basket: ``unit`` its price (VAT included), ``rate`` its VAT percentage."""

    product_id: int
    name: str
    unit: Money
    rate: Decimal
    quantity: int

    @property
    def total(self) -> Money:
        return Money.from_minor(self.unit.minor * self.quantity, self.unit.currency)


@dataclass(frozen=True)
class Totals:
    """What the basket comes to. ``vat`` maps each rate to the VAT included at that
    rate (shipping counted at its own rate); ``total`` is what the buyer pays."""

    lines: tuple[Line, ...]
    goods: Money
    shipping: Money
    vat: Mapping[Decimal, Money]
    total: Money


def vat_of(amount_minor: int, rate: Decimal, currency: str) -> int:
    """The VAT included in ``amount_minor`` at ``rate`` percent, in minor units, rounded half up."""
    places = currency_decimals(currency)
    major = Decimal(amount_minor).scaleb(-places)
    vat = (major * rate / (100 + rate)).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    return int(vat.scaleb(places))


def totals(
    lines: Sequence[Line],
    currency: str,
    *,
    shipping: Money | None = None,
    shipping_rate: Decimal = Decimal(0),
    rounding: Rounding = Rounding.LINE,
) -> Totals:
    """The totals of ``lines`` in ``currency``; ``shipping`` is added once when the basket
    is not empty (a flat fee, VAT included at ``shipping_rate``)."""
    fee = shipping if shipping is not None and lines else Money.from_minor(0, currency)
    by_rate: dict[Decimal, list[int]] = {}
    for line in lines:
        by_rate.setdefault(line.rate, []).append(line.total.minor)
    if fee.minor:
        by_rate.setdefault(shipping_rate, []).append(fee.minor)
    vat: dict[Decimal, Money] = {}
    for rate in sorted(by_rate):
        amounts = by_rate[rate]
        if rounding is Rounding.LINE:
            minor = sum(vat_of(amount, rate, currency) for amount in amounts)
        else:
            minor = vat_of(sum(amounts), rate, currency)
        vat[rate] = Money.from_minor(minor, currency)
    goods = Money.from_minor(sum(line.total.minor for line in lines), currency)
    return Totals(tuple(lines), goods, fee, vat, goods + fee)
