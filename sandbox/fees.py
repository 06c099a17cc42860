"""Bluepaid's fees (2016 offers, protocol document §4), shown in the console.

START: 2.9 % + 0.30 EUR per payment. PRO: 2.4 % + 0.24 EUR per payment, plus
9.99 EUR HT a month. A refused payment costs only the fixed part. The offers
are in euros: the sandbox shows no fee for other currencies, and none for
refunds, which the record does not price.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from bluepaid_plugins.money import Money
from sandbox.models import Plan, Transaction, TxKind, TxStatus


@dataclass(frozen=True)
class FeePlan:
    rate: Decimal
    fixed: Decimal
    monthly: Decimal


PLANS = {
    Plan.START.value: FeePlan(Decimal("0.029"), Decimal("0.30"), Decimal("0")),
    Plan.PRO.value: FeePlan(Decimal("0.024"), Decimal("0.24"), Decimal("9.99")),
}


def transaction_fee(plan: str, tx: Transaction) -> Money | None:
    """The fee of one payment or subscription debit, or None when none applies
    (another currency, a refund, a payment not yet accepted or refused)."""
    if tx.currency != "EUR" or tx.kind == TxKind.REFUND.value:
        return None
    terms = PLANS[plan]
    if tx.status == TxStatus.REFUSED.value:
        return Money(terms.fixed, "EUR")
    if tx.status != TxStatus.ACCEPTED.value:
        return None
    fee = tx.amount.amount * terms.rate + terms.fixed
    return Money(fee.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP), "EUR")
