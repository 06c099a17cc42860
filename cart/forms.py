"""The cart's forms: a basket line's quantity, and the checkout's buyer details.

Every value is checked here, on the server; the pages' HTML hints (``required``,
``maxlength``) only spare the buyer a round trip. Labels and messages are in
the request's language: build a form after the page chose it.

Checkout rules: e-mail (at most 128, as the platform takes it), last and first
name (at most 64), phone (:func:`~bluepaid_plugins.buyer.plausible_phone`),
address (at most 255), postcode (:func:`~bluepaid_plugins.buyer.postcode_fits`
the chosen country), city (at most 64), country (ISO 3166 alpha-2 from Babel's
territories with an alpha-3 code the platform takes; the merchant's countries
when the shop restricts them: anyone else is told so, before paying).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from typing import Any

from flask_babel import get_locale
from flask_wtf import FlaskForm  # type: ignore[import-untyped]
from wtforms import EmailField, IntegerField, SelectChoice, SelectField, StringField, TelField  # type: ignore[import-untyped]
from wtforms.validators import StopValidation, ValidationError  # type: ignore[import-untyped]

from bluepaid_locales import gettext
from bluepaid_plugins.buyer import plausible_phone, postcode_fits
from bluepaid_plugins.countries import alpha3
from bluepaid_plugins.domain import Customer
from bluepaid_plugins.protocol.fields import email_address, unprintable
from cart.basket import QUANTITY_MAX

_Validator = Callable[[Any, Any], None]

#: The checkout's buyer fields, in the page's order.
BUYER_FIELDS = ("email", "last_name", "first_name", "phone", "address", "postcode", "city", "country")


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
    if email_address(_value(field)):
        raise ValidationError(gettext("Invalid e-mail address."))


def _phone(form: Any, field: Any) -> None:
    if not plausible_phone(_value(field)):
        raise ValidationError(
            gettext("Invalid number: 6 to 20 digits, with spaces, dots, dashes, + or brackets.")
        )


def countries(allowed: frozenset[str] = frozenset()) -> list[tuple[str, str]]:
    """ISO 3166 alpha-2 codes the platform takes and their names in the request's
    language, sorted by name (accents folded); only ``allowed`` ones when given."""
    names = get_locale().territories

    def key(item: tuple[str, str]) -> str:
        return unicodedata.normalize("NFKD", item[1]).encode("ascii", "ignore").decode().casefold()

    found = [
        (str(code), str(name))
        for code, name in names.items()
        if len(code) == 2 and alpha3(code) and (not allowed or code in allowed)
    ]
    return sorted(found, key=key)


def field_aria(field: Any, *help_ids: str) -> dict[str, str]:
    """The attributes that tie an input to its help and its errors, for screen readers:
    each error of ``field`` is in an element whose id is ``<field id>-error-<n>``."""
    ids = [help_id for help_id in help_ids if help_id]
    ids += [f"{field.id}-error-{n}" for n in range(1, len(field.errors) + 1)]
    attributes = {"aria-describedby": " ".join(ids)} if ids else {}
    if field.errors:
        attributes["aria-invalid"] = "true"
    return attributes


class QuantityForm(FlaskForm):  # type: ignore[misc]
    """How many of a product the buyer wants (0 on the basket's page removes it)."""

    quantity = IntegerField(default=1)

    def __init__(self, *, minimum: int = 1, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.minimum = minimum
        self.quantity.label.text = gettext("Quantity")

    def validate_quantity(self, field: Any) -> None:
        if field.data is None or not self.minimum <= field.data <= QUANTITY_MAX:
            raise StopValidation(
                gettext("A whole number from %(low)s to %(high)s.", low=self.minimum, high=QUANTITY_MAX)
            )


class CheckoutForm(FlaskForm):  # type: ignore[misc]
    """The buyer's details, CSRF-protected; ``allowed`` the countries the shop serves
    (empty: all). After :meth:`validate` succeeds, :meth:`customer` and :meth:`details`
    give what the hub keeps."""

    email = EmailField(validators=[_required, _at_most(128), _email])
    last_name = StringField(validators=[_required, _at_most(64)])
    first_name = StringField(validators=[_required, _at_most(64)])
    phone = TelField(validators=[_required, _at_most(32), _phone])
    address = StringField(validators=[_required, _at_most(255)])
    postcode = StringField(validators=[_required, _at_most(10)])
    city = StringField(validators=[_required, _at_most(64)])
    country = SelectField(validators=[_required], validate_choice=False)

    def __init__(self, allowed: frozenset[str] = frozenset(), **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.allowed = allowed
        labels = {
            "email": gettext("E-mail"),
            "last_name": gettext("Last name"),
            "first_name": gettext("First name"),
            "phone": gettext("Phone"),
            "address": gettext("Address"),
            "postcode": gettext("Postcode"),
            "city": gettext("City"),
            "country": gettext("Country"),
        }
        for name, text in labels.items():
            self[name].label.text = text
        # Every country is listed, so a buyer from one the shop does not serve is told
        # so in words, not left wondering why their country is missing.
        self.country.choices = [
            SelectChoice("", gettext("Choose a country")),
            *(SelectChoice(code, name) for code, name in countries()),
        ]

    def fields_shown(self) -> list[Any]:
        return [self[name] for name in BUYER_FIELDS]

    def validate_postcode(self, field: Any) -> None:
        if not postcode_fits(_value(field), _value(self.country)):
            raise StopValidation(gettext("This postcode does not fit the chosen country."))

    def validate_country(self, field: Any) -> None:
        code = _value(field)
        if code not in {choice.value for choice in self.country.choices if choice.value}:
            raise StopValidation(gettext("Not a valid choice."))
        if self.allowed and code not in self.allowed:
            raise StopValidation(gettext("Sorry, this shop does not deliver to this country."))

    def customer(self) -> Customer:
        """The buyer as the hub keeps it: e-mail, names, country in alpha-3."""
        return Customer(
            email=_value(self.email),
            first_name=_value(self.first_name),
            last_name=_value(self.last_name),
            country=alpha3(_value(self.country)),
        )

    def details(self) -> dict[str, str]:
        """The details beyond :meth:`customer`, for the merchant."""
        return {name: _value(self[name]) for name in ("phone", "address", "postcode", "city")}
