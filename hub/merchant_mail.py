"""The merchant's mails (FAQ 20, 11): a built-in plugin on ``bluepaid_payment_event``.

One mail per payment event to the shop's notification address: the sale
accepted (``REGLEMENT ACCEPTE``), refused (``REGLEMENT REFUSE``), and a notice of
every other event (refunds, cancellations, money to refund), with a banner for a
test payment. Written in the shop's language (French by default, and for a
language without a catalog), sent through the hub's mail over SMTP. Each mail is
an outbox task of its own, so a mail server away delays it, never loses it; the
hub plans that task only for a shop with a notification address on a hub with a
mail server (:func:`wanted`), never a task that would do nothing.
"""

from __future__ import annotations

from bluepaid_locales import languages, negotiate, translations
from bluepaid_plugins.connector import Mailer
from bluepaid_plugins.domain import EventKind, PaymentEvent, ShopView
from bluepaid_plugins.hookspecs import hookimpl

#: The plugin's name in the plugin manager (and in its outbox tasks).
NAME = "merchant_mail"
#: The language of a shop whose own has no catalog.
DEFAULT_LANGUAGE = "fr"


def wanted(notify_email: str, smtp_host: str) -> bool:
    """Whether a shop with ``notify_email`` gets mails on a hub whose mail server is ``smtp_host``."""
    return bool(notify_email and smtp_host)


def merchant_mail(shop: ShopView, event: PaymentEvent) -> tuple[str, str]:
    """The subject and body of the merchant's mail about ``event``, in the shop's language."""
    catalog = translations(negotiate([shop.language], languages()) or DEFAULT_LANGUAGE)

    def _(message: str, **values: object) -> str:
        return str(catalog.gettext(message)) % values

    if event.kind is EventKind.PAID:
        what = _("PAYMENT ACCEPTED")
    elif event.kind is EventKind.REFUSED:
        what = _("PAYMENT REFUSED")
    elif event.kind is EventKind.OVERCHARGED:
        what = _("OVERCHARGED: REFUND IT")
    else:
        what = _("Payment event: %(kind)s", kind=event.kind.value)
    test = _("TEST") + " " if event.test else ""
    subject = _(
        "[%(shop)s] %(test)s%(what)s, order %(ref)s",
        shop=shop.name,
        test=test,
        what=what,
        ref=event.order_ref,
    )
    lines = [
        *([_("*** TEST payment: no real card was charged. ***"), ""] if event.test else []),
        what,
        _("Order: %(ref)s", ref=event.order_ref),
        _("Amount: %(amount)s", amount=f"{event.amount} {event.amount.currency}"),
        _("Transaction: %(id)s", id=event.id_trans),
        *(
            [_("Subscription %(abo)s, debit %(debit)s", abo=event.num_abo, debit=event.debit)]
            if event.debit
            else []
        ),
        _("Date: %(at)s", at=event.occurred_at.strftime("%Y-%m-%d %H:%M UTC")),
    ]
    return subject, "\n".join(lines) + "\n"


@hookimpl
def bluepaid_payment_event(shop: ShopView, event: PaymentEvent, mail: Mailer) -> None:
    """Mail ``event`` to the shop's notification address; OSError (retried) when the server is away."""
    if not shop.notify_email:
        # The address was removed after the task was planned: nobody to tell.
        return
    mail(shop.notify_email, *merchant_mail(shop, event))
