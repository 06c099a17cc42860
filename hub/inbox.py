"""Confirmations: store every request raw, then check it and apply it once.

:func:`store` commits the raw request before anything else, so nothing the
platform sent is ever lost. :func:`process` then runs the authenticity checks
of the protocol document (§3), records a verdict on the inbox row, and applies
an accepted result through the state machine, writing the outbox tasks in the
same transaction. Processing an inbox row twice is harmless: a row that has a
verdict is left alone, and a payment event is unique per payment.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import parse_qsl

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bluepaid_plugins.connector import Capability
from bluepaid_plugins.domain import EventKind, PaymentEvent
from bluepaid_plugins.errors import ConfirmationError
from bluepaid_plugins.money import Money
from bluepaid_plugins.protocol import Confirmation, Etat, Mode, check_divers, parse_confirmation
from hub.context import Hub
from hub.models import (
    PAID_STATES,
    InboxMessage,
    Payment,
    PaymentEventRow,
    PaymentState,
    Shop,
    Subscription,
    Verdict,
)
from hub.states import decide
from hub.tasks import APPLY_EVENT, EVENT_HOOKS, MAIL_MERCHANT, enqueue, event_payload

log = logging.getLogger(__name__)

MAX_BODY = 16 * 1024

# Headers worth keeping for an audit; cookies and credentials are not stored.
_KEPT_HEADERS = {"content-type", "content-length", "user-agent", "x-forwarded-for", "host", "referer"}


@dataclass(frozen=True)
class Result:
    """The verdict on one confirmation request and the HTTP status to answer."""

    inbox_id: int
    verdict: Verdict
    reason: str
    status: int = 200


def store(
    hub: Hub,
    *,
    method: str,
    path: str,
    headers: Mapping[str, str],
    body: bytes,
    remote_addr: str,
    shop_slug: str,
    url_token: str,
) -> int:
    """Commit the raw request to the inbox and return its id. Nothing is checked yet."""
    with hub.db.transaction() as session:
        row = InboxMessage(
            received_at=hub.clock(),
            method=_storable(method, 16),
            path=_storable(path, 512),
            headers={k: _storable(v, 512) for k, v in headers.items() if k.lower() in _KEPT_HEADERS},
            body=body[:MAX_BODY],
            remote_addr=_storable(remote_addr, 64),
            shop_slug=_storable(shop_slug, 64),
            url_token=_storable(url_token, 128),
            reason="",
        )
        session.add(row)
        session.flush()
        return row.id


def _storable(text: str, limit: int) -> str:
    """``text`` cut to ``limit``, NUL replaced: PostgreSQL text refuses NUL, and
    anyone can put ``%00`` in a URL."""
    return text.replace("\x00", "\ufffd")[:limit]


def process(hub: Hub, inbox_id: int) -> Result:
    """Check and apply one stored request; idempotent."""
    try:
        with hub.db.transaction() as session:
            return _process(hub, session, inbox_id)
    except IntegrityError:
        # Another process applied the same confirmation between our check and our insert.
        with hub.db.transaction() as session:
            row = session.get(InboxMessage, inbox_id, with_for_update=True)
            assert row is not None
            return _finish(hub, row, Verdict.DUPLICATE, "already applied")


def process_pending(hub: Hub) -> int:
    """Process every stored request that has no verdict yet (after a crash); return how many."""
    return process_stale(hub, older_than=timedelta(0))


def process_stale(hub: Hub, older_than: timedelta) -> int:
    """Process stored requests without a verdict received at least ``older_than``
    ago; return how many. Safe while other processes handle the same rows."""
    cutoff = hub.clock() - older_than
    with hub.db.transaction() as session:
        ids = session.scalars(
            select(InboxMessage.id)
            .where(InboxMessage.processed_at.is_(None), InboxMessage.received_at <= cutoff)
            .order_by(InboxMessage.id)
        ).all()
    for inbox_id in ids:
        process(hub, inbox_id)
    if ids:
        log.info("processed %d stored confirmation(s) left without a verdict", len(ids))
    return len(ids)


def _finish(hub: Hub, row: InboxMessage, verdict: Verdict, reason: str, status: int = 200) -> Result:
    row.verdict, row.reason, row.processed_at = verdict.value, reason, hub.clock()
    return Result(row.id, verdict, reason, status)


def _process(hub: Hub, session: Session, inbox_id: int) -> Result:
    row = session.get(InboxMessage, inbox_id, with_for_update=True)
    assert row is not None
    if row.verdict is not None:
        return Result(row.id, Verdict(row.verdict), row.reason)

    def reject(reason: str, status: int = 403) -> Result:
        return _finish(hub, row, Verdict.REJECTED, reason, status)

    if row.method != "POST":
        return reject(f"method {row.method} refused: the platform confirms with POST", 405)
    shop = session.scalar(select(Shop).where(Shop.slug == row.shop_slug))
    if shop is None:
        return reject(f"unknown shop {row.shop_slug!r}", 404)
    row.shop_id = shop.id
    if not hmac.compare_digest(row.url_token.encode(), shop.confirm_token.encode()):
        return reject("url token does not match the shop's confirmation URL", 404)
    if not _ip_allowed(row.remote_addr, shop.allowed_ips):
        return reject(f"source address {row.remote_addr} is not in the shop's allowed list")
    try:
        conf = parse_confirmation(
            parse_qsl(row.body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
        )
    except (ConfirmationError, UnicodeDecodeError) as exc:
        return reject(f"malformed confirmation: {exc}"[:1000], 400)
    if conf.id_boutique != shop.id_boutique:
        return reject(f"id_boutique {conf.id_boutique!r} is not this shop's")
    payment, siblings = _payment_for(session, shop, conf)
    if payment is None:
        return reject("divers does not match any payment of this order")
    row.payment_id = payment.id
    return _apply(hub, session, row, shop, payment, siblings, conf)


def _payment_for(session: Session, shop: Shop, conf: Confirmation) -> tuple[Payment | None, list[Payment]]:
    """The payment whose ``divers`` this is, and every payment of the same order.

    All of the order's payments are locked: confirmations about one order are
    applied one after the other, so "is another payment of it already paid?"
    has one answer at a time.
    """
    candidates = list(
        session.scalars(
            select(Payment)
            .where(Payment.shop_id == shop.id, Payment.order_ref == conf.id_client)
            .order_by(Payment.id)
            .with_for_update()
        )
    )
    for candidate in candidates:
        if check_divers(
            conf.divers,
            shop.secret,
            shop.id_boutique,
            candidate.order_ref,
            candidate.amount,
            candidate.public_id,
        ):
            return candidate, candidates
    return None, candidates


def _ip_allowed(address: str, allowed: list[str]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    # A server bound to [::] sees IPv4 clients as ::ffff:a.b.c.d.
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return any(ip in ipaddress.ip_network(net, strict=False) for net in allowed)


def dedupe_key(conf: Confirmation) -> str:
    """Identity of a platform message: the same key twice is the same message."""
    parts = [
        conf.id_trans,
        conf.etat.value,
        conf.mode.value,
        str(conf.amount.minor),
        conf.amount.currency,
        str(conf.num_prochaine_presentation or ""),
    ]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def _apply(
    hub: Hub,
    session: Session,
    row: InboxMessage,
    shop: Shop,
    payment: Payment,
    siblings: list[Payment],
    conf: Confirmation,
) -> Result:
    """Apply an authentic confirmation to ``payment``; ``siblings`` are all the
    payments of its order (``payment`` included), locked by the caller."""
    now = hub.clock()
    key = dedupe_key(conf)
    seen = session.scalar(
        select(PaymentEventRow.id).where(
            PaymentEventRow.payment_id == payment.id, PaymentEventRow.dedupe_key == key
        )
    )
    if seen is not None:
        return _finish(hub, row, Verdict.DUPLICATE, f"same message as event {seen}")
    if conf.amount.currency != payment.currency:
        payment.flag("amount_mismatch")
        return _finish(
            hub,
            row,
            Verdict.AMOUNT_MISMATCH,
            f"devise {conf.amount.currency} but the payment is in {payment.currency}",
        )
    subscription = _subscription_of(session, payment) if conf.num_abo else None
    # A debit after the first one: the payment is paid, the subscription goes on.
    renewal = subscription is not None and conf.mode is not Mode.REFUND and payment.state in PAID_STATES
    expected = subscription.amount_minor if renewal and subscription else payment.amount_minor
    if conf.mode is not Mode.REFUND and conf.amount.minor != expected:
        payment.flag("amount_mismatch")
        wanted = Money.from_minor(expected, payment.currency)
        return _finish(hub, row, Verdict.AMOUNT_MISMATCH, f"montant {conf.amount} but the debit is {wanted}")
    if conf.mode is Mode.TEST and not (shop.test_mode and shop.accept_test):
        payment.flag("test_refused")
        why = (
            "a live shop: a test payment never marks a live order paid"
            if not shop.test_mode
            else ("a shop that refuses test payments")
        )
        return _finish(hub, row, Verdict.TEST_REFUSED, f"test payment on {why}")
    if subscription is not None and subscription.num_abo and subscription.num_abo != conf.num_abo:
        return _finish(hub, row, Verdict.REJECTED, f"num_abo {conf.num_abo!r} is not this payment's", 403)
    if renewal and subscription is not None:
        return _renewal(hub, session, row, shop, payment, subscription, conf)
    if conf.mode is not Mode.REFUND and conf.etat is Etat.OK and "superseded" in payment.flags:
        # The order's amount changed since this payment was started (an old tab).
        payment.flag("amount_mismatch")
        return _finish(
            hub, row, Verdict.AMOUNT_MISMATCH, "payment superseded by a newer one for the order's new amount"
        )

    state = PaymentState(payment.state)
    move = decide(state, payment.amount_minor, payment.refunded_minor, conf)
    if move.over_refund:
        payment.flag("amount_mismatch")
        return _finish(
            hub,
            row,
            Verdict.AMOUNT_MISMATCH,
            f"refund of {conf.amount} exceeds what remains of {payment.amount}",
        )
    event_row = _event_row(payment, row, key, move.kind, state, move.to_state, conf, move.stale_reason, now)
    session.add(event_row)
    session.flush()  # the unique (payment, dedupe_key) constraint speaks here
    if not move.moves:
        return _finish(hub, row, Verdict.STALE, move.stale_reason)

    if move.to_state is PaymentState.PAID and any(
        p.state in PAID_STATES for p in siblings if p is not payment
    ):
        payment.flag("double_payment")
        log.warning("order %s of shop %s is paid twice: refund one payment", payment.order_ref, shop.slug)
    if move.to_state is PaymentState.PAID:
        payment.paid_minor = payment.amount_minor
        if "order_closed" in payment.flags:
            log.warning(
                "order %s of shop %s was closed by the shop, then paid: refund it",
                payment.order_ref,
                shop.slug,
            )
    payment.state = move.to_state.value
    payment.refunded_minor = move.refunded_minor
    payment.updated_at = now
    if conf.mode is Mode.TEST:
        payment.flag("test")
    if conf.mode is not Mode.REFUND:
        payment.id_trans = conf.id_trans
    debit = None
    if subscription is not None and conf.mode is not Mode.REFUND:
        subscription.num_abo = conf.num_abo
        subscription.finished = conf.fini
        debit = 1
        if move.to_state is PaymentState.PAID:
            subscription.debits_done = 1
    event = _event(event_row, payment, move.kind, conf, debit)
    _enqueue_effects(hub, session, shop, payment, event)
    return _finish(hub, row, Verdict.ACCEPTED, f"{state.value} -> {move.to_state.value}")


def _event_row(
    payment: Payment,
    row: InboxMessage,
    key: str,
    kind: EventKind,
    from_state: PaymentState | str,
    to_state: PaymentState | str,
    conf: Confirmation,
    detail: str,
    now: datetime,
) -> PaymentEventRow:
    return PaymentEventRow(
        public_id=f"ev_{secrets.token_hex(12)}",
        payment_id=payment.id,
        inbox_id=row.id,
        dedupe_key=key,
        kind=kind.value,
        from_state=str(from_state),
        to_state=str(to_state),
        id_trans=conf.id_trans,
        amount_minor=conf.amount.minor,
        detail=detail,
        created_at=now,
    )


def _event(
    event_row: PaymentEventRow, payment: Payment, kind: EventKind, conf: Confirmation, debit: int | None
) -> PaymentEvent:
    """The event connectors and hooks get, with the payment's totals after it."""
    return PaymentEvent(
        id=event_row.public_id,
        payment_id=payment.public_id,
        kind=kind,
        order_ref=payment.order_ref,
        amount=conf.amount,
        paid_total=payment.paid,
        refunded_total=payment.refunded,
        id_trans=conf.id_trans,
        occurred_at=event_row.created_at,
        test=conf.mode is Mode.TEST,
        num_abo=conf.num_abo if debit else "",
        debit=debit,
    )


