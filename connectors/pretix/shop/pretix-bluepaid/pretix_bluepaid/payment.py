"""The Bluepaid payment provider: pretix's checkout hands the order to the hub.

Nothing is paid, stored or decided here. ``execute_payment`` sends the buyer to
the hub's pay URL of the order, with the order's code and its ``secret`` (the
proof the hub checks against the order it reads through pretix's REST API). The
hub then records the outcome on this payment (the plugin's API route, in
``api.py``): confirmed (which marks the order paid), failed or cancelled; and
refunds through pretix's API. The ``info`` it writes on them (the Bluepaid
transaction number, the hub's event id) is shown to the organiser and given
back in the API's ``details``, which is how the hub finds what it already wrote.
"""

from collections import OrderedDict
from decimal import Decimal
from typing import Any
from urllib.parse import quote, urlsplit

from django import forms
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from pretix.base.models import Order, OrderPayment, OrderRefund
from pretix.base.payment import BasePaymentProvider, PaymentException

#: The currencies the Bluepaid platform takes; the method is offered for no other.
CURRENCIES = frozenset({"EUR", "CHF", "USD", "GBP", "JPY", "CAD", "AUD"})

#: What the hub writes in a payment's or refund's ``info``, given back in the API's ``details``.
DETAILS = ("id_trans", "event", "payment", "test")

_LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "[::1]", "::1"})


def pay_url(template: str, code: str, secret: str) -> str:
    """The hub's pay URL of order ``code``, from the template ``bluepaid shop show`` prints
    (``https://hub.example/pay/myshop/{order_ref}?key={key}``).

    Returns "" when the template is not an https URL (http only for a hub on the
    organiser's own machine) holding each placeholder once, or the order has no
    code or secret: a buyer is never sent to a URL the hub cannot read.
    """
    template = (template or "").strip()
    if template.count("{order_ref}") != 1 or template.count("{key}") != 1 or not code or not secret:
        return ""
    parts = urlsplit(template.replace("{order_ref}", "x").replace("{key}", "x"))
    local = (parts.hostname or "") in _LOCAL_HOSTS
    if not parts.hostname or not (parts.scheme == "https" or (parts.scheme == "http" and local)):
        return ""
    return template.replace("{order_ref}", quote(code, safe="")).replace("{key}", quote(secret, safe=""))


def _check_template(value: str) -> None:
    if not pay_url(value, "CODE1", "secret"):
        raise forms.ValidationError(
            _(
                "Paste the pay URL template the hub gives (bluepaid shop show): an https:// URL "
                "with {order_ref} and {key} once each."
            )
        )


class Bluepaid(BasePaymentProvider):
    """Card payments on the Bluepaid page, through the hub."""

    identifier = "bluepaid"
    verbose_name = _("Bluepaid (card payment through the Bluepaid hub)")
    public_name = _("Credit card (Bluepaid)")
    # The buyer may give up a payment started on the Bluepaid page and choose another method.
    abort_pending_allowed = True

    @property
    def settings_form_fields(self) -> "OrderedDict[str, Any]":
        fields = OrderedDict(super().settings_form_fields)
        fields["pay_url"] = forms.CharField(
            label=_("Pay URL template of the hub"),
            help_text=_(
                "As the hub's command bluepaid shop show prints it, for example "
                "https://hub.example/pay/myshop/{order_ref}?key={key}"
            ),
            validators=[_check_template],
            required=True,
        )
        return fields

    def is_allowed(self, request: HttpRequest, total: Decimal | None = None) -> bool:
        return (
            super().is_allowed(request, total)
            and self.event.currency in CURRENCIES
            and bool(self.settings.get("pay_url"))
        )

    def payment_form_render(self, request: HttpRequest, total: Decimal, order: Order | None = None) -> str:
        return str(_("You will type your card details on Bluepaid's secure payment page."))

    def checkout_confirm_render(
        self, request: HttpRequest, order: Order | None = None, info_data: dict[str, Any] | None = None
    ) -> str:
        return str(_("Once you confirm the order, you are sent to Bluepaid's secure page to pay by card."))

    def checkout_prepare(self, request: HttpRequest, cart: dict[str, Any]) -> bool:
        return True

    def payment_prepare(self, request: HttpRequest, payment: OrderPayment) -> bool:
        return True

    def payment_is_valid_session(self, request: HttpRequest) -> bool:
        # Nothing is kept in the session: the order's code and secret are all the hub needs.
        return True

    def execute_payment(self, request: HttpRequest, payment: OrderPayment) -> str:
        """Send the buyer to the hub's pay URL of the order; the hub confirms the payment later."""
        url = pay_url(self.settings.get("pay_url", ""), payment.order.code, payment.order.secret)
        if not url:
            raise PaymentException(
                _(
                    "This payment method is not set up yet. "
                    "Please choose another one or contact the organiser."
                )
            )
        return url

    def payment_pending_render(self, request: HttpRequest, payment: OrderPayment) -> str:
        url = pay_url(self.settings.get("pay_url", ""), payment.order.code, payment.order.secret)
        if not url:
            return str(_("Your card payment has not reached us yet."))
        return format_html(
            '<p>{}</p><p><a class="btn btn-primary" href="{}">{}</a></p>',
            _("Your card payment has not reached us yet. If you did not pay on Bluepaid's page, pay now:"),
            url,
            _("Pay by card with Bluepaid"),
        )

    def payment_presale_render(self, payment: OrderPayment) -> str:
        id_trans = payment.info_data.get("id_trans")
        if id_trans:
            return str(_("Card payment, Bluepaid transaction {id_trans}").format(id_trans=id_trans))
        return str(self.public_name)

    def payment_control_render(self, request: HttpRequest, payment: OrderPayment) -> str:
        info = payment.info_data
        if not info.get("id_trans"):
            return str(_("The buyer was sent to the Bluepaid hub; it has not told pretix an outcome yet."))
        return format_html(
            "<dl class='dl-horizontal'><dt>{}</dt><dd>{}</dd><dt>{}</dt><dd>{}</dd></dl>",
            _("Bluepaid transaction"),
            info.get("id_trans"),
            _("Test card"),
            _("yes") if info.get("test") else _("no"),
        )

    def refund_control_render(self, request: HttpRequest, refund: OrderRefund) -> str:
        id_trans = refund.info_data.get("id_trans", "")
        return format_html("{} {}", _("Refunded at Bluepaid, transaction"), id_trans)

    def api_payment_details(self, payment: OrderPayment) -> dict[str, Any]:
        return {name: payment.info_data.get(name) for name in DETAILS}

    def api_refund_details(self, refund: OrderRefund) -> dict[str, Any]:
        return {name: refund.info_data.get(name) for name in DETAILS}

    def matching_id(self, payment: OrderPayment) -> str | None:
        found = payment.info_data.get("id_trans")
        return str(found) if found else None

    def refund_matching_id(self, refund: OrderRefund) -> str | None:
        found = refund.info_data.get("id_trans")
        return str(found) if found else None
