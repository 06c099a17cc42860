"""Orders the hub keeps itself: payment links, the payment form (later the cart)."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from bluepaid_plugins.db import Database
from bluepaid_plugins.domain import Customer, LineItem, Order, OrderStatus, Schedule
from bluepaid_plugins.errors import Problem, ValidationError
from bluepaid_plugins.money import Money
from bluepaid_plugins.protocol import SubscriptionRequest
from bluepaid_plugins.protocol.fields import email_address
from bluepaid_plugins.protocol.fields import language as language_rule
from hub.models import LinkOrder, Shop


class HubOrderStore:
    """The :class:`~bluepaid_plugins.connector.OrderStore` of one shop, in the hub's
    database: the orders of connectors that keep none of their own."""

    def __init__(self, db: Database, shop_id: int, clock: Callable[[], datetime]) -> None:
        self.db = db
        self.shop_id = shop_id
        self.clock = clock

    def get(self, ref: str) -> Order | None:
        with self.db.transaction() as session:
            row = session.scalar(
                select(LinkOrder).where(LinkOrder.shop_id == self.shop_id, LinkOrder.ref == ref)
            )
            if row is None:
                return None
            return order_of(row)

    def set_status(self, ref: str, status: OrderStatus, note: str) -> bool:
        with self.db.transaction() as session:
            row = session.scalar(
                select(LinkOrder)
                .where(LinkOrder.shop_id == self.shop_id, LinkOrder.ref == ref)
                .with_for_update()
            )
            if row is None or (row.status == status.value and note in row.history):
                return False
            row.status = status.value
            # Idempotent: applying the same event twice writes its note once.
            if note not in row.history:
                row.history = [*row.history, note]
            return True


def order_of(row: LinkOrder) -> Order:
    """The :class:`Order` a stored row describes."""
    buyer = row.buyer or {}
    return Order(
        ref=row.ref,
        total=row.amount,
        status=OrderStatus(row.status),
        customer=Customer(
            email=row.email,
            first_name=str(buyer.get("first_name", "")),
            last_name=str(buyer.get("last_name", "")),
            country=str(buyer.get("country", "")),
        ),
        items=tuple(
            LineItem(str(name), int(qty), Decimal(str(price))) for name, qty, price in row.lines or ()
        ),
        description=row.description,
        language=row.language,
        schedule=schedule_from_json(row.schedule, row.currency),
    )


def create_link_order(
    db: Database,
    shop: Shop,
    amount: Money,
    *,
    now: datetime,
    description: str = "",
    email: str = "",
    language: str = "",
    ref: str = "",
    schedule: Schedule | None = None,
    customer: Customer | None = None,
    details: Mapping[str, str] | None = None,
    lines: Sequence[LineItem] = (),
    prefix: str = "L",
    client: str = "",
) -> LinkOrder:
    """Store a new payment-link order; a ref (``prefix`` and 10 hex digits) is
    generated when none is given.

    ``customer`` gives the buyer's names and country (its e-mail, when ``email``
    is empty); ``details`` what else the buyer typed, kept for the merchant;
    ``lines`` the order's lines (informative); ``client`` the digest of the
    address the order was sent from (see :mod:`hub.desk`).

    With ``schedule`` the link starts a subscription of ``amount`` per debit;
    the schedule is checked against the protocol's ``ABOv2`` rules here, so a
    bad one is refused now rather than when the buyer clicks.
    """
    problems: list[Problem] = []
    email = email or (customer.email if customer else "")
    buyer = _buyer(customer, details, problems)
    if len(description) > 255:
        problems.append(Problem("description", "at most 255 characters"))
    if ref and (len(ref) > 64 or not ref.isprintable() or "/" in ref):
        problems.append(Problem("ref", "at most 64 printable characters, no '/'"))
    if amount.minor <= 0:
        problems.append(Problem("amount", "must be more than zero"))
    for field, rule, value in (("language", language_rule, language), ("email", email_address, email)):
        found = rule(value) if value else None
        if found:
            problems.append(Problem(field, found))
    if schedule is not None and amount.minor > 0:
        problems += _schedule_problems(shop, amount, schedule)
    if problems:
        raise ValidationError(problems)
    with db.transaction() as session:
        ref = ref or f"{prefix}{secrets.token_hex(5).upper()}"
        exists = session.scalar(
            select(LinkOrder.id).where(LinkOrder.shop_id == shop.id, LinkOrder.ref == ref)
        )
        if exists:
            raise ValidationError(Problem("ref", f"order {ref!r} already exists in shop {shop.slug!r}"))
        row = LinkOrder(
            shop_id=shop.id,
            ref=ref,
            amount_minor=amount.minor,
            currency=amount.currency,
            description=description,
            email=email,
            language=language,
            status=OrderStatus.OPEN.value,
            history=[],
            client=client or None,
            schedule=schedule_to_json(schedule),
            buyer=buyer,
            lines=[[line.name, line.quantity, str(line.unit_price)] for line in lines] or None,
            created_at=now,
        )
        session.add(row)
    return row


def _buyer(
    customer: Customer | None, details: Mapping[str, str] | None, problems: list[Problem]
) -> dict[str, str] | None:
    """What is stored of the buyer beyond the e-mail; every text at most 255 characters."""
    known = {
        "first_name": customer.first_name if customer else "",
        "last_name": customer.last_name if customer else "",
        "country": customer.country if customer else "",
        **(details or {}),
    }
    buyer = {name: value for name, value in known.items() if value}
    problems += [Problem(name, "at most 255 characters") for name, value in buyer.items() if len(value) > 255]
    if buyer.get("country") and not _COUNTRY.fullmatch(buyer["country"]):
        problems.append(Problem("country", "an ISO 3166 alpha-3 code"))
    return buyer or None


_COUNTRY = re.compile(r"[A-Z]{3}")
_EVERY = re.compile(r"^([1-9][0-9]?)([MSJ])$")


def parse_schedule(
    currency: str, occurrences: int, every: str, initial: str, tolerance_days: int, tolerance_max: int
) -> Schedule:
    """A schedule from the words a merchant types: ``every`` is a count and M (months),
    S (weeks) or J (days), like ``1M``; ``initial`` an amount or empty."""
    match = _EVERY.match(every.strip().upper())
    if not match:
        raise ValidationError(
            Problem("every", f"{every!r}: a count and M (months), S (weeks) or J (days), like 1M")
        )
    return Schedule(
        occurrences=occurrences,
        period_count=int(match.group(1)),
        period_type=match.group(2),
        initial=Money.parse(initial, currency, field="initial") if initial else None,
        tolerance_days=tolerance_days,
        tolerance_max=tolerance_max,
    )


def schedule_to_json(schedule: Schedule | None) -> dict[str, Any] | None:
    if schedule is None:
        return None
    return {
        "occurrences": schedule.occurrences,
        "period_count": schedule.period_count,
        "period_type": schedule.period_type,
        "initial_minor": schedule.initial.minor if schedule.initial else None,
        "tolerance_days": schedule.tolerance_days,
        "tolerance_max": schedule.tolerance_max,
    }


def schedule_from_json(data: dict[str, Any] | None, currency: str) -> Schedule | None:
    if data is None:
        return None
    initial = data.get("initial_minor")
    return Schedule(
        occurrences=int(data["occurrences"]),
        period_count=int(data["period_count"]),
        period_type=str(data["period_type"]),
        initial=Money.from_minor(int(initial), currency) if initial is not None else None,
        tolerance_days=int(data["tolerance_days"]),
        tolerance_max=int(data["tolerance_max"]),
    )


def subscription_request(schedule: Schedule, amount: Money, **common: Any) -> SubscriptionRequest:
    """The ``ABOv2`` request of ``schedule``, ``amount`` a debit; ``common`` the other variables."""
    return SubscriptionRequest(
        amount=amount,
        occurrences=schedule.occurrences,
        period_count=schedule.period_count,
        period_type=schedule.period_type,
        initial_amount=schedule.initial,
        tolerance_days=schedule.tolerance_days,
        tolerance_max=schedule.tolerance_max,
        **common,
    )


def _schedule_problems(shop: Shop, amount: Money, schedule: Schedule) -> list[Problem]:
    request = subscription_request(schedule, amount, id_boutique=shop.id_boutique, id_client="check")
    try:
        request.fields()
    except ValidationError as exc:
        return exc.problems
    return []
