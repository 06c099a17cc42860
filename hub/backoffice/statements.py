"""Monthly statements per shop: every payment, refusal and refund of the month,
with Bluepaid's fees estimated for the shop's plan (2016 offers):

- START: 2.9 % + 0.30 per accepted payment;
- PRO: 2.4 % + 0.24 per accepted payment, and 9.99 EUR HT a month;
- a refused payment costs only the fixed part; a refund costs nothing.

Test payments are left out: test cards cost nothing. The fee is in the payment's
currency, rounded to the cent, half up: an estimate, the platform's invoice rules.
The last :data:`MONTHS_OFFERED` months are offered.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import String, cast, select

from bluepaid_plugins.domain import EventKind
from bluepaid_plugins.money import Money
from hub.backoffice.pdf import text_pdf
from hub.context import Hub
from hub.models import Payment, PaymentEventRow, Shop

MONTHS_OFFERED = 6


@dataclass(frozen=True)
class Plan:
    name: str
    rate: Decimal
    fixed: Decimal
    monthly: Decimal


PLANS = {
    "start": Plan("START", Decimal("0.029"), Decimal("0.30"), Decimal("0")),
    "pro": Plan("PRO", Decimal("0.024"), Decimal("0.24"), Decimal("9.99")),
}

_KINDS = {
    EventKind.PAID.value: "payment",
    EventKind.REFUSED.value: "refusal",
    EventKind.REFUNDED.value: "refund",
    EventKind.PARTIALLY_REFUNDED.value: "refund",
}


@dataclass(frozen=True)
class Line:
    at: datetime
    kind: str  # payment, refusal, refund
    order_ref: str
    id_trans: str
    amount: Money
    fee: Decimal


@dataclass(frozen=True)
class Statement:
    shop: str
    shop_name: str
    month: date
    plan: Plan
    lines: list[Line]

    def totals(self) -> dict[str, dict[str, Decimal]]:
        """By currency: payments, refusals, refunds and fees (the plan's monthly part in EUR)."""
        sums: dict[str, dict[str, Decimal]] = {}
        for line in self.lines:
            s = sums.setdefault(
                line.amount.currency, dict.fromkeys(("payment", "refusal", "refund", "fees"), Decimal(0))
            )
            s[line.kind] += line.amount.amount
            s["fees"] += line.fee
        if self.plan.monthly:
            sums.setdefault("EUR", dict.fromkeys(("payment", "refusal", "refund", "fees"), Decimal(0)))
            sums["EUR"]["fees"] += self.plan.monthly
        return sums


def fee(plan: Plan, kind: str, amount: Decimal) -> Decimal:
    """Bluepaid's estimated fee for one line of a statement."""
    if kind == "payment":
        value = amount * plan.rate + plan.fixed
    elif kind == "refusal":
        value = plan.fixed
    else:
        value = Decimal(0)
    return value.quantize(Decimal("0.01"), ROUND_HALF_UP)


def months(today: date) -> list[date]:
    """The first days of the months offered, this one first."""
    found, month = [], today.replace(day=1)
    for _ in range(MONTHS_OFFERED):
        found.append(month)
        month = (month - timedelta(days=1)).replace(day=1)
    return found


def _next_month(month: date) -> date:
    return date(month.year + (month.month == 12), month.month % 12 + 1, 1)


def statement(hub: Hub, shop_id: int, month: date) -> Statement:
    """The statement of ``month`` (its first day) for the shop."""
    start = datetime.combine(month, time(), UTC)
    end = datetime.combine(_next_month(month), time(), UTC)
    with hub.db.transaction() as session:
        shop = session.get(Shop, shop_id)
        assert shop is not None
        plan = PLANS.get(shop.plan, PLANS["start"])
        rows = session.execute(
            select(PaymentEventRow, Payment)
            .join(Payment, PaymentEventRow.payment_id == Payment.id)
            .where(
                Payment.shop_id == shop_id,
                PaymentEventRow.kind.in_(list(_KINDS)),
                PaymentEventRow.created_at >= start,
                PaymentEventRow.created_at < end,
                ~cast(Payment.flags, String).like('%"test"%'),
            )
            .order_by(PaymentEventRow.created_at, PaymentEventRow.id)
        ).all()
        lines = []
        for event, payment in rows:
            kind = _KINDS[event.kind]
            amount = Money.from_minor(event.amount_minor or payment.amount_minor, payment.currency)
            lines.append(
                Line(
                    event.created_at,
                    kind,
                    payment.order_ref,
                    event.id_trans,
                    amount,
                    fee(plan, kind, amount.amount),
                )
            )
        return Statement(shop.slug, shop.name, month, plan, lines)


def as_csv(s: Statement) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["date", "kind", "order_ref", "id_trans", "amount", "currency", "estimated_fee"])
    for line in s.lines:
        writer.writerow(
            [
                line.at.isoformat(),
                line.kind,
                line.order_ref,
                line.id_trans,
                str(line.amount),
                line.amount.currency,
                line.fee,
            ]
        )
    if s.plan.monthly:
        writer.writerow(
            [s.month.isoformat(), "subscription", f"plan {s.plan.name}", "", "", "EUR", s.plan.monthly]
        )
    return out.getvalue()


def as_pdf(s: Statement, labels: dict[str, str]) -> bytes:
    """The statement as a PDF; ``labels`` are the headings in the reader's language."""
    lines = [
        f"{labels['title']} {s.month.strftime('%Y-%m')} - {s.shop_name or s.shop}",
        f"{labels['plan']}: {s.plan.name}",
        "",
        f"{'date':<17}{'kind':<9}{'order':<16}{'transaction':<14}{'amount':>12} {'fee':>8}",
    ]
    for line in s.lines:
        lines.append(
            f"{line.at.strftime('%Y-%m-%d %H:%M'):<17}{line.kind:<9}{line.order_ref[:15]:<16}"
            f"{line.id_trans[:13]:<14}{line.amount!s:>8} {line.amount.currency} {line.fee:>8}"
        )
    lines.append("")
    for currency, sums in s.totals().items():
        lines.append(
            f"{labels['totals']} {currency}: {labels['payments']} {sums['payment']}  {labels['refusals']} "
            f"{sums['refusal']}  {labels['refunds']} {sums['refund']}  {labels['fees']} {sums['fees']}"
        )
    lines.append(labels["estimate"])
    return text_pdf(lines, title=lines[0])
