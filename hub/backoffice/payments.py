"""The back office's payments: the filtered list, its CSV, one payment's timeline,
and the actions on it (retry a task, re-check a message), each recorded with who
did it.

Every function takes the shops the caller may see; a payment of another shop is
NotFound, exactly like one that does not exist.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal, InvalidOperation
from typing import Any

from sqlalchemy import ColumnElement, Select, String, case, cast, func, or_, select
from sqlalchemy.orm import Session

from bluepaid_plugins.errors import NotFound
from bluepaid_plugins.money import CURRENCIES, Money, currency_decimals
from hub import inbox
from hub.context import Hub
from hub.models import (
    AuditEntry,
    InboxMessage,
    LinkOrder,
    OutboxTask,
    Payment,
    PaymentEventRow,
    PaymentState,
    Shop,
    TaskState,
    Verdict,
)
from hub.redaction import redact

PAGE_SIZE = 50
#: A JSON list of flags holds ``"test"`` for a payment made with a test card.
_TEST_FLAG = '%"test"%'


@dataclass(frozen=True)
class PaymentFilter:
    """The list's filters, as the page's query string gives them (all optional)."""

    state: str = ""
    test: str = ""  # "test", "live" or "" for both
    date_from: date | None = None
    date_to: date | None = None
    amount_min: Decimal | None = None
    amount_max: Decimal | None = None
    shop: str = ""
    connector: str = ""
    search: str = ""

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> PaymentFilter:
        """Read the filters; a value that cannot be read is ignored, not an error."""

        def day(name: str) -> date | None:
            try:
                return date.fromisoformat(args.get(name, ""))
            except ValueError:
                return None

        def amount(name: str) -> Decimal | None:
            try:
                value = Decimal(args.get(name, "").replace(",", "."))
            except InvalidOperation:
                return None
            return value if value.is_finite() else None

        state = args.get("state", "")
        test = args.get("test", "")
        return cls(
            state=state if state in {s.value for s in PaymentState} else "",
            test=test if test in ("test", "live") else "",
            date_from=day("from"),
            date_to=day("to"),
            amount_min=amount("min"),
            amount_max=amount("max"),
            shop=args.get("shop", "").strip(),
            connector=args.get("connector", "").strip(),
            search=args.get("q", "").strip()[:254],
        )

    def args(self) -> dict[str, str]:
        """The filters as query-string arguments (for paging and the CSV link)."""
        values = {
            "state": self.state,
            "test": self.test,
            "from": self.date_from.isoformat() if self.date_from else "",
            "to": self.date_to.isoformat() if self.date_to else "",
            "min": str(self.amount_min) if self.amount_min is not None else "",
            "max": str(self.amount_max) if self.amount_max is not None else "",
            "shop": self.shop,
            "connector": self.connector,
            "q": self.search,
        }
        return {name: value for name, value in values.items() if value}


def _minor_bound(value: Decimal, rounding: str) -> ColumnElement[int]:
    """``value`` in minor units of each payment's own currency, in SQL: a filter of
    1000 is 100000 cents of EUR but 1000 yen. A bound between two minor units
    rounds inwards (``rounding``: up for a minimum, down for a maximum)."""
    by_currency = {
        currency: int(value.scaleb(currency_decimals(currency)).to_integral_value(rounding))
        for currency in sorted(CURRENCIES)
    }
    # Payments are only ever made in CURRENCIES: the fallback never matches one.
    return case(by_currency, value=Payment.currency, else_=by_currency["EUR"])


def _query(shop_ids: Collection[int], f: PaymentFilter) -> Select[Payment, Shop]:
    query = (
        select(Payment, Shop)
        .join(Shop, Payment.shop_id == Shop.id)
        .where(Payment.shop_id.in_(list(shop_ids)))
    )
    if f.state:
        query = query.where(Payment.state == f.state)
    if f.test == "test":
        query = query.where(cast(Payment.flags, String).like(_TEST_FLAG))
    elif f.test == "live":
        query = query.where(~cast(Payment.flags, String).like(_TEST_FLAG))
    if f.date_from:
        query = query.where(Payment.created_at >= datetime.combine(f.date_from, time(), UTC))
    if f.date_to:
        query = query.where(Payment.created_at < datetime.combine(f.date_to + timedelta(days=1), time(), UTC))
    if f.amount_min is not None:
        query = query.where(Payment.amount_minor >= _minor_bound(f.amount_min, ROUND_CEILING))
    if f.amount_max is not None:
        query = query.where(Payment.amount_minor <= _minor_bound(f.amount_max, ROUND_FLOOR))
    if f.shop:
        query = query.where(Shop.slug == f.shop)
    if f.connector:
        query = query.where(Shop.connector == f.connector)
    if f.search:
        needle = f"%{f.search.lower()}%"
        kept_email = (
            select(LinkOrder.id)
            .where(
                LinkOrder.shop_id == Payment.shop_id,
                LinkOrder.ref == Payment.order_ref,
                func.lower(LinkOrder.email).like(needle),
            )
            .exists()
        )
        matches = [
            Payment.id_trans == f.search,
            Payment.public_id == f.search,
            func.lower(Payment.order_ref).like(needle),
            kept_email,
        ]
        if "@" in f.search:
            # The e-mail sent to the platform (``email_client``), for any shop's orders.
            matches.append(func.lower(cast(Payment.request_fields, String)).like(needle))
        query = query.where(or_(*matches))
    return query


@dataclass(frozen=True)
class Row:
    """One payment of the list."""

    id: str
    shop: str
    shop_name: str
    order_ref: str
    amount: Money
    state: str
    test: bool
    flags: tuple[str, ...]
    id_trans: str
    email: str
    created_at: datetime


def _row(payment: Payment, shop: Shop) -> Row:
    fields = payment.request_fields or {}
    return Row(
        id=payment.public_id,
        shop=shop.slug,
        shop_name=shop.name,
        order_ref=payment.order_ref,
        amount=payment.amount,
        state=payment.state,
        test="test" in payment.flags,
        flags=tuple(payment.flags),
        id_trans=payment.id_trans,
        email=str(fields.get("email_client") or fields.get("EMAIL_CLIENT") or ""),
        created_at=payment.created_at,
    )


@dataclass(frozen=True)
class Page:
    rows: list[Row]
    number: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // PAGE_SIZE))


def list_page(hub: Hub, shop_ids: Collection[int], f: PaymentFilter, number: int = 1) -> Page:
    """One page of the filtered payments, newest first."""
    query = _query(shop_ids, f)
    with hub.db.transaction() as session:
        total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
        number = min(max(number, 1), max(1, -(-total // PAGE_SIZE)))
        found = session.execute(
            query.order_by(Payment.id.desc()).offset((number - 1) * PAGE_SIZE).limit(PAGE_SIZE)
        ).all()
        return Page([_row(p, s) for p, s in found], number, total)


CSV_COLUMNS = (
    "id",
    "shop",
    "order_ref",
    "amount",
    "currency",
    "state",
    "test",
    "flags",
    "id_trans",
    "email",
    "created_at",
)


def csv_lines(hub: Hub, shop_ids: Collection[int], f: PaymentFilter) -> Iterator[str]:
    """The filtered payments as CSV, a line at a time (a long export streams), read
    in batches so a large list never sits in memory."""
    out = io.StringIO()
    writer = csv.writer(out)

    def line(values: list[Any]) -> str:
        out.seek(0)
        out.truncate()
        # A cell a spreadsheet would run as a formula is quoted as text.
        writer.writerow([f"'{v}" if isinstance(v, str) and v[:1] in "=+-@" else v for v in values])
        return out.getvalue()

    yield line(list(CSV_COLUMNS))
    last: int | None = None
    while True:
        query = _query(shop_ids, f).order_by(Payment.id.desc()).limit(500)
        if last is not None:
            query = query.where(Payment.id < last)
        with hub.db.transaction() as session:
            batch = session.execute(query).all()
            rows = [(p.id, _row(p, s)) for p, s in batch]
        if not rows:
            return
        for _pk, r in rows:
            yield line(
                [
                    r.id,
                    r.shop,
                    r.order_ref,
                    str(r.amount),
                    r.amount.currency,
                    r.state,
                    "yes" if r.test else "no",
                    " ".join(r.flags),
                    r.id_trans,
                    r.email,
                    r.created_at.isoformat(),
                ]
            )
        last = rows[-1][0]


@dataclass(frozen=True)
class Entry:
    """One line of a payment's timeline."""

    at: datetime
    kind: str  # request, message, event, task, action
    title: str
    detail: str = ""
    fields: tuple[tuple[str, str], ...] = ()
    verdict: str = ""
    source: str = ""
    #: The id of a task that may be retried, or of a message that may be re-checked.
    retry_task: int | None = None
    replay_message: int | None = None


