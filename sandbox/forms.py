"""The forms of the payment page: the card, and the optional buyer details.

Labels and messages are in the request's language (the page sets it from
``langue`` before building the forms, see :mod:`sandbox.texts`).

Card rules (the record gives the principles, FAQ 13 and 22; the sandbox
defines the details):

- the card type is one of :class:`~sandbox.cards.CardType`;
- the number is 12 to 19 digits passing the Luhn check (spaces and dashes
  allowed), and must be one of the sandbox's test cards: a valid number that is
  not one is refused as a form error, the sandbox never charges a real card;
- the expiry month and year are not before the current month of the sandbox
  clock (a card is valid until the end of its expiry month); the form starts
  at the same month one year later, a date that passes;
- the CVV2 is required and is exactly 3 digits: cards without a CVV2 are not
  accepted.

A test card whose type is not the chosen one passes the form: the platform
refuses that *payment* (FAQ 13), which the page handles, not the form.

Buyer-details rules (FAQ 27, 29): nom, prénom, e-mail, téléphone, adresse,
code postal, ville and pays are required, télécopie is optional; texts are
bounded (64 characters for names and city, 128 for the e-mail, 255 for the
address); the e-mail is one ``@`` between a name and a dotted domain; phone and
fax numbers hold 6 to 20 digits among spaces, dots, dashes, ``+`` and
brackets; the postcode is 2 to 10 letters, digits, spaces or dashes; the
country is an ISO 3166 alpha-2 code chosen from a list.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from datetime import date
from typing import Any

from flask_babel import get_locale
from flask_wtf import FlaskForm  # type: ignore[import-untyped]
from wtforms import SelectChoice, SelectField, StringField  # type: ignore[import-untyped]
from wtforms.validators import StopValidation, ValidationError  # type: ignore[import-untyped]

from bluepaid_locales import gettext
from bluepaid_plugins.buyer import plausible_phone, plausible_postcode
from sandbox.cards import CardType, SandboxCard, find_test_card, is_valid_number

# How many years ahead the expiry list offers: cards are issued for at most a few years.
EXPIRY_YEARS = 10

_CVV2 = re.compile(r"[0-9]{3}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s.]+(?:\.[^@\s.]+)+")
# Babel's territory list has groupings and placeholders that are not countries.
_NOT_COUNTRIES = frozenset({"EU", "EZ", "QO", "UN", "XA", "XB", "ZZ"})

_Validator = Callable[[Any, Any], None]


def _value(field: Any) -> str:
    return str(field.data or "").strip()


def _required(form: Any, field: Any) -> None:
    if not _value(field):
        raise StopValidation(gettext("This field is required."))


def _at_most(length: int) -> _Validator:
    def check(form: Any, field: Any) -> None:
        if len(_value(field)) > length:
            raise StopValidation(gettext("At most %(max)s characters.", max=length))

    return check


def _email(form: Any, field: Any) -> None:
    value = _value(field)
    if value and not _EMAIL.fullmatch(value):
        raise ValidationError(gettext("Invalid e-mail address."))


def _postcode(form: Any, field: Any) -> None:
    value = _value(field)
    if value and not plausible_postcode(value):
        raise ValidationError(gettext("Invalid postcode: 2 to 10 letters or digits."))


def _phone(form: Any, field: Any) -> None:
    value = _value(field)
    if value and not plausible_phone(value):
        raise ValidationError(
            gettext("Invalid number: 6 to 20 digits, with spaces, dots, dashes, + or brackets.")
        )


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


def countries() -> list[tuple[str, str]]:
    """ISO 3166 alpha-2 codes and their names in the request's language, sorted by name."""
    names = get_locale().territories

    def key(item: tuple[str, str]) -> str:
        # Accents would sort "Égypte" after "Zimbabwe".
        return unicodedata.normalize("NFKD", item[1]).encode("ascii", "ignore").decode().casefold()

    found = [
        (str(code), str(name))
        for code, name in names.items()
        if len(code) == 2 and code.isalpha() and code not in _NOT_COUNTRIES
    ]
    return sorted(found, key=key)


