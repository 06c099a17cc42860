"""The basket's arithmetic: line totals, VAT per rate rounded per line or per order, shipping."""

from __future__ import annotations

from decimal import Decimal

from bluepaid_plugins.money import Money
from cart.basket import Line, Rounding, totals, vat_of

EUR = "EUR"


def line(product_id: int, unit: str, rate: str, quantity: int) -> Line:
    return Line(product_id, f"p{product_id}", Money.parse(unit, EUR), Decimal(rate), quantity)


def test_the_vat_inside_a_price_is_rounded_half_up() -> None:
    assert vat_of(1990, Decimal(20), EUR) == 332  # 19.90 * 20 / 120 = 3.3166...
    assert vat_of(1200, Decimal("5.5"), EUR) == 63  # 0.6255...
    assert vat_of(105, Decimal(5), EUR) == 5  # 0.05 exactly
    assert vat_of(0, Decimal(20), EUR) == 0


def test_the_total_is_the_lines_plus_shipping_with_vat_per_rate() -> None:
    found = totals(
        [line(1, "19.90", "20", 2), line(2, "12.00", "5.5", 1)],
        EUR,
        shipping=Money.parse("4.90", EUR),
        shipping_rate=Decimal(20),
    )

    assert (str(found.goods), str(found.shipping), str(found.total)) == ("51.80", "4.90", "56.70")
    assert {str(rate): str(vat) for rate, vat in found.vat.items()} == {"5.5": "0.63", "20": "7.45"}


def test_rounding_per_line_and_per_order_may_differ_by_a_cent_and_the_total_never() -> None:
    lines = [line(n, "0.10", "20", 1) for n in range(1, 4)]

    per_line = totals(lines, EUR, rounding=Rounding.LINE)
    per_order = totals(lines, EUR, rounding=Rounding.ORDER)

    # Each line holds 0.0166... of VAT, rounded to 0.02; the order's 0.05 exactly.
    assert (str(per_line.vat[Decimal(20)]), str(per_order.vat[Decimal(20)])) == ("0.06", "0.05")
    assert per_line.total == per_order.total == Money.parse("0.30", EUR)


def test_an_empty_basket_costs_nothing_not_even_shipping() -> None:
    found = totals([], EUR, shipping=Money.parse("4.90", EUR))

    assert (found.total.minor, found.shipping.minor, dict(found.vat)) == (0, 0, {})


def test_a_currency_without_decimals_is_rounded_to_units() -> None:
    found = totals([Line(1, "p", Money.parse("1000", "JPY"), Decimal(10), 3)], "JPY")

    assert (str(found.total), str(found.vat[Decimal(10)])) == ("3000", "273")
