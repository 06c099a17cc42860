"""Starting a payment: from a pay link to the request sent to the platform.

The pay link must carry a proof that the buyer holds the order (see
:mod:`bluepaid_plugins.paylink`); without one the answer is the same as for an
order or shop that does not exist. Only a payable order gets a payment: the
others get a :class:`NotPayable` saying why, for a page in the buyer's language.
"""

from __future__ import annotations

import hmac
import logging
import secrets
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from bluepaid_locales import buyer_languages, negotiate
from bluepaid_plugins.connector import Capability, Ownership
from bluepaid_plugins.domain import Order, OrderStatus, Schedule
from bluepaid_plugins.errors import ConfigurationError, NotFound, PaymentVetoed, Problem, ValidationError
from bluepaid_plugins.money import CURRENCIES, Money
from bluepaid_plugins.paylink import TokenCheck, check_pay_token
from bluepaid_plugins.protocol import (
    LANGUAGES,
    PaymentRequest,
    SubscriptionRequest,
    divers_token,
    validate_payment_fields,
    validate_subscription_fields,
)
from bluepaid_plugins.protocol.fields import text, unprintable
from hub.context import Hub
from hub.models import PAID_STATES, Payment, PaymentState, Shop, Subscription
from hub.orders import subscription_request
from hub.plugins import guarded
from hub.redaction import redact
from hub.shops import get_shop
from hub.urls import confirmation_url, return_urls
from hub.webhooks import is_closed

log = logging.getLogger(__name__)

# Fields a plugin must not change: they bind the request to the stored payment.
PROTECTED = ("id_boutique", "montant", "devise", "divers", "id_client")

# A refused payment is not reused: a new attempt gets a payment (and a divers) of its
# own, so a late message about the refused one cannot be read as news of the retry.
REUSABLE_STATES = {PaymentState.CREATED.value, PaymentState.PENDING.value}

# What the buyer is told when a known order cannot be paid, by order status.
_NOT_PAYABLE = {
    OrderStatus.CANCELLED: "cancelled",
    OrderStatus.EXPIRED: "expired",
    OrderStatus.ON_HOLD: "on_hold",
}


@dataclass(frozen=True)
class Redirect:
    """Where to send the buyer: ``url`` for GET, or ``action`` + ``fields`` to POST."""

    method: str
    url: str
    action: str
    fields: dict[str, str]
    payment_id: str


@dataclass(frozen=True)
class NotPayable:
    """A known order the buyer holds, that cannot be paid now, and why.

    ``reason``: ``paid`` (paid already, refunds included), ``cancelled``,
    ``expired``, ``on_hold``, ``closed`` (the shop closed it: a webhook), ``link_expired``
    (a hub-signed link past its date) or ``currency`` (the platform does not
    take the order's currency).
    """

    order_ref: str
    reason: str
    payment_id: str | None = None


def unknown_order(shop_slug: str, order_ref: str) -> NotFound:
    """The one error for a missing shop, a missing order and a wrong proof alike."""
    return NotFound(f"no order {order_ref!r} in shop {shop_slug!r}, or a wrong proof")


def fetch_owned_order(hub: Hub, shop: Shop, order_ref: str, proof: str) -> Order | NotPayable:
    """The order ``order_ref`` if ``proof`` shows the buyer holds it (its secret cleared).

    Raises :func:`unknown_order` for a wrong or missing proof, and the
    connector's errors; a connector's own bug becomes a PluginBug.
    """
    cls = hub.plugins.connector(shop.connector)
    if cls.ownership is Ownership.HUB_TOKEN:
        # Checked before the order is read: a guess costs no lookup.
        check = check_pay_token(shop.secret, shop.slug, order_ref, proof, hub.clock())
        if check is TokenCheck.INVALID:
            raise unknown_order(shop.slug, order_ref)
        if check is TokenCheck.EXPIRED:
            return NotPayable(order_ref, "link_expired")
    with hub.connector(shop) as connector, guarded(hub.plugins.owner(cls.id), "fetch_order"):
        order = connector.fetch_order(order_ref)
    if cls.ownership is Ownership.SHOP_SECRET:
        if not order.secret:
            log.error(
                "connector %s gave order %s of shop %s without its secret", cls.id, order_ref, shop.slug
            )
            raise unknown_order(shop.slug, order_ref)
        if not proof or not hmac.compare_digest(order.secret.encode(), proof.encode("utf-8", "replace")):
            raise unknown_order(shop.slug, order_ref)
    # The shop's secret goes no further: hooks and the payment never see it.
    return replace(order, ref=order_ref, secret="")