def _enqueue_effects(hub: Hub, session: Session, shop: Shop, payment: Payment, event: PaymentEvent) -> None:
    """The outbox tasks of one event, in the caller's transaction."""
    payload = event_payload(event)
    if _connector_takes(hub, shop, event):
        enqueue(session, APPLY_EVENT, payload, shop, payment, event.occurred_at)
    else:
        # The money moved on the platform; the shop must be told by hand.
        payment.flag("refund_not_applied")
        log.warning(
            "connector %s cannot take %s events: refund order %s of shop %s in the shop by hand",
            shop.connector,
            event.kind.value,
            payment.order_ref,
            shop.slug,
        )
    # One task per plugin: a failing plugin is retried alone, the others run once.
    for plugin in hub.plugins.implementers("bluepaid_payment_event"):
        enqueue(session, EVENT_HOOKS, {**payload, "plugin": plugin}, shop, payment, event.occurred_at)
    if shop.notify_email and hub.config.smtp_host:
        enqueue(session, MAIL_MERCHANT, payload, shop, payment, event.occurred_at)


def _connector_takes(hub: Hub, shop: Shop, event: PaymentEvent) -> bool:
    """Whether the shop's connector declares it can take ``event`` (refunds need a capability)."""
    cls = hub.plugins.connectors.get(shop.connector)
    capabilities = cls.capabilities if cls is not None else frozenset()
    if event.kind is EventKind.REFUNDED:
        return Capability.REFUNDS in capabilities
    if event.kind is EventKind.PARTIALLY_REFUNDED:
        return Capability.PARTIAL_REFUNDS in capabilities
    return True


