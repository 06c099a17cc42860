"""The cart's connector: its settings, and its orders kept by the hub.

A merchant with a catalog and no shop software adds a shop on this connector,
imports the catalog (``bluepaid catalog import``), and buyers fill a basket on
the cart's pages (:mod:`cart.views`), which store the order in the hub's order
store and send the buyer to the hub's pay link like any other order.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any, ClassVar

from bluepaid_plugins import Capability, Money, SettingField, StatusEvent
from bluepaid_plugins.countries import alpha3
from bluepaid_plugins.domain import OrderStatus, PaymentEvent
from bluepaid_plugins.errors import Problem, ValidationError
from bluepaid_plugins.money import CURRENCIES
from bluepaid_plugins.sources import HubKeptOrders
from cart.basket import Rounding
from cart.mail import buyer_mail

_WORDS = re.compile(r"[\s,;]+")
_RATE = re.compile(r"[0-9]{1,3}(?:\.[0-9]{1,2})?")


@dataclass(frozen=True)
class CartSettings:
    """A shop's cart settings, typed: read from the stored settings by :meth:`read`.

    ``shipping``: the flat fee added to every basket (None: no fee), VAT included
    at ``shipping_rate``; ``countries``: the ISO 3166 alpha-2 codes the merchant
    delivers to (empty: every country); ``hold``: how long stock stays held for a
    buyer who went to pay.
    """

    currency: str
    shipping: Money | None
    shipping_rate: Decimal
    rounding: Rounding
    countries: frozenset[str]
    hold: timedelta

    @classmethod
    def read(cls, settings: Mapping[str, Any]) -> CartSettings:
        """Parse the settings; ValidationError lists every problem, by setting name."""
        currency = str(settings.get("currency") or "EUR")
        problems: list[Problem] = []
        shipping = None
        fee = str(settings.get("shipping_fee") or "")
        if fee:
            try:
                shipping = Money.parse(fee, currency, field="shipping_fee")
            except ValidationError as exc:
                problems.extend(exc.problems)
        rate_text = str(settings.get("shipping_vat_rate") or "0")
        rate = Decimal(rate_text) if _RATE.fullmatch(rate_text) else None
        if rate is None or rate > 100:
            problems.append(Problem("shipping_vat_rate", f"{rate_text!r} is not a percentage like 20 or 5.5"))
        codes = {word.upper() for word in _WORDS.split(str(settings.get("countries") or "")) if word}
        unknown = sorted(code for code in codes if len(code) != 2 or not alpha3(code))
        if unknown:
            problems.append(Problem("countries", f"not ISO 3166 alpha-2 codes: {', '.join(unknown)}"))
        if problems:
            raise ValidationError(problems, "settings of connector cart")
        return cls(
            currency=currency,
            shipping=shipping if shipping is not None and shipping.minor else None,
            shipping_rate=rate or Decimal(0),
            rounding=Rounding(str(settings.get("vat_rounding") or Rounding.LINE)),
            countries=frozenset(codes),
            hold=timedelta(minutes=int(settings.get("hold_minutes") or 120)),
        )


class CartConnector(HubKeptOrders):
    """The built-in simple cart: a catalog, a basket, a checkout."""

    id = "cart"
    label = "Simple cart"
    version = "1.0"
    # 1.2: the cart's catalog lives in the hub's database, through the order desk.
    contract = ">=1.2,<2"
    order_noun = "cart order"
    capabilities = frozenset({Capability.REFUNDS, Capability.PARTIAL_REFUNDS})
    settings_schema = (
        SettingField(
            "currency",
            "Currency",
            type="choice",
            choices=tuple(sorted(CURRENCIES)),
            default="EUR",
            required=False,
            help="The currency of the catalog's prices.",
        ),
        SettingField(
            "shipping_fee",
            "Shipping fee",
            required=False,
            default="",
            help="A flat fee added to every order, VAT included, with a dot for decimals "
            '("4.90"); empty: none.',
        ),
        SettingField(
            "shipping_vat_rate",
            "VAT rate of shipping",
            required=False,
            default="20",
            help="The VAT percentage included in the shipping fee (20, 5.5...).",
        ),
        SettingField(
            "vat_rounding",
            "VAT rounding",
            type="choice",
            choices=tuple(Rounding),
            default=Rounding.LINE.value,
            required=False,
            help="Round the VAT of each line (line) or once per rate for the order (order).",
        ),
        SettingField(
            "countries",
            "Countries served",
            required=False,
            default="",
            help="ISO 3166 alpha-2 codes of the countries you deliver to, separated by spaces "
            '("FR BE CH"); a buyer elsewhere is told so before paying. Empty: every country.',
        ),
        SettingField(
            "buyer_mail_name",
            "Name in buyer mails",
            required=False,
            default="",
            help="Your shop's name in the mail each buyer gets when their payment is accepted or "
            "refused (sent through the hub's mail server); empty: buyers get no mail.",
        ),
        SettingField(
            "hold_minutes",
            "Stock hold",
            type="int",
            required=False,
            default=120,
            minimum=15,
            maximum=10080,
            help="Minutes the stock of an order stays held for a buyer who went to pay "
            "and did not come back.",
        ),
    )
    statuses: ClassVar[Mapping[str, str]] = {
        OrderStatus.OPEN: "Open: waiting for payment",
        OrderStatus.PAID: "Paid",
        OrderStatus.PARTIALLY_REFUNDED: "Partially refunded",
        OrderStatus.REFUNDED: "Refunded",
        OrderStatus.CANCELLED: "Cancelled: the payment was refused or given up",
    }
    # A refused or cancelled payment ends the order and gives its stock back; the buyer
    # keeps the basket and checks out again, which holds the stock anew.
    default_status_mapping: ClassVar[Mapping[StatusEvent, str | None]] = {
        StatusEvent.PAID: OrderStatus.PAID,
        StatusEvent.REFUSED: OrderStatus.CANCELLED,
        StatusEvent.CANCELLED: OrderStatus.CANCELLED,
        StatusEvent.PARTIALLY_REFUNDED: OrderStatus.PARTIALLY_REFUNDED,
        StatusEvent.REFUNDED: OrderStatus.REFUNDED,
    }

    def apply_event(self, event: PaymentEvent) -> None:
        """Move the order as the mapping says; the first time an event moves it to paid
        or to cancelled, the buyer is told by mail first (see :mod:`cart.mail`), so a
        mail server away makes the hub retry the whole event, and a repeated event
        mails no one."""
        order = self.fetch_order(event.order_ref)
        target = self.status_for(event)
        moves = target is not None and target != order.status and not order.status.paid
        name = str(self.settings.get("buyer_mail_name") or "")
        written = buyer_mail(name, order, event) if moves and name else None
        if written is not None:
            self.context.mail(order.customer.email, *written)
        super().apply_event(event)

    @classmethod
    def validate_settings(cls, raw: Mapping[str, Any]) -> dict[str, Any]:
        """The base checks, then the fee (an amount of the currency), the shipping VAT
        rate (0 to 100, two decimals at most) and the countries (alpha-2 codes)."""
        clean = super().validate_settings(raw)
        CartSettings.read(clean)
        return clean