def start_payment(hub: Hub, shop_slug: str, order_ref: str, proof: str) -> Redirect | NotPayable:
    """Fetch the order from its shop, store a payment and build the platform request.

    Raises NotFound (no shop, no order, wrong proof), the connector's errors
    (shop down), PaymentVetoed (a plugin or the coherence check said no),
    ConfigurationError and ValidationError (the merchant's setup cannot make
    this request) and PluginBug.
    """
    shop = get_shop(hub, shop_slug)
    found = fetch_owned_order(hub, shop, order_ref, proof)
    if isinstance(found, NotPayable):
        return found
    order = found
    refusal = _refusal(hub, shop, order)
    if refusal is not None:
        return refusal
    view = hub.shop_view(shop)
    for _plugin, reason in hub.plugins.call_each("bluepaid_check_order", shop=view, order=order):
        if reason:
            raise PaymentVetoed(reason)
    payment = _payment_for(hub, shop, order)
    if payment.state in PAID_STATES:
        return NotPayable(order.ref, "paid", payment.public_id)
    request = _request(hub, shop, order, payment)
    fields = request.fields()
    hub.plugins.call_each("bluepaid_payment_request", shop=view, order=order, fields=fields)
    subscription = isinstance(request, SubscriptionRequest)
    protected = [n.upper() for n in PROTECTED] + ["MONTANT_INITIAL"] if subscription else PROTECTED
    changed = [name for name in protected if fields.get(name) != request.fields().get(name)]
    # A plugin that rewrites these is broken, not vetoing: it is the merchant's to fix.
    problems = [Problem(name, "protected variable changed by a plugin") for name in changed]
    problems += validate_subscription_fields(fields) if subscription else validate_payment_fields(fields)
    if problems:
        raise ValidationError(problems, "payment request after plugins")
    action = request.action(shop.platform_url)
    url = f"{action}?{urlencode(fields)}"
    _keep_request(hub, payment.id, fields)
    return Redirect(shop.redirect_method, url, action, fields, payment.public_id)


def _keep_request(hub: Hub, payment_id: int, fields: dict[str, str]) -> None:
    """Keep what the platform is sent, for the back office's timeline; the secret
    confirmation URL (``url_retour_bo``) is masked like every secret."""
    with hub.db.transaction() as session:
        session.execute(
            update(Payment)
            .where(Payment.id == payment_id)
            .values(request_fields={name: redact(value) for name, value in fields.items()})
        )


def _refusal(hub: Hub, shop: Shop, order: Order) -> NotPayable | None:
    """Why this order cannot be paid now, or None when it can."""
    if order.status.paid:
        return NotPayable(order.ref, "paid")
    if not order.payable:
        return NotPayable(order.ref, _NOT_PAYABLE.get(order.status, "cancelled"))
    if is_closed(hub, shop.id, order.ref):
        return NotPayable(order.ref, "closed")
    if order.total.currency not in CURRENCIES:
        return NotPayable(order.ref, "currency")
    cls = hub.plugins.connector(shop.connector)
    if order.schedule is not None and Capability.SUBSCRIPTIONS not in cls.capabilities:
        raise ConfigurationError(
            f"order {order.ref} of shop {shop.slug} is a subscription, "
            f"and connector {cls.id} does not take subscriptions"
        )
    return None


def first_debit(order: Order) -> Money:
    """What the buyer pays now: the order's total, or a subscription's first debit."""
    if order.schedule is not None and order.schedule.initial is not None:
        return order.schedule.initial
    return order.total