class CardForm(FlaskForm):  # type: ignore[misc]
    """The card step: type, number, expiry, CVV2; CSRF-protected.

    After :meth:`validate` succeeds, :attr:`test_card` is the test card the
    number belongs to and :attr:`chosen_type` the type the buyer chose.
    :attr:`number_shown` is what the number input shows when the form comes
    back with errors: the number typed if it is a test card, else nothing, so
    a real card number is never written into a page. The CVV2 never comes back.
    """

    card_type = SelectField(choices=[SelectChoice(t.value) for t in CardType], validate_choice=False)
    number = StringField()
    expiry_month = SelectField(validate_choice=False)
    expiry_year = SelectField(validate_choice=False)
    cvv2 = StringField()

    def __init__(self, today: date, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.today = today
        self.test_card: SandboxCard | None = None
        self.card_type.label.text = gettext("Card type")
        self.number.label.text = gettext("Card number")
        self.expiry_month.label.text = gettext("Month")
        self.expiry_year.label.text = gettext("Year")
        self.cvv2.label.text = gettext("Card security code (CVV2)")
        self.expiry_month.choices = [SelectChoice(f"{month:02d}") for month in range(1, 13)]
        years = range(today.year, today.year + EXPIRY_YEARS + 1)
        self.expiry_year.choices = [SelectChoice(str(year)) for year in years]
        if not self.is_submitted():
            # Left as it is, the expiry must pass: a year from now, whatever the month.
            self.expiry_month.data = f"{today.month:02d}"
            self.expiry_year.data = str(today.year + 1)

    @property
    def chosen_type(self) -> CardType:
        return CardType(self.card_type.data)

    @property
    def number_shown(self) -> str:
        typed = _value(self.number)
        return typed if find_test_card(typed) is not None else ""

    def validate_card_type(self, field: Any) -> None:
        if field.data not in {t.value for t in CardType}:
            raise StopValidation(gettext("Not a valid choice."))

    def validate_number(self, field: Any) -> None:
        number = _value(field)
        if not number:
            raise StopValidation(gettext("This field is required."))
        if not is_valid_number(number):
            raise StopValidation(gettext("Invalid card number: check the digits you typed."))
        card = find_test_card(number)
        if card is None:
            raise StopValidation(
                gettext(
                    "This number is not a test card: the sandbox never charges a real card. "
                    "Use one of the test cards."
                )
            )
        self.test_card = card

    def validate_expiry_month(self, field: Any) -> None:
        value = _value(field)
        if not (value.isascii() and value.isdigit() and 1 <= int(value) <= 12):
            raise StopValidation(gettext("Not a valid choice."))

    def validate_expiry_year(self, field: Any) -> None:
        value = _value(field)
        if not (value.isascii() and value.isdigit() and len(value) == 4):
            raise StopValidation(gettext("Not a valid choice."))
        year = int(value)
        if year > self.today.year + EXPIRY_YEARS:
            raise StopValidation(gettext("Not a valid choice."))
        month = _value(self.expiry_month)
        # A card is good until the last day of its expiry month.
        if month.isascii() and month.isdigit() and (year, int(month)) < (self.today.year, self.today.month):
            raise StopValidation(gettext("This card has expired: the expiry date is past."))

    def validate_cvv2(self, field: Any) -> None:
        value = _value(field)
        if not value:
            raise StopValidation(
                gettext("The card security code (CVV2) is required: cards without a CVV2 are not accepted.")
            )
        if not _CVV2.fullmatch(value):
            raise StopValidation(gettext("The card security code has 3 digits."))


class BuyerForm(FlaskForm):  # type: ignore[misc]
    """The buyer-details form, shown when the merchant switched it on.

    It is posted with the card form, in one HTML form whose CSRF token the card
    form carries, so this one is built without its own (``meta={"csrf": False}``)
    and with the ``buyer-`` prefix. :meth:`details` gives the stored values.
    """

    nom = StringField(validators=[_required, _at_most(64)])
    prenom = StringField(validators=[_required, _at_most(64)])
    email = StringField(validators=[_required, _at_most(128), _email])
    telephone = StringField(validators=[_required, _at_most(32), _phone])
    telecopie = StringField(validators=[_at_most(32), _phone])
    adresse = StringField(validators=[_required, _at_most(255)])
    cp = StringField(validators=[_required, _at_most(10), _postcode])
    ville = StringField(validators=[_required, _at_most(64)])
    pays = SelectField(validators=[_required], validate_choice=False)

    FIELDS = ("nom", "prenom", "email", "telephone", "telecopie", "adresse", "cp", "ville", "pays")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(prefix="buyer-", meta={"csrf": False}, **kwargs)
        labels = {
            "nom": gettext("Last name"),
            "prenom": gettext("First name"),
            "email": gettext("E-mail"),
            "telephone": gettext("Phone"),
            "telecopie": gettext("Fax (optional)"),
            "adresse": gettext("Address"),
            "cp": gettext("Postcode"),
            "ville": gettext("City"),
            "pays": gettext("Country"),
        }
        for name in self.FIELDS:
            self[name].label.text = labels[name]
        names = countries()
        self.pays.choices = [SelectChoice(code, name) for code, name in names]
        self._country_codes = {code for code, _ in names}

    def validate_pays(self, field: Any) -> None:
        if _value(field) not in self._country_codes:
            raise StopValidation(gettext("Not a valid choice."))

    def details(self) -> dict[str, str]:
        """The values typed, trimmed, by protocol-like names (``nom``, ``prenom``...)."""
        return {name: _value(self[name]) for name in self.FIELDS}
