"""The forms of the payment page: the card, and the optional buyer details.

Messages come from the buyer's :class:`~sandbox.texts.Texts`,
handed to each form at construction, so the validators below read
``form.texts`` when they run.

Card rules (the record gives the principles, FAQ 13 and 22; the sandbox
defines the details):

- the card type is one of :class:`~sandbox.cards.CardType`;
- the number is 12 to 19 digits passing the Luhn check (spaces and dashes
  allowed), and must be one of the sandbox's test cards: a valid number that is
  not one is refused as a form error, the sandbox never charges a real card;
- the expiry month and year are not before the current month of the sandbox
  clock (a card is valid until the end of its expiry month);
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

from babel import Locale
from flask_wtf import FlaskForm  # type: ignore[import-untyped]
from wtforms import SelectChoice, SelectField, StringField  # type: ignore[import-untyped]
from wtforms.validators import StopValidation, ValidationError  # type: ignore[import-untyped]

from sandbox.cards import CardType, SandboxCard, find_test_card, is_valid_number
from sandbox.texts import Texts

# How many years ahead the expiry list offers: cards are issued for at most a few years.
EXPIRY_YEARS = 10

_CVV2 = re.compile(r"[0-9]{3}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s.]+(?:\.[^@\s.]+)+")
_PHONE = re.compile(r"[0-9 .()+-]+")
_POSTCODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9 -]{0,8}[A-Za-z0-9]")
# Babel's territory list has groupings and placeholders that are not countries.
_NOT_COUNTRIES = frozenset({"EU", "EZ", "QO", "UN", "XA", "XB", "ZZ"})

_Validator = Callable[[Any, Any], None]


def _value(field: Any) -> str:
    return str(field.data or "").strip()


def _required(form: Any, field: Any) -> None:
    if not _value(field):
        raise StopValidation(form.texts.required)


def _at_most(length: int) -> _Validator:
    def check(form: Any, field: Any) -> None:
        if len(_value(field)) > length:
            raise StopValidation(form.texts.too_long.format(max=length))

    return check


def _matches(pattern: re.Pattern[str], message: str) -> _Validator:
    """Check a non-empty value against ``pattern``; ``message`` names a :class:`Texts` field."""

    def check(form: Any, field: Any) -> None:
        value = _value(field)
        if value and not pattern.fullmatch(value):
            raise ValidationError(getattr(form.texts, message))

    return check


def _phone(form: Any, field: Any) -> None:
    value = _value(field)
    digits = sum(char.isdigit() for char in value)
    if value and not (_PHONE.fullmatch(value) and 6 <= digits <= 20):
        raise ValidationError(form.texts.phone_invalid)


def countries(texts: Texts) -> list[tuple[str, str]]:
    """ISO 3166 alpha-2 codes and their names in the buyer's language, sorted by name."""
    names = Locale.parse(texts.locale).territories

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
    number belongs to and :attr:`chosen_type` the type the buyer chose. The
    number and CVV2 are never rendered back into the page: the template gives
    those inputs an empty value.
    """

    card_type = SelectField(choices=[SelectChoice(t.value) for t in CardType], validate_choice=False)
    number = StringField()
    expiry_month = SelectField(validate_choice=False)
    expiry_year = SelectField(validate_choice=False)
    cvv2 = StringField()

    def __init__(self, texts: Texts, today: date, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.texts = texts
        self.today = today
        self.test_card: SandboxCard | None = None
        self.card_type.label.text = texts.card_type
        self.number.label.text = texts.card_number
        self.expiry_month.label.text = texts.expiry_month
        self.expiry_year.label.text = texts.expiry_year
        self.cvv2.label.text = texts.cvv2
        self.expiry_month.choices = [SelectChoice(f"{month:02d}") for month in range(1, 13)]
        years = range(today.year, today.year + EXPIRY_YEARS + 1)
        self.expiry_year.choices = [SelectChoice(str(year)) for year in years]

    @property
    def chosen_type(self) -> CardType:
        return CardType(self.card_type.data)

    def validate_card_type(self, field: Any) -> None:
        if field.data not in {t.value for t in CardType}:
            raise StopValidation(self.texts.invalid_choice)

    def validate_number(self, field: Any) -> None:
        number = _value(field)
        if not number:
            raise StopValidation(self.texts.required)
        if not is_valid_number(number):
            raise StopValidation(self.texts.number_invalid)
        card = find_test_card(number)
        if card is None:
            raise StopValidation(self.texts.real_card)
        self.test_card = card

    def validate_expiry_month(self, field: Any) -> None:
        value = _value(field)
        if not (value.isascii() and value.isdigit() and 1 <= int(value) <= 12):
            raise StopValidation(self.texts.invalid_choice)

    def validate_expiry_year(self, field: Any) -> None:
        value = _value(field)
        if not (value.isascii() and value.isdigit() and len(value) == 4):
            raise StopValidation(self.texts.invalid_choice)
        year = int(value)
        if year > self.today.year + EXPIRY_YEARS:
            raise StopValidation(self.texts.invalid_choice)
        month = _value(self.expiry_month)
        # A card is good until the last day of its expiry month.
        if month.isascii() and month.isdigit() and (year, int(month)) < (self.today.year, self.today.month):
            raise StopValidation(self.texts.expired)

    def validate_cvv2(self, field: Any) -> None:
        value = _value(field)
        if not value:
            raise StopValidation(self.texts.cvv2_missing)
        if not _CVV2.fullmatch(value):
            raise StopValidation(self.texts.cvv2_invalid)


class BuyerForm(FlaskForm):  # type: ignore[misc]
    """The buyer-details form, shown when the merchant switched it on.

    It is posted with the card form, in one HTML form whose CSRF token the card
    form carries, so this one is built without its own (``meta={"csrf": False}``)
    and with the ``buyer-`` prefix. :meth:`details` gives the stored values.
    """

    nom = StringField(validators=[_required, _at_most(64)])
    prenom = StringField(validators=[_required, _at_most(64)])
    email = StringField(validators=[_required, _at_most(128), _matches(_EMAIL, "email_invalid")])
    telephone = StringField(validators=[_required, _at_most(32), _phone])
    telecopie = StringField(validators=[_at_most(32), _phone])
    adresse = StringField(validators=[_required, _at_most(255)])
    cp = StringField(validators=[_required, _at_most(10), _matches(_POSTCODE, "cp_invalid")])
    ville = StringField(validators=[_required, _at_most(64)])
    pays = SelectField(validators=[_required], validate_choice=False)

    FIELDS = ("nom", "prenom", "email", "telephone", "telecopie", "adresse", "cp", "ville", "pays")

    def __init__(self, texts: Texts, **kwargs: Any) -> None:
        super().__init__(prefix="buyer-", meta={"csrf": False}, **kwargs)
        self.texts = texts
        for name in self.FIELDS:
            self[name].label.text = getattr(texts, name)
        self.telecopie.label.text = f"{texts.telecopie} ({texts.optional})"
        names = countries(texts)
        self.pays.choices = [SelectChoice(code, name) for code, name in names]
        self._country_codes = {code for code, _ in names}

    def validate_pays(self, field: Any) -> None:
        if _value(field) not in self._country_codes:
            raise StopValidation(self.texts.invalid_choice)

    def details(self) -> dict[str, str]:
        """The values typed, trimmed, by protocol-like names (``nom``, ``prenom``...)."""
        return {name: _value(self[name]) for name in self.FIELDS}