def _request(hub: Hub, shop: Shop, order: Order, payment: Payment) -> PaymentRequest | SubscriptionRequest:
    """The protocol request for ``payment``: ``in.php``, or ``ABOv2/in.php`` for a schedule."""
    ok_url, stop_url = return_urls(hub, shop, payment.public_id)
    divers = divers_token(shop.secret, shop.id_boutique, order.ref, payment.amount, payment.public_id)
    common: dict[str, Any] = {
        "id_boutique": shop.id_boutique,
        "id_client": order.ref,
        "divers": divers,
        # The order's language, else the buyer's browser's (at the pay link), else the shop's.
        "langue": negotiate([order.language, *buyer_languages(), shop.language], LANGUAGES) or shop.language,
        "email_client": order.customer.email,
        "url_retour_ok": ok_url,
        "url_retour_stop": stop_url,
        "url_retour_bo": confirmation_url(hub, shop) if shop.send_confirmation_url else "",
    }
    schedule = order.schedule
    if schedule is None:
        # The buyer's names prefill the platform's buyer-details form (FAQ 27, 29); a name
        # the protocol would refuse (too long, a control character) is left out, not fatal.
        names = {
            field: value
            for field, value in (("nom", order.customer.last_name), ("prenom", order.customer.first_name))
            if text(64)(value) is None and unprintable(value) is None
        }
        return PaymentRequest(amount=order.total, pays_liv=order.customer.country, **names, **common)
    return subscription_request(schedule, order.total, **common)


def _payment_for(hub: Hub, shop: Shop, order: Order) -> Payment:
    """The payment to use for this order: a paid one as is, an earlier unpaid one for
    the same amount (the buyer came back, or opened several tabs), or a new one.

    Payments for another amount are flagged ``superseded`` (an old tab cannot pay
    the old amount) and lose the flag when the order comes back to their amount.
    The database holds one open payment per order and amount: when another hub
    process created it first, its payment is the one used.
    """
    for attempt in range(3):
        try:
            return _open_payment(hub, shop, order)
        except IntegrityError:
            # Another buyer's tab created the open payment between our read and our
            # insert (the unique index uq_payments_open said so): use theirs.
            if attempt == 2:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def _open_payment(hub: Hub, shop: Shop, order: Order) -> Payment:
    now = hub.clock()
    amount = first_debit(order)
    with hub.db.transaction() as session:
        rows = session.scalars(
            select(Payment)
            .where(Payment.shop_id == shop.id, Payment.order_ref == order.ref)
            .order_by(Payment.id.desc())
            .with_for_update()
        ).all()
        for row in rows:
            if row.state in PAID_STATES:
                return row
        for row in rows:
            if row.amount != amount:
                row.flag("superseded")
            elif "superseded" in row.flags:
                row.flags = [flag for flag in row.flags if flag != "superseded"]
        reusable = [row for row in rows if row.state in REUSABLE_STATES and row.amount == amount]
        if reusable:
            return reusable[0]
        payment = Payment(
            public_id=secrets.token_hex(16),
            shop_id=shop.id,
            order_ref=order.ref,
            amount_minor=amount.minor,
            currency=amount.currency,
            state=PaymentState.CREATED.value,
            flags=[],
            id_trans="",
            refunded_minor=0,
            paid_minor=0,
            # The order's own language only: the return page falls back to the browser's.
            language=order.language[:2],
            created_at=now,
            updated_at=now,
        )
        session.add(payment)
        session.flush()
        if order.schedule is not None:
            session.add(_subscription(shop, payment, order, order.schedule, now))
    return payment


def _subscription(
    shop: Shop, payment: Payment, order: Order, schedule: Schedule, now: datetime
) -> Subscription:
    return Subscription(
        shop_id=shop.id,
        payment_id=payment.id,
        num_abo="",
        amount_minor=order.total.minor,
        initial_amount_minor=schedule.initial.minor if schedule.initial else None,
        currency=order.total.currency,
        occurrences=schedule.occurrences,
        period_count=schedule.period_count,
        period_type=schedule.period_type,
        tolerance_days=schedule.tolerance_days,
        tolerance_max=schedule.tolerance_max,
        debits_done=0,
        finished=False,
        created_at=now,
    )