@dataclass(frozen=True)
class Detail:
    row: Row
    shop_id: int
    payment_pk: int
    timeline: list[Entry]


def _payment(session: Session, shop_ids: Collection[int], public_id: str) -> tuple[Payment, Shop]:
    found = session.execute(
        select(Payment, Shop)
        .join(Shop, Payment.shop_id == Shop.id)
        .where(Payment.public_id == public_id, Payment.shop_id.in_(list(shop_ids)))
    ).first()
    if found is None:
        raise NotFound(f"no payment {public_id!r}")
    return found[0], found[1]


def _messages(session: Session, payment: Payment) -> list[InboxMessage]:
    """The confirmations of ``payment``: those tied to it, and those of its shop
    rejected before they could be (their ``id_client`` names its order)."""
    tied = list(session.scalars(select(InboxMessage).where(InboxMessage.payment_id == payment.id)))
    loose = session.scalars(
        select(InboxMessage)
        .where(
            InboxMessage.shop_id == payment.shop_id,
            InboxMessage.payment_id.is_(None),
            InboxMessage.received_at >= payment.created_at,
        )
        .order_by(InboxMessage.id)
        .limit(200)
    )
    for message in loose:
        fields = dict(_message_fields(message))
        if fields.get("id_client") == payment.order_ref:
            tied.append(message)
    return tied


