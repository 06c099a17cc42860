"""The dashboard: today's and the month's totals, 30 days drawn as an SVG chart on
the server (no script), and the alerts a merchant must act on."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from xml.sax.saxutils import escape

from babel.dates import format_skeleton
from sqlalchemy import func, select

from bluepaid_plugins.money import CURRENCIES, Money
from hub.context import Hub
from hub.models import PAID_STATES, OutboxTask, Payment, PaymentState, Shop, TaskState

CHART_DAYS = 30
#: The currency of a dashboard with nothing to tell it another: the platform's own (French, euros).
FALLBACK_CURRENCY = "EUR"


@dataclass
class Totals:
    """Accepted and refused amounts by currency (minor units), and counts."""

    accepted: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    refused: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    count: int = 0

    def money(self, which: str, currency: str) -> list[Money]:
        """The ``which`` ("accepted" or "refused") total, one amount per currency present,
        sorted by code; zero in ``currency`` when there is none: a total is always money."""
        amounts = self.accepted if which == "accepted" else self.refused
        found = [Money.from_minor(v, c) for c, v in sorted(amounts.items())]
        return found or [Money.from_minor(0, currency)]


@dataclass(frozen=True)
class Day:
    day: date
    accepted: int
    refused: int
    test_accepted: int


@dataclass(frozen=True)
class Summary:
    today: Totals
    month: Totals
    test_month: Totals
    currency: str
    days: list[Day]


def summarize(hub: Hub, shop_ids: Collection[int]) -> Summary:
    """Totals of live payments today and this month (UTC), the month's test payments
    apart, and the last :data:`CHART_DAYS` days in the most used currency.

    The summary's currency is the most used among those days' accepted and refused
    payments; with none, the shops' own (see :func:`_home_currency`)."""
    now = hub.clock()
    today = now.date()
    start = datetime.combine(min(today.replace(day=1), today - timedelta(days=CHART_DAYS - 1)), time(), UTC)
    month_start = datetime.combine(today.replace(day=1), time(), UTC)
    day_start = datetime.combine(today, time(), UTC)
    with hub.db.transaction() as session:
        rows = session.execute(
            select(
                Payment.created_at, Payment.amount_minor, Payment.currency, Payment.state, Payment.flags
            ).where(Payment.shop_id.in_(list(shop_ids)), Payment.created_at >= start)
        ).all()
    totals_today, totals_month, test_month = Totals(), Totals(), Totals()
    per_day: dict[tuple[date, str], list[int]] = defaultdict(lambda: [0, 0, 0])
    usage: dict[str, int] = defaultdict(int)
    for created, amount, currency, state, flags in rows:
        accepted = state in PAID_STATES
        refused = state == PaymentState.REFUSED.value
        if not (accepted or refused):
            continue
        test = "test" in (flags or [])
        usage[currency] += 1
        bucket = per_day[(created.date(), currency)]
        if test:
            bucket[2] += amount if accepted else 0
        else:
            bucket[0 if accepted else 1] += amount
        targets = [test_month] if test else [totals_month, *([totals_today] if created >= day_start else [])]
        for totals in targets if created >= month_start else []:
            (totals.accepted if accepted else totals.refused)[currency] += amount
            totals.count += 1
    currency = max(usage, key=lambda c: usage[c]) if usage else _home_currency(hub, shop_ids)
    days = []
    for back in range(CHART_DAYS - 1, -1, -1):
        d = today - timedelta(days=back)
        a, r, t = per_day.get((d, currency), [0, 0, 0])
        days.append(Day(d, a, r, t))
    return Summary(totals_today, totals_month, test_month, currency, days)


def _home_currency(hub: Hub, shop_ids: Collection[int]) -> str:
    """The currency the shops work in, for totals with no payment to show one: the one
    their connector settings name (the built-in cart and payment form keep it there;
    the first by code if they name several), else that of their latest payment, else
    :data:`FALLBACK_CURRENCY`."""
    ids = list(shop_ids)
    with hub.db.transaction() as session:
        settings = session.scalars(select(Shop.connector_settings).where(Shop.id.in_(ids))).all()
        named = sorted({str(s.get("currency", "")) for s in settings} & CURRENCIES)
        if named:
            return named[0]
        latest = session.scalar(
            select(Payment.currency)
            .where(Payment.shop_id.in_(ids))
            .order_by(Payment.created_at.desc(), Payment.id.desc())
            .limit(1)
        )
    return latest or FALLBACK_CURRENCY


def day_label(day: date, language: str) -> str:
    """A chart's day, short, ``language``'s way: ``Dec 7`` in English, ``7 déc.`` in French.

    The CLDR skeleton ``MMMd`` (abbreviated month, day) lets each locale order and
    punctuate it (Babel's ``format_skeleton``, https://babel.pocoo.org/en/latest/api/dates.html).
    """
    return str(format_skeleton("MMMd", day, locale=language))