_RENEWAL_KINDS = {
    Etat.OK: EventKind.PAID,
    Etat.KO: EventKind.REFUSED,
    Etat.ATTENTE: EventKind.PENDING,
    Etat.ANNU: EventKind.CANCELLED,
}


def _renewal(
    hub: Hub,
    session: Session,
    row: InboxMessage,
    shop: Shop,
    payment: Payment,
    subscription: Subscription,
    conf: Confirmation,
) -> Result:
    """A debit after the first: logged against the payment, counted on the
    subscription, told to the shop when accepted or refused. The payment's own
    state does not move: it stays the paid first debit."""
    now = hub.clock()
    debit = subscription.debits_done + 1
    kind = _RENEWAL_KINDS[conf.etat]
    event_row = _event_row(
        payment,
        row,
        dedupe_key(conf),
        kind,
        payment.state,
        payment.state,
        conf,
        f"subscription {conf.num_abo}: debit {debit}",
        now,
    )
    session.add(event_row)
    session.flush()  # the unique (payment, dedupe_key) constraint speaks here
    if conf.etat is Etat.OK:
        subscription.debits_done = debit
        payment.paid_minor += conf.amount.minor
    if conf.fini:
        subscription.finished = True
    if conf.etat in (Etat.OK, Etat.KO):
        _enqueue_effects(hub, session, shop, payment, _event(event_row, payment, kind, conf, debit))
    end = ", subscription finished" if conf.fini else ""
    return _finish(
        hub, row, Verdict.ACCEPTED, f"debit {debit} of {subscription.occurrences} {kind.value}{end}"
    )


def _subscription_of(session: Session, payment: Payment) -> Subscription | None:
    query = select(Subscription).where(Subscription.payment_id == payment.id).with_for_update()
    return session.scalar(query)