def _message_fields(message: InboxMessage) -> list[tuple[str, str]]:
    content_type = next((v for k, v in message.headers.items() if k.lower() == "content-type"), "")
    return inbox.form_fields(message.body, content_type)


def show(hub: Hub, shop_ids: Collection[int], public_id: str) -> Detail:
    """A payment and its timeline, oldest first: the request sent, every
    confirmation (raw fields, source address, verdict and reason), every state
    change, every outbox task (attempts, last error) and every action taken."""
    with hub.db.transaction() as session:
        payment, shop = _payment(session, shop_ids, public_id)
        entries: list[Entry] = []
        if payment.request_fields:
            entries.append(
                Entry(
                    payment.created_at,
                    "request",
                    "request",
                    fields=tuple(sorted((str(k), str(v)) for k, v in payment.request_fields.items())),
                )
            )
        for message in _messages(session, payment):
            verdict = message.verdict or ""
            entries.append(
                Entry(
                    message.received_at,
                    "message",
                    message.method,
                    detail=message.reason,
                    fields=tuple((k, redact(v)) for k, v in _message_fields(message)),
                    verdict=verdict,
                    source=message.remote_addr,
                    replay_message=message.id if verdict == Verdict.REJECTED.value else None,
                )
            )
        for event in session.scalars(select(PaymentEventRow).where(PaymentEventRow.payment_id == payment.id)):
            entries.append(
                Entry(
                    event.created_at,
                    "event",
                    event.kind,
                    detail=event.detail,
                    fields=(("from", event.from_state), ("to", event.to_state), ("id_trans", event.id_trans)),
                )
            )
        for task in session.scalars(select(OutboxTask).where(OutboxTask.payment_id == payment.id)):
            retryable = task.state == TaskState.DEAD.value or (
                task.state == TaskState.PENDING.value and task.attempts > 0
            )
            entries.append(
                Entry(
                    task.created_at,
                    "task",
                    task.kind,
                    detail=task.last_error,
                    fields=(
                        ("state", task.state),
                        ("attempts", str(task.attempts)),
                        ("next_attempt_at", task.next_attempt_at.isoformat()),
                    ),
                    retry_task=task.id if retryable else None,
                )
            )
        for action in session.scalars(select(AuditEntry).where(AuditEntry.payment_id == payment.id)):
            entries.append(
                Entry(action.at, "action", action.action, detail=action.detail, source=action.actor)
            )
        entries.sort(key=lambda e: e.at)
        return Detail(_row(payment, shop), shop.id, payment.id, entries)


