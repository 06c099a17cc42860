"""The form a buyer fills in: the amount, what it pays for, the e-mail, and the
buyer-details section (FAQ 27, 29) when the shop turns it on.

Every value is checked here, on the server; the page's HTML hints (``required``,
``maxlength``) only spare the buyer a round trip. Labels and messages are in
the request's language: build the form after the page chose it.

Rules:

- the amount is typed in figures, with a dot or a comma before the decimals and
  spaces between thousands allowed; no sign, no more decimals than the currency
  has, more than zero, within the shop's bounds; when the shop offers amounts,
  it must be one of them, whatever the request carries;
- the reference is 1 to 120 printable characters; the e-mail at most 128, one
  ``@`` between a name and a dotted domain, as the platform takes it;
- buyer details: last and first name (at most 64), phone (6 to 20 digits among
  spaces, dots, dashes, brackets and a leading ``+``), fax (the same, optional),
  address (at most 255), postcode (checked against the country's format for the
  countries listed in :data:`~bluepaid_plugins.buyer.POSTCODES`, else 2 to 10 letters, digits, spaces or
  dashes), city (at most 64) and country (ISO 3166 alpha-2 from Babel's list of
  territories, named in the page's language, with an alpha-3 code the platform
  takes).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from flask_babel import get_locale
from flask_wtf import FlaskForm  # type: ignore[import-untyped]
from wtforms import (  # type: ignore[import-untyped]
    EmailField,
    Field,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    TelField,
)
from wtforms.validators import StopValidation, ValidationError  # type: ignore[import-untyped]

from bluepaid_locales import format_currency, gettext
from bluepaid_plugins.buyer import POSTCODES, plausible_phone, plausible_postcode, postcode_fits
from bluepaid_plugins.countries import alpha3
from bluepaid_plugins.domain import Customer
from bluepaid_plugins.money import Money, currency_decimals
from bluepaid_plugins.protocol.fields import email_address, unprintable
from payment_form.connector import FormSettings, decimals_of, offered_amount

#: The longest reference or description a buyer may type.
REFERENCE_MAX = 120

_TYPED_AMOUNT = re.compile(r"[0-9]{1,12}(?:[.,][0-9]{1,12})?")
# Thousands separators a buyer may type or paste: space, no-break and narrow no-break space.
_GROUPING = re.compile(r"[ \u00a0\u202f]")

_Validator = Callable[[Any, Any], None]


def _value(field: Any) -> str:
    return str(field.data or "").strip()


def _required(form: Any, field: Any) -> None:
    if not _value(field):
        raise StopValidation(gettext("This field is required."))


def _at_most(length: int) -> _Validator:
    def check(form: Any, field: Any) -> None:
        value = _value(field)
        if len(value) > length:
            raise StopValidation(gettext("At most %(max)s characters.", max=length))
        if unprintable(value):
            raise StopValidation(gettext("Remove the invisible or control characters."))

    return check


def _email(form: Any, field: Any) -> None:
    value = _value(field)
    if value and email_address(value):
        raise ValidationError(gettext("Invalid e-mail address."))


def _phone(form: Any, field: Any) -> None:
    value = _value(field)
    if value and not plausible_phone(value):
        raise ValidationError(
            gettext("Invalid number: 6 to 20 digits, with spaces, dots, dashes, + or brackets.")
        )


def countries() -> list[tuple[str, str]]:
    """ISO 3166 alpha-2 codes the platform takes and their names in the request's
    language, sorted by name (accents folded, so "Égypte" sorts among the E's)."""
    names = get_locale().territories

    def key(item: tuple[str, str]) -> str:
        return unicodedata.normalize("NFKD", item[1]).encode("ascii", "ignore").decode().casefold()

    found = [(str(code), str(name)) for code, name in names.items() if len(code) == 2 and alpha3(code)]
    return sorted(found, key=key)


def parse_amount(text: str, settings: FormSettings) -> Money:
    """The amount a buyer typed, checked against the shop's settings; a WTForms
    StopValidation in the request's language for anything else."""
    typed = _GROUPING.sub("", text.strip())
    if typed.startswith("-"):
        raise StopValidation(gettext("The amount must be more than zero."))
    if not _TYPED_AMOUNT.fullmatch(typed):
        raise StopValidation(gettext("Type the amount in figures, like 25.50."))
    value = Decimal(typed.replace(",", "."))
    places = currency_decimals(settings.currency)
    if decimals_of(value) > places:
        if places == 0:
            raise StopValidation(gettext("Type a whole amount, without decimals."))
        raise StopValidation(gettext("At most %(places)s decimals.", places=places))
    amount = Money(value, settings.currency)
    if amount.minor <= 0:
        raise StopValidation(gettext("The amount must be more than zero."))
    if settings.minimum is not None and amount < settings.minimum:
        shown = format_currency(settings.minimum.amount, settings.currency)
        raise StopValidation(gettext("The smallest amount is %(amount)s.", amount=shown))
    if settings.maximum is not None and settings.maximum < amount:
        shown = format_currency(settings.maximum.amount, settings.currency)
        raise StopValidation(gettext("The largest amount is %(amount)s.", amount=shown))
    return amount


#: The buyer-details section's fields, in the page's order, with their stored names.
BUYER_FIELDS = ("last_name", "first_name", "phone", "fax", "address", "postcode", "city", "country")


def _buyer_fields() -> dict[str, Field]:
    return {
        "last_name": StringField(validators=[_required, _at_most(64)]),
        "first_name": StringField(validators=[_required, _at_most(64)]),
        "phone": TelField(validators=[_required, _at_most(32), _phone]),
        "fax": TelField(validators=[_at_most(32), _phone]),
        "address": StringField(validators=[_required, _at_most(255)]),
        "postcode": StringField(validators=[_required, _at_most(10)]),
        "city": StringField(validators=[_required, _at_most(64)]),
        "country": SelectField(validators=[_required], validate_choice=False),
    }


class PaymentForm(FlaskForm):  # type: ignore[misc]
    """The form of one shop, CSRF-protected; build it with :func:`payment_form`.

    After :meth:`validate` succeeds, :attr:`amount_checked` is the amount to
    charge, :meth:`customer` the buyer and :meth:`details` the buyer's other
    details, by :data:`BUYER_FIELDS` name.
    """

    reference = StringField(validators=[_required, _at_most(REFERENCE_MAX)])
    email = EmailField(validators=[_required, _at_most(128), _email])

    def __init__(self, settings: FormSettings, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.settings = settings
        self.amount_checked: Money | None = None
        self.reference.label.text = settings.reference_label or gettext("Reference or description")
        labels = {
            "amount": gettext("Amount (%(currency)s)", currency=settings.currency),
            "email": gettext("E-mail"),
            "last_name": gettext("Last name"),
            "first_name": gettext("First name"),
            "phone": gettext("Phone"),
            "fax": gettext("Fax (optional)"),
            "address": gettext("Address"),
            "postcode": gettext("Postcode"),
            "city": gettext("City"),
            "country": gettext("Country"),
        }
        for name, text in labels.items():
            if name in self:
                self[name].label.text = text
        if settings.amounts:
            self.amount.choices = [
                SelectChoice(str(amount), format_currency(amount.amount, amount.currency))
                for amount in settings.amounts
            ]
        if "country" in self:
            self.country.choices = [
                SelectChoice("", gettext("Choose a country")),
                *(SelectChoice(code, name) for code, name in countries()),
            ]

    @property
    def buyer_details(self) -> bool:
        return "country" in self

    def validate_amount(self, field: Any) -> None:
        text = _value(field)
        if not text:
            raise StopValidation(gettext("This field is required."))
        if self.settings.amounts:
            # Only the shop's own amounts: a value forged in the request is refused.
            chosen = offered_amount(self.settings, text)
            if chosen is None:
                raise StopValidation(gettext("Choose one of the amounts offered."))
            self.amount_checked = chosen
            return
        self.amount_checked = parse_amount(text, self.settings)

    def validate_postcode(self, field: Any) -> None:
        value, country = _value(field), _value(self.country)
        if country in POSTCODES and not postcode_fits(value, country):
            raise StopValidation(gettext("This postcode does not fit the chosen country."))
        if country not in POSTCODES and not plausible_postcode(value):
            raise StopValidation(gettext("Invalid postcode: 2 to 10 letters or digits."))

    def validate_country(self, field: Any) -> None:
        code = _value(field)
        if code not in {choice.value for choice in self.country.choices if choice.value}:
            raise StopValidation(gettext("Not a valid choice."))

    def customer(self) -> Customer:
        """The buyer as the hub keeps it: e-mail, names, country in alpha-3."""
        if not self.buyer_details:
            return Customer(email=_value(self.email))
        return Customer(
            email=_value(self.email),
            first_name=_value(self.first_name),
            last_name=_value(self.last_name),
            country=alpha3(_value(self.country)),
        )

    def details(self) -> dict[str, str]:
        """The buyer's phone, fax, address, postcode and city, trimmed; empty ones left out."""
        if not self.buyer_details:
            return {}
        names = ("phone", "fax", "address", "postcode", "city")
        return {name: _value(self[name]) for name in names if _value(self[name])}

    def fields_shown(self) -> list[Any]:
        """The fields in the page's order (for the error summary), the CSRF token aside."""
        names = ("amount", "reference", "email", *BUYER_FIELDS)
        return [self[name] for name in names if name in self]


def payment_form(settings: FormSettings, **kwargs: Any) -> PaymentForm:
    """The form of a shop with ``settings``: radio buttons for offered amounts, else a
    text input; the buyer-details fields when the shop asks for them. ``kwargs``
    go to FlaskForm (``data`` prefills a form that is not submitted)."""
    fields: dict[str, Field] = {
        "amount": RadioField(validate_choice=False) if settings.amounts else StringField()
    }
    if settings.buyer_details:
        fields.update(_buyer_fields())
    shop_form = type("ShopPaymentForm", (PaymentForm,), fields)
    found: PaymentForm = shop_form(settings, **kwargs)
    return found


def field_aria(field: Any, *help_ids: str) -> dict[str, str]:
    """The attributes that tie an input to its help and its errors, for screen readers.

    The page writes each error of ``field`` in an element whose id is
    ``<field id>-error-<n>`` (counting from 1); ``help_ids`` name help texts.
    """
    ids = [help_id for help_id in help_ids if help_id]
    ids += [f"{field.id}-error-{n}" for n in range(1, len(field.errors) + 1)]
    attributes = {"aria-describedby": " ".join(ids)} if ids else {}
    if field.errors:
        attributes["aria-invalid"] = "true"
    return attributes