def chart_svg(
    days: list[Day],
    currency: str,
    labels: dict[str, str],
    money: Callable[[Money], str],
    day: Callable[[date], str],
) -> str:
    """An SVG bar chart: per day, accepted (green) and refused (red) live amounts, test
    payments in grey. ``labels`` names the series and the chart, ``money`` writes an
    amount and ``day`` a date, in the page's language. Self-contained markup: no
    script, no external resource."""
    width, height, pad = 640, 220, 30
    peak = max((max(d.accepted, d.refused, d.test_accepted) for d in days), default=0)
    # An empty chart still needs a scale; its label says the true peak, zero.
    top = max(peak, 1)
    slot = (width - 2 * pad) / max(len(days), 1)
    bar = max(slot / 3 - 1, 1)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
        f'class="chart" aria-label="{escape(labels["title"])}">',
        f"<title>{escape(labels['title'])}</title>",
        f'<line x1="{pad}" y1="{height - pad}" x2="{width - pad}" y2="{height - pad}" stroke="#889"/>',
    ]
    for i, d in enumerate(days):
        x = pad + i * slot
        for j, (value, color) in enumerate(
            ((d.accepted, "#2a7a2a"), (d.refused, "#a33"), (d.test_accepted, "#99a"))
        ):
            h = (height - 2 * pad) * value / top
            series = labels[("accepted", "refused", "test")[j]]
            tip = f"{escape(day(d.day))} {escape(series)}: {escape(money(Money.from_minor(value, currency)))}"
            parts.append(
                f'<rect x="{x + j * bar:.1f}" y="{height - pad - h:.1f}" width="{bar:.1f}" height="{h:.1f}" '
                f'fill="{color}"><title>{tip}</title></rect>'
            )
        if i % 7 == 0:
            parts.append(f'<text x="{x:.1f}" y="{height - 10}" font-size="10">{escape(day(d.day))}</text>')
    top_label = money(Money.from_minor(peak, currency))
    parts.append(f'<text x="{pad}" y="{pad - 8}" font-size="10">{escape(top_label)}</text>')
    parts.append("</svg>")
    return "".join(parts)


@dataclass(frozen=True)
class Alert:
    kind: str  # amount_mismatch, dead_task, two_payments, charged_twice, test_on_live
    shop: str
    payment: str
    detail: str


ALERT_WINDOW = timedelta(days=30)
#: The payment flags (set by the pipeline) that raise an alert, and which.
_FLAG_ALERTS = {
    "amount_mismatch": "amount_mismatch",
    "charged_twice": "charged_twice",
    "debit_after_end": "charged_twice",
    "double_payment": "two_payments",
}


def alerts(hub: Hub, shop_ids: Collection[int]) -> list[Alert]:
    """What needs the merchant in the last :data:`ALERT_WINDOW`: an amount that did
    not match, a dead task, two paid payments for one order, a payment charged
    twice, a test payment on a shop in production."""
    since = hub.clock() - ALERT_WINDOW
    ids = list(shop_ids)
    found: list[Alert] = []
    with hub.db.transaction() as session:
        payments = session.execute(
            select(Payment, Shop)
            .join(Shop, Payment.shop_id == Shop.id)
            .where(Payment.shop_id.in_(ids), Payment.updated_at >= since)
            .order_by(Payment.id)
        ).all()
        for payment, shop in payments:
            kinds = [_FLAG_ALERTS[flag] for flag in payment.flags if flag in _FLAG_ALERTS]
            if "test" in payment.flags and not shop.test_mode:
                kinds.append("test_on_live")
            found += [
                Alert(kind, shop.slug, payment.public_id, payment.order_ref) for kind in dict.fromkeys(kinds)
            ]
        doubles = session.execute(
            select(Shop.slug, Payment.order_ref, func.count())
            .join(Shop, Payment.shop_id == Shop.id)
            .where(Payment.shop_id.in_(ids), Payment.state.in_(PAID_STATES), Payment.created_at >= since)
            .group_by(Shop.slug, Payment.order_ref)
            .having(func.count() > 1)
        ).all()
        flagged = {(a.shop, a.detail) for a in found if a.kind == "two_payments"}
        found += [
            Alert("two_payments", slug, "", ref)
            for slug, ref, _count in doubles
            if (slug, ref) not in flagged
        ]
        dead = session.execute(
            select(OutboxTask, Shop.slug, Payment.public_id)
            .join(Shop, OutboxTask.shop_id == Shop.id)
            .outerjoin(Payment, OutboxTask.payment_id == Payment.id)
            .where(OutboxTask.shop_id.in_(ids), OutboxTask.state == TaskState.DEAD.value)
        ).all()
        found += [
            Alert("dead_task", slug, public_id or "", f"{task.kind}: {task.last_error}")
            for task, slug, public_id in dead
        ]
    return found