def shop_of_payment(hub: Hub, shop_ids: Collection[int], public_id: str) -> int:
    with hub.db.transaction() as session:
        return _payment(session, shop_ids, public_id)[1].id


def retry_task(hub: Hub, shop_ids: Collection[int], public_id: str, task_id: int, actor: str) -> None:
    """Make a failed or dead task of the payment due now, with a fresh retry window;
    recorded. NotFound for a task of another payment, or one that is not failing."""
    now = hub.clock()
    with hub.db.transaction() as session:
        payment, shop = _payment(session, shop_ids, public_id)
        task = session.get(OutboxTask, task_id, with_for_update=True)
        failing = task is not None and (
            task.state == TaskState.DEAD.value
            or (task.state == TaskState.PENDING.value and task.attempts > 0)
        )
        if task is None or task.payment_id != payment.id or not failing:
            raise NotFound(f"no failed task {task_id} for payment {public_id}")
        task.state = TaskState.PENDING.value
        task.next_attempt_at = now
        task.retry_from = now
        session.add(
            AuditEntry(
                shop_id=shop.id,
                payment_id=payment.id,
                actor=actor,
                action="retry_task",
                detail=f"task {task.id} ({task.kind})",
                at=now,
            )
        )


def replay_message(hub: Hub, shop_ids: Collection[int], public_id: str, message_id: int, actor: str) -> str:
    """Check a rejected confirmation of the payment again (after a settings fix): a
    copy is stored and processed as if it had just arrived; the original keeps its
    verdict. Returns the new verdict; recorded."""
    with hub.db.transaction() as session:
        payment, shop = _payment(session, shop_ids, public_id)
        message = session.get(InboxMessage, message_id)
        if message is None or message not in _messages(session, payment):
            raise NotFound(f"no message {message_id} for payment {public_id}")
        if message.verdict != Verdict.REJECTED.value:
            raise NotFound(f"message {message_id} was not rejected")
        copy = InboxMessage(
            received_at=hub.clock(),
            method=message.method,
            path=message.path,
            headers=dict(message.headers),
            body=message.body,
            remote_addr=message.remote_addr,
            shop_slug=message.shop_slug,
            url_token_digest=message.url_token_digest,
            reason="",
        )
        session.add(copy)
        session.flush()
        copy_id, shop_id, payment_pk = copy.id, shop.id, payment.id
    result = inbox.process(hub, copy_id)
    with hub.db.transaction() as session:
        session.add(
            AuditEntry(
                shop_id=shop_id,
                payment_id=payment_pk,
                actor=actor,
                action="replay_message",
                detail=f"message {message_id} checked again as {copy_id}: "
                f"{result.verdict.value} {result.reason}",
                at=hub.clock(),
            )
        )
    return result.verdict.value
