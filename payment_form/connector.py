"""The payment form's connector: its settings, and its orders kept by the hub.

A merchant with no order form adds a shop on this connector; the buyer fills in
the form's page (:mod:`payment_form.views`), which stores the order in the
hub's order store, and pays through the hub's pay link like any other order.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, ClassVar

from bluepaid_plugins import Capability, Money, SettingField, StatusEvent
from bluepaid_plugins.domain import OrderStatus
from bluepaid_plugins.errors import Problem, ValidationError
from bluepaid_plugins.money import CURRENCIES
from bluepaid_plugins.sources import HubKeptOrders

# Offered amounts are written with a dot for the decimals, so a comma can never be
# read as one: spaces or semicolons separate them ("10 25.50 50").
_SEPARATORS = re.compile(r"[\s;]+")


@dataclass(frozen=True)
class FormSettings:
    """A shop's form settings, typed: read from the stored settings by :meth:`read`.

    ``amounts``: the amounts the buyer chooses from, in the order given (empty:
    the buyer types one); ``minimum`` and ``maximum``: bounds of a typed amount
    (None: none beyond the platform's, more than zero).
    """

    currency: str
    amounts: tuple[Money, ...]
    minimum: Money | None
    maximum: Money | None
    buyer_details: bool
    reference_label: str

    @classmethod
    def read(cls, settings: Mapping[str, Any]) -> FormSettings:
        """Parse the settings; ValidationError lists every problem, by setting name."""
        currency = str(settings.get("currency") or "EUR")
        problems: list[Problem] = []

        def amount(name: str, text: str) -> Money | None:
            if not text:
                return None
            try:
                found = Money.parse(text, currency, field=name)
            except ValidationError as exc:
                problems.extend(exc.problems)
                return None
            if found.minor <= 0:
                problems.append(Problem(name, f"{text} is not more than zero"))
                return None
            return found

        words = [word for word in _SEPARATORS.split(str(settings.get("amounts") or "")) if word]
        offered = [amount("amounts", word) for word in words]
        amounts = tuple(dict.fromkeys(found for found in offered if found is not None))
        minimum = amount("min_amount", str(settings.get("min_amount") or ""))
        maximum = amount("max_amount", str(settings.get("max_amount") or ""))
        if minimum is not None and maximum is not None and maximum < minimum:
            problems.append(Problem("max_amount", "is less than min_amount"))
        if problems:
            raise ValidationError(problems, "settings of connector payment_form")
        return cls(
            currency=currency,
            amounts=amounts,
            minimum=minimum,
            maximum=maximum,
            buyer_details=bool(settings.get("buyer_details")),
            reference_label=str(settings.get("reference_label") or ""),
        )


class PaymentFormConnector(HubKeptOrders):
    """The built-in payment form: a page per shop where the buyer says what they pay."""

    id = "payment_form"
    label = "Payment form"
    version = "1.0"
    # 1.1: the pages need the hub's order desk.
    contract = ">=1.1,<2"
    order_noun = "payment-form order"
    capabilities = frozenset({Capability.REFUNDS, Capability.PARTIAL_REFUNDS})
    settings_schema = (
        SettingField(
            "currency",
            "Currency",
            type="choice",
            choices=tuple(sorted(CURRENCIES)),
            default="EUR",
            required=False,
            help="The currency of every amount of the form.",
        ),
        SettingField(
            "amounts",
            "Amounts offered",
            required=False,
            default="",
            help="The amounts the buyer chooses from, with a dot for decimals, separated by spaces "
            'or semicolons ("10 25.50 50"). Empty: the buyer types the amount.',
        ),
        SettingField(
            "min_amount",
            "Smallest amount",
            required=False,
            default="",
            help="The smallest amount a buyer may type (empty: any amount above zero).",
        ),
        SettingField(
            "max_amount",
            "Largest amount",
            required=False,
            default="",
            help="The largest amount a buyer may type (empty: no limit but the platform's).",
        ),
        SettingField(
            "buyer_details",
            "Buyer details",
            type="bool",
            required=False,
            default=False,
            help="Ask for the buyer's name, phone, postal address and country (FAQ 27, 29).",
        ),
        SettingField(
            "reference_label",
            "Reference label",
            required=False,
            default="",
            help='What the reference field is called on the page ("Invoice number"); empty: '
            '"Reference or description", in the page\'s language.',
        ),
    )
    statuses: ClassVar[Mapping[str, str]] = {
        OrderStatus.OPEN: "Open: waiting for payment",
        OrderStatus.FAILED: "Payment failed: the buyer can pay again",
        OrderStatus.PAID: "Paid",
        OrderStatus.PARTIALLY_REFUNDED: "Partially refunded",
        OrderStatus.REFUNDED: "Refunded",
        OrderStatus.CANCELLED: "Cancelled",
    }
    # A refusal or a cancel on the payment page leaves the order payable: the buyer
    # can try again from the hub's return page.
    default_status_mapping: ClassVar[Mapping[StatusEvent, str | None]] = {
        StatusEvent.PAID: OrderStatus.PAID,
        StatusEvent.REFUSED: OrderStatus.FAILED,
        StatusEvent.CANCELLED: OrderStatus.FAILED,
        StatusEvent.PARTIALLY_REFUNDED: OrderStatus.PARTIALLY_REFUNDED,
        StatusEvent.REFUNDED: OrderStatus.REFUNDED,
    }

    @classmethod
    def validate_settings(cls, raw: Mapping[str, Any]) -> dict[str, Any]:
        """The base checks, then the amounts: each one an amount of the currency, above
        zero, with the currency's decimals; ``max_amount`` not below ``min_amount``."""
        clean = super().validate_settings(raw)
        FormSettings.read(clean)
        return clean


def offered_amount(settings: FormSettings, text: str) -> Money | None:
    """The offered amount whose protocol form is ``text`` (``"25.50"``), or None."""
    return next((found for found in settings.amounts if str(found) == text), None)


def decimals_of(amount: Decimal) -> int:
    """How many decimals ``amount`` is written with, trailing zeros ignored."""
    exponent = amount.normalize().as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0
