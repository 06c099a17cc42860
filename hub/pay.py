"""Starting a payment: from an order ref to the request sent to the platform."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import select

from bluepaid_plugins.domain import Order, OrderStatus, Schedule
from bluepaid_plugins.errors import NotFound, PaymentVetoed, Problem, ValidationError
from bluepaid_plugins.money import Money
from bluepaid_plugins.protocol import (
    PaymentRequest,
    SubscriptionRequest,
    divers_token,
    validate_payment_fields,
    validate_subscription_fields,
)
from hub.context import Hub
from hub.models import PAID_STATES, Payment, PaymentState, Shop, Subscription

# Fields a plugin must not change: they bind the request to the stored payment.
PROTECTED = ("id_boutique", "montant", "devise", "divers", "id_client")

# A refused payment is not reused: a new attempt gets a payment (and a divers) of its
# own, so a late message about the refused one cannot be read as news of the retry.
REUSABLE_STATES = {PaymentState.CREATED.value, PaymentState.PENDING.value}


@dataclass(frozen=True)
class Redirect:
    """Where to send the buyer: ``url`` for GET, or ``action`` + ``fields`` to POST."""

    method: str
    url: str
    action: str
    fields: dict[str, str]
    payment_id: str


@dataclass(frozen=True)
class AlreadyPaid:
    order_ref: str
    payment_id: str | None


def get_shop(hub: Hub, slug: str) -> Shop:
    with hub.db.transaction() as session:
        shop = session.scalar(select(Shop).where(Shop.slug == slug))
    if shop is None:
        raise NotFound(f"no shop {slug!r}")
    return shop


def return_urls(hub: Hub, shop: Shop, payment_id: str) -> tuple[str, str]:
    base = f"{hub.config.public_url}/return/{shop.slug}/{payment_id}"
    return f"{base}/ok", f"{base}/stop"


def confirmation_url(hub: Hub, shop: Shop) -> str:
    """The URL to register as the shop's confirmation URL (it carries the secret token)."""
    return f"{hub.config.public_url}/confirm/{shop.slug}/{shop.confirm_token}"


def pay_url_template(hub: Hub, shop: Shop) -> str:
    """The link a shop's checkout sends the buyer to; ``{order_ref}`` is replaced."""
    return f"{hub.config.public_url}/pay/{shop.slug}/{{order_ref}}"


def start_payment(hub: Hub, shop_slug: str, order_ref: str) -> Redirect | AlreadyPaid:
    """Fetch the order from its shop, store a payment and build the platform request.

    Raises NotFound (no shop), the connector's errors (no order, shop down),
    PaymentVetoed (a plugin or the coherence check said no) and ValidationError
    (the request would break the protocol: a merchant's configuration error).
    """
    shop = get_shop(hub, shop_slug)
    order = hub.connector_for(shop).fetch_order(order_ref)
    if order.status is OrderStatus.PAID:
        return AlreadyPaid(order.ref, None)
    view = hub.shop_view(shop)
    for reason in hub.plugins.hook.bluepaid_check_order(shop=view, order=order):
        if reason:
            raise PaymentVetoed(reason)
    payment = _payment_for(hub, shop, order)
    if payment.state in PAID_STATES:
        return AlreadyPaid(order.ref, payment.public_id)
    request = _request(hub, shop, order, payment)
    fields = request.fields()
    hub.plugins.hook.bluepaid_payment_request(shop=view, order=order, fields=fields)
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
    return Redirect(shop.redirect_method, url, action, fields, payment.public_id)


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
        "langue": order.language or shop.language,
        "email_client": order.customer.email,
        "url_retour_ok": ok_url,
        "url_retour_stop": stop_url,
        "url_retour_bo": confirmation_url(hub, shop) if shop.send_confirmation_url else "",
    }
    schedule = order.schedule
    if schedule is None:
        return PaymentRequest(amount=order.total, pays_liv=order.customer.country, **common)
    return SubscriptionRequest(
        amount=order.total,
        occurrences=schedule.occurrences,
        period_count=schedule.period_count,
        period_type=schedule.period_type,
        initial_amount=schedule.initial,
        tolerance_days=schedule.tolerance_days,
        tolerance_max=schedule.tolerance_max,
        **common,
    )


def _payment_for(hub: Hub, shop: Shop, order: Order) -> Payment:
    """The payment to use for this order: an earlier unpaid one for the same amount
    (the buyer came back), or a new one. A paid one is returned as is. Earlier
    payments for another amount are flagged ``superseded``: they can no longer
    pay the order."""
    now = hub.clock()
    with hub.db.transaction() as session:
        rows = session.scalars(
            select(Payment)
            .where(Payment.shop_id == shop.id, Payment.order_ref == order.ref)
            .order_by(Payment.id.desc())
        ).all()
        for row in rows:
            if row.state in PAID_STATES:
                return row
        amount = first_debit(order)
        for row in rows:
            if row.state in REUSABLE_STATES and row.amount == amount:
                return row
        for row in rows:
            # The order's amount changed: an old tab must not pay the old amount.
            if row.amount != amount:
                row.flag("superseded")
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
            # The order's own language only: the return page falls back to the browser's.
            language=order.language[:2],
            created_at=now,
            updated_at=now,
        )
        session.add(payment)
        if order.schedule is not None:
            session.flush()
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
