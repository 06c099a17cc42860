"""Stock held at checkout: taken off when the buyer goes to pay, sold or given back
when the payment ends, never sold twice.

Taking stock is one conditional update (``stock = stock - n WHERE stock >= n``):
the database serialises two buyers of the last unit (PostgreSQL re-reads the
row the first one changed; SQLite's writers queue), so only one gets it.
A hold moves from ``held`` once, by a conditional update too, so two pages
settling the same hold at once give its stock back once.

Holds are settled by :func:`settle` whenever the cart's pages read stock:
a hold whose order was paid is sold; one whose order was cancelled, or that
outlived its time (an abandoned payment page), is given back. For a week
after, a payment of such an order still takes the stock again if there is some
left, else the merchant is told the order is oversold (in the log); the hold's
time (the cart's ``hold_minutes`` setting) is set far beyond the platform's page
life, so this is rare.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bluepaid_plugins.db import Database
from bluepaid_plugins.domain import Order, OrderStatus
from bluepaid_plugins.errors import Problem, ValidationError
from cart.models import Hold, Product

log = logging.getLogger(__name__)

HELD, SOLD, RELEASED, EXPIRED = "held", "sold", "released", "expired"
#: How long an order whose hold expired is still watched for a late payment.
LATE_WINDOW = timedelta(days=7)
#: Order statuses after which the goods are the buyer's: the hold is sold.
_SOLD_STATUSES = {OrderStatus.PAID, OrderStatus.PARTIALLY_REFUNDED, OrderStatus.REFUNDED}
#: Order statuses after which the order will never be paid: the hold is given back.
_DEAD_STATUSES = {OrderStatus.CANCELLED, OrderStatus.EXPIRED}


class OutOfStock(ValidationError):
    """Not enough stock for a line of the basket; ``problems`` are named ``product <id>``."""

    code = "out_of_stock"


def _take(session: Session, shop: str, product_id: int, quantity: int) -> bool:
    """Take ``quantity`` off the product's counted stock; False when there is not that much."""
    result = session.execute(
        update(Product)
        .where(
            Product.shop == shop,
            Product.id == product_id,
            Product.stock.is_not(None),
            Product.stock >= quantity,
        )
        .values(stock=Product.stock - quantity)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def reserve(
    db: Database, shop: str, wanted: Mapping[int, int], *, now: datetime, hold_for: timedelta
) -> list[int]:
    """Hold ``wanted`` (product id: quantity) for the shop's next order; the hold ids.

    Products whose stock is not counted need no hold. All or nothing: raises
    :class:`OutOfStock` naming every product short of stock (or gone off sale),
    and then holds nothing.
    """
    problems: list[Problem] = []
    holds: list[Hold] = []
    with db.transaction() as session:
        for product_id, quantity in sorted(wanted.items()):
            found = session.scalar(
                select(Product).where(
                    Product.shop == shop, Product.id == product_id, Product.active.is_(True)
                )
            )
            if found is None:
                problems.append(Problem(f"product {product_id}", "no longer for sale"))
                continue
            if found.stock is None:
                continue
            if not _take(session, shop, product_id, quantity):
                problems.append(Problem(f"product {product_id}", f"{quantity} wanted, too few left"))
                continue
            holds.append(
                Hold(
                    shop=shop, product_id=product_id, quantity=quantity, state=HELD, expires_at=now + hold_for
                )
            )
        if problems:
            # Leaves the transaction by an error: every stock taken above is put back.
            raise OutOfStock(problems, "not enough stock")
        session.add_all(holds)
        session.flush()
        return [hold.id for hold in holds]


def attach(db: Database, shop: str, hold_ids: list[int], order_ref: str) -> None:
    """Tie the holds to the order they were taken for."""
    if not hold_ids:
        return
    with db.transaction() as session:
        session.execute(
            update(Hold).where(Hold.shop == shop, Hold.id.in_(hold_ids)).values(order_ref=order_ref)
        )


def release(db: Database, shop: str, hold_ids: list[int]) -> None:
    """Give the holds' stock back (those still held), e.g. when the order could not be stored."""
    with db.transaction() as session:
        for hold in session.scalars(select(Hold).where(Hold.shop == shop, Hold.id.in_(hold_ids))):
            _end(session, hold, RELEASED)


def _end(session: Session, hold: Hold, state: str, *, since: str = HELD) -> bool:
    """Move ``hold`` from ``since`` to ``state`` if nobody did first; give its stock back
    when a held hold is released or expires."""
    moved = session.execute(
        update(Hold).where(Hold.id == hold.id, Hold.state == since).values(state=state)
    ).rowcount  # type: ignore[attr-defined]
    if moved and since == HELD and state in (RELEASED, EXPIRED):
        session.execute(
            update(Product).where(Product.id == hold.product_id).values(stock=Product.stock + hold.quantity)
        )
    return bool(moved)


def settle(db: Database, shop: str, order_of: Callable[[str], Order | None], *, now: datetime) -> list[str]:
    """Sell or give back the shop's holds whose payment ended (see the module's text).

    ``order_of(ref)`` reads an order's status (the order desk's). Returns the refs of
    orders paid after their hold expired and found short of stock: oversold.
    """
    with db.transaction() as session:
        watched = list(
            session.scalars(
                select(Hold).where(
                    Hold.shop == shop,
                    (Hold.state == HELD) | ((Hold.state == EXPIRED) & (Hold.expires_at > now - LATE_WINDOW)),
                )
            )
        )
    statuses: dict[str, OrderStatus | None] = {}
    for ref in {hold.order_ref for hold in watched if hold.order_ref}:
        order = order_of(ref)
        statuses[ref] = None if order is None else order.status
    oversold: set[str] = set()
    with db.transaction() as session:
        for hold in watched:
            status = statuses.get(hold.order_ref)
            dead = status in _DEAD_STATUSES or (hold.order_ref != "" and status is None)
            if hold.state == EXPIRED:
                if status in _SOLD_STATUSES and _end(session, hold, SOLD, since=EXPIRED):
                    # Paid after its hold expired: the stock is taken again, if any is left.
                    if not _take(session, shop, hold.product_id, hold.quantity):
                        log.warning(
                            "cart of shop %s: order %s paid after its hold expired: oversold",
                            shop,
                            hold.order_ref,
                        )
                        oversold.add(hold.order_ref)
                elif dead:
                    _end(session, hold, RELEASED, since=EXPIRED)
            elif status in _SOLD_STATUSES:
                _end(session, hold, SOLD)
            elif dead:
                _end(session, hold, RELEASED)
            elif hold.expires_at <= now:
                _end(session, hold, EXPIRED)
    return sorted(oversold)
