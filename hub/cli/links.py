"""``bluepaid link``: payment links, orders the merchant creates on the hub."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import click

from bluepaid_plugins.errors import ValidationError
from bluepaid_plugins.money import Money, check_currency
from hub.cli.base import cli, emit, hub_of, json_option
from hub.orders import create_link_order, parse_schedule
from hub.shops import get_shop


@cli.group()
def link() -> None:
    """Payment links: orders you create here and send to a buyer."""


@link.command("create")
@click.option("--shop", "slug", required=True, help="The shop (a payment_link shop).")
@click.option(
    "--amount", required=True, help="In major units with a dot: 12.50 (per debit for a subscription)."
)
@click.option("--currency", default="EUR", show_default=True, help="ISO 4217 code: EUR, CHF, USD...")
@click.option("--description", default="", help="What the buyer pays for, shown on the pages.")
@click.option("--email", default="", help="The buyer's e-mail, passed to the platform.")
@click.option("--ref", default="", help="Your order reference (default: generated).")
@click.option("--language", default="", help="The buyer's language: FR, EN...")
@click.option(
    "--expires", type=click.IntRange(min=1), default=None, help="The link works for this many days."
)
@click.option("--occurrences", type=int, default=None, help="A subscription of this many debits.")
@click.option(
    "--every", default="1M", show_default=True, help="Subscription period: 1M, 2S (weeks), 10J (days)."
)
@click.option("--initial", default="", help="Subscription: a different first debit.")
@click.option(
    "--tolerance-days", type=int, default=0, help="Subscription: days before a refused debit is retried."
)
@click.option(
    "--tolerance-max", type=int, default=0, help="Subscription: how many retries of a refused debit."
)
@json_option
@click.pass_context
def link_create(
    ctx: click.Context,
    /,
    slug: str,
    amount: str,
    currency: str,
    as_json: bool,
    expires: int | None,
    occurrences: int | None,
    every: str,
    initial: str,
    tolerance_days: int,
    tolerance_max: int,
    **options: str,
) -> None:
    """Create a payment-link order (or subscription) and print the link to send."""
    hub = hub_of(ctx)
    target = get_shop(hub, slug)
    if target.connector != "payment_link":
        raise ValidationError([], f"shop {slug!r} uses connector {target.connector!r}, not payment_link")
    currency = currency.upper()
    # The hub holds orders in any currency; a link the platform cannot take would never be paid.
    check_currency(currency, "currency")
    schedule = None
    if occurrences is not None:
        schedule = parse_schedule(currency, occurrences, every, initial, tolerance_days, tolerance_max)
    price = Money.parse(amount, currency, field="amount")
    order = create_link_order(
        hub.db,
        target,
        price,
        now=hub.clock(),
        schedule=schedule,
        description=options["description"],
        email=options["email"],
        language=options["language"],
        ref=options["ref"],
    )
    until = hub.clock() + timedelta(days=expires) if expires else None
    data: dict[str, Any] = {
        "shop": slug,
        "ref": order.ref,
        "amount": str(order.amount),
        "currency": order.currency,
        "description": order.description,
        "pay_url": hub.pay_url(target, order.ref, expires=until),
        "expires": until.isoformat() if until else None,
    }
    if schedule is not None:
        data["schedule"] = order.schedule
    emit(data, as_json, lambda d: f"{d['ref']}: {d['amount']} {d['currency']}\n{d['pay_url']}")
