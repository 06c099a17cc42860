"""Orders the hub keeps itself: payment links (and later the cart and the form)."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select

from bluepaid_plugins.db import Database
from bluepaid_plugins.domain import Customer, Order, OrderStatus
from bluepaid_plugins.errors import Problem, ValidationError
from bluepaid_plugins.money import Money
from bluepaid_plugins.protocol import LANGUAGES
from hub.models import LinkOrder, Shop


class LinkOrderStore:
    """The :class:`~bluepaid_plugins.connector.OrderStore` of one shop, in the hub's database."""

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
            return Order(
                ref=row.ref,
                total=row.amount,
                status=OrderStatus(row.status),
                customer=Customer(email=row.email),
                description=row.description,
                language=row.language,
            )

    def set_status(self, ref: str, status: OrderStatus, note: str) -> None:
        with self.db.transaction() as session:
            row = session.scalar(
                select(LinkOrder)
                .where(LinkOrder.shop_id == self.shop_id, LinkOrder.ref == ref)
                .with_for_update()
            )
            if row is None:
                return
            row.status = status.value
            # Idempotent: applying the same event twice writes its note once.
            if note not in row.history:
                row.history = [*row.history, note]


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
) -> LinkOrder:
    """Store a new payment-link order; a ref is generated when none is given."""
    problems = []
    if len(description) > 255:
        problems.append(Problem("description", "at most 255 characters"))
    if ref and (len(ref) > 64 or not ref.isprintable() or "/" in ref):
        problems.append(Problem("ref", "at most 64 printable characters, no '/'"))
    if amount.minor <= 0:
        problems.append(Problem("amount", "must be more than zero"))
    if language and language not in LANGUAGES:
        problems.append(Problem("language", f"one of {' '.join(LANGUAGES)} (upper case)"))
    if email and (len(email) > 128 or email.count("@") != 1 or not email.isprintable() or " " in email):
        problems.append(Problem("email", "an e-mail address of at most 128 characters"))
    if problems:
        raise ValidationError(problems)
    with db.transaction() as session:
        ref = ref or f"L{secrets.token_hex(5).upper()}"
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
            created_at=now,
        )
        session.add(row)
    return row
