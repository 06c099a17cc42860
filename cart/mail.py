"""The buyer's mail of a cart order's payment: paid, or refused / given up.

Written in the order's language to the e-mail the buyer gave at checkout, and
sent through the hub's mail (the connector context's ``mail``) when the cart's
connector applies the event. Nothing else than the shop, the order, its lines
and total: never a card detail, never a link carrying a key.
"""

from __future__ import annotations

from bluepaid_locales import SOURCE_LANGUAGE, languages, negotiate, translations
from bluepaid_plugins.domain import EventKind, Order, PaymentEvent

#: The events a buyer hears of; the others (refunds, pending...) are the merchant's business.
TOLD = (EventKind.PAID, EventKind.REFUSED, EventKind.CANCELLED)


def buyer_mail(shop_name: str, order: Order, event: PaymentEvent) -> tuple[str, str] | None:
    """The subject and body of the buyer's mail about ``event``, or None when the
    buyer is not told of it (or left no e-mail)."""
    if event.kind not in TOLD or not order.customer.email:
        return None
    catalog = translations(negotiate([order.language], languages()) or SOURCE_LANGUAGE)

    def _(message: str, **values: object) -> str:
        return str(catalog.gettext(message)) % values

    test = [_("TEST: no real card was charged.")] if event.test else []
    if event.kind is EventKind.PAID:
        subject = _("[%(shop)s] Order %(ref)s paid", shop=shop_name, ref=order.ref)
        opening = _("Thank you: the payment of order %(ref)s is accepted.", ref=order.ref)
    else:
        subject = _("[%(shop)s] Order %(ref)s not paid", shop=shop_name, ref=order.ref)
        opening = _(
            "The payment of order %(ref)s was refused or given up: nothing was charged. "
            "Your basket is kept in the shop, to order again.",
            ref=order.ref,
        )
    currency = order.total.currency
    lines = [f"{item.quantity} × {item.name} — {item.unit_price} {currency}" for item in order.items]
    total = _("Total: %(total)s", total=f"{order.total} {currency}")
    return subject, "\n".join([*test, opening, "", *lines, total, "", shop_name]) + "\n"
