"""Payment requests: the variables a shop sends to the platform's payment page.

Two endpoints, two spellings (see the protocol document, section 1):

- ``in.php``, a single payment, lower-case variables, built by
  :class:`PaymentRequest` and checked by :func:`validate_payment_fields`;
- ``ABOv2/in.php``, a subscription or a payment in instalments, upper-case
  variables, built by :class:`SubscriptionRequest` and checked by
  :func:`validate_subscription_fields`.

Our objects take URLs *with* scheme (``https://shop.example/ok``), as every
other part of the project writes them. The platform wants them *without*
scheme plus a flag (``set_secure_return=1`` for https): :func:`split_url` and
:func:`join_url` convert between the two.

Validation never stops at the first fault: it returns (or raises, in a
:class:`~bluepaid_plugins.errors.ValidationError`) every
:class:`~bluepaid_plugins.errors.Problem` at once, each named after the
protocol variable, with a message a merchant can act on.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import urlencode

from bluepaid_plugins.errors import Problem, ValidationError
from bluepaid_plugins.money import CURRENCIES, Money, check_currency, currency_decimals

#: The platform's address; a sandbox or a test server replaces it.
PLATFORM_URL = "https://paiement-securise.bluepaid.com"

#: Payment page languages the historical modules sent (``langue``, upper case).
LANGUAGES = ("FR", "EN", "DE", "ES", "IT", "NL", "PT")

#: ``PERIODE_TYPE`` values: ``M`` month is historical; ``J`` (jour, day) and
#: ``S`` (semaine, week) are the sandbox's own definition, the record being silent.
PERIOD_TYPES = ("M", "J", "S")

#: ``TYPE_ABO`` values; only ``STANDARD`` was ever seen.
SUBSCRIPTION_TYPES = ("STANDARD",)

#: Single-payment variables, in the order of the logged request of the protocol document.
PAYMENT_FIELDS = (
    "id_boutique",
    "id_client",
    "montant",
    "devise",
    "langue",
    "divers",
    "email_client",
    "url_retour_ok",
    "url_retour_stop",
    "url_retour_bo",
    "set_secure_return",
    "set_secure_conf",
    "pays_liv",
    "nom",
    "prenom",
)

#: Subscription variables (``ABOv2/in.php``), in the order :meth:`SubscriptionRequest.fields` sends.
SUBSCRIPTION_FIELDS = (
    "ID_BOUTIQUE",
    "ID_CLIENT",
    "MONTANT",
    "MONTANT_INITIAL",
    "NB_OCCURENCES_MAX",
    "PERIODE_NB",
    "PERIODE_TYPE",
    "TYPE_ABO",
    "TOLERANCE_JOURS",
    "TOLERANCE_NBMAX",
    "DEVISE",
    "LANGUE",
    "DIVERS",
    "EMAIL_CLIENT",
    "URL_RETOUR_OK",
    "URL_RETOUR_STOP",
    "URL_RETOUR_BO",
    "SET_SECURE_RETURN",
    "SET_SECURE_CONF",
)

_PAYMENT_REQUIRED = ("id_boutique", "id_client", "montant", "devise")
_SUBSCRIPTION_REQUIRED = ("ID_BOUTIQUE", "ID_CLIENT", "MONTANT", "DEVISE", "NB_OCCURENCES_MAX")

# Bounds of the subscription counters. The record gives none; these are the
# sandbox's definition, wide enough for any real schedule and small enough that
# a typo (an extra digit) is caught.
_OCCURRENCES_MAX = 999
_PERIOD_COUNT_MAX = 99
_TOLERANCE_MAX = 99

_ID_BOUTIQUE = re.compile(r"[A-Za-z0-9_-]{1,32}")
_COUNTRY = re.compile(r"[A-Z]{3}")
_EMAIL_DOMAIN = re.compile(r"[^.@]+(?:\.[^.@]+)+")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")
_WHOLE_NUMBER = re.compile(r"[0-9]{1,6}")
_HOST_END = re.compile(r"[/?#]")

# A rule looks at one non-empty value and returns what is wrong with it, or None.
_Rule = Callable[[str], str | None]


def _show(value: str) -> str:
    """A value quoted for a message, cut short: messages must stay readable."""
    return repr(value) if len(value) <= 40 else repr(value[:40]) + "..."


def _unprintable(value: str) -> str | None:
    """Name the first control or invisible character of ``value``, if any."""
    for position, char in enumerate(value):
        if not char.isprintable():
            return (
                f"contains the control or invisible character U+{ord(char):04X} at position "
                f"{position}; only printable characters are allowed"
            )
    return None


def _text(max_length: int) -> _Rule:
    """Printable text (checked for every variable) of at most ``max_length`` characters."""

    def rule(value: str) -> str | None:
        if len(value) > max_length:
            return f"is {len(value)} characters long; at most {max_length} are allowed"
        return None

    return rule


def _id_boutique(value: str) -> str | None:
    """1 to 32 ASCII letters, digits, ``_`` or ``-`` (``21573www``)."""
    if _ID_BOUTIQUE.fullmatch(value):
        return None
    return (
        f"{_show(value)} is not a merchant id; expected 1 to 32 characters among "
        "A-Z, a-z, 0-9, '_' and '-', e.g. '21573www'"
    )


def _devise(value: str) -> str | None:
    """One of :data:`~bluepaid_plugins.money.CURRENCIES`."""
    try:
        check_currency(value)
    except ValidationError as exc:
        return "; ".join(problem.message for problem in exc.problems)
    return None


def _langue(value: str) -> str | None:
    """One of :data:`LANGUAGES`, upper case."""
    if value in LANGUAGES:
        return None
    if value.upper() in LANGUAGES:
        return f"{_show(value)} must be upper case: {value.upper()!r}"
    return f"unknown language {_show(value)}; use one of {', '.join(LANGUAGES)}"


def _email(value: str) -> str | None:
    """A plausible address: at most 128 characters, one ``@``, no spaces, a dotted domain."""
    if len(value) > 128:
        return f"is {len(value)} characters long; an e-mail address has at most 128"
    if any(char.isspace() for char in value):
        return f"{_show(value)} contains a space; expected an address like 'buyer@example.com'"
    local, _, domain = value.partition("@")
    if value.count("@") != 1 or not local or not _EMAIL_DOMAIN.fullmatch(domain):
        return (
            f"{_show(value)} is not an e-mail address; expected one '@' between a name and "
            "a domain, like 'buyer@example.com'"
        )
    return None


def _url(flag: str) -> _Rule:
    """A URL without scheme whose https/http choice travels in ``flag``.

    At most 512 characters, no whitespace, a non-empty host before the first
    ``/``, ``?`` or ``#``.
    """

    def rule(value: str) -> str | None:
        if _SCHEME.match(value):
            return (
                f"{_show(value)} starts with a scheme; the platform wants URLs without it, "
                f"e.g. 'shop.example/return', and {flag}=1 to use https"
            )
        if len(value) > 512:
            return f"is {len(value)} characters long; at most 512 are allowed"
        if any(char.isspace() for char in value):
            return f"{_show(value)} contains whitespace; encode spaces as %20"
        if not _HOST_END.split(value, maxsplit=1)[0]:
            return f"{_show(value)} has no host; expected 'host/path', e.g. 'shop.example/return'"
        return None

    return rule


def _flag(value: str) -> str | None:
    """``1`` (https) or ``0`` (http)."""
    if value in ("0", "1"):
        return None
    return f"{_show(value)} is not a flag; expected '1' for https or '0' for http"


def _pays(value: str) -> str | None:
    """An ISO 3166 alpha-3 code: three upper-case ASCII letters (``FRA``)."""
    if _COUNTRY.fullmatch(value):
        return None
    return f"{_show(value)} is not a country code; expected 3 upper-case letters, e.g. 'FRA'"


def _whole_number(low: int, high: int) -> _Rule:
    """ASCII digits only (no sign, no other script's digits), between ``low`` and ``high``."""

    def rule(value: str) -> str | None:
        if _WHOLE_NUMBER.fullmatch(value) and low <= int(value) <= high:
            return None
        return f"{_show(value)} is not allowed; expected a whole number from {low} to {high}"

    return rule


def _one_of(allowed: tuple[str, ...], meaning: str) -> _Rule:
    """Exactly one of ``allowed``."""

    def rule(value: str) -> str | None:
        if value in allowed:
            return None
        return f"unknown {meaning} {_show(value)}; use one of {', '.join(allowed)}"

    return rule


def _amount(value: str, currency: str) -> str | None:
    """An amount above zero in major units with a dot, exact to ``currency``'s decimals."""
    example = str(Money.from_minor(207, currency))
    if "," in value:
        return (
            f"{_show(value)} uses a decimal comma; requests use a dot, e.g. {example!r} "
            "(only confirmations may carry a comma)"
        )
    try:
        money = Money.parse(value, currency)
    except ValidationError as exc:
        found = "; ".join(problem.message for problem in exc.problems)
        places = currency_decimals(currency)
        return (
            f"{found}; expected major units with a dot and at most {places} decimals "
            f"for {currency}, e.g. {example!r}"
        )
    if money.minor == 0:
        return f"{_show(value)} is zero; a payment must be more than 0"
    return None


def _check(
    fields: Mapping[str, str],
    order: tuple[str, ...],
    rules: Mapping[str, _Rule],
    required: tuple[str, ...],
    amounts: tuple[str, ...],
    currency: str,
) -> list[Problem]:
    """Apply ``rules`` (and the amount rule to ``amounts``) to ``fields``.

    An empty value counts as not given: HTML forms send empty inputs, and the
    sandbox reads them as absent. Problems come in the order of ``order``,
    unknown variables last.
    """
    problems: list[Problem] = []
    devise = fields.get(currency)
    known_currency = devise if isinstance(devise, str) and devise in CURRENCIES else None
    for name in order:
        value = fields.get(name)
        if value is None or value == "":
            if name in required:
                needed = ", ".join(required)
                problems.append(Problem(name, f"is missing; a request must give {needed}"))
            continue
        if not isinstance(value, str):
            # Plugins edit the mapping at run time; a number slipped in is their bug to see.
            problems.append(Problem(name, f"must be text, not {type(value).__name__}"))
            continue
        message = _unprintable(value)
        if message is None and name in amounts:
            # Without a valid currency there is no number of decimals to check against;
            # the currency's own problem is reported under its name.
            message = _amount(value, known_currency) if known_currency else None
        elif message is None:
            message = rules[name](value)
        if message is not None:
            problems.append(Problem(name, message))
    upper_case = order[0].isupper()
    for name in fields:
        if name in order:
            continue
        shown = name if len(name) <= 40 else name[:40] + "..."
        other = name.upper() if upper_case else name.lower()
        if other in order:
            case = "upper" if upper_case else "lower"
            problems.append(Problem(shown, f"unknown variable; this endpoint's are {case} case: {other!r}"))
        else:
            problems.append(Problem(shown, f"unknown variable; expected one of {', '.join(order)}"))
    return problems


_PAYMENT_RULES: dict[str, _Rule] = {
    "id_boutique": _id_boutique,
    "id_client": _text(64),
    "devise": _devise,
    "langue": _langue,
    "divers": _text(255),
    "email_client": _email,
    "url_retour_ok": _url("set_secure_return"),
    "url_retour_stop": _url("set_secure_return"),
    "url_retour_bo": _url("set_secure_conf"),
    "set_secure_return": _flag,
    "set_secure_conf": _flag,
    "pays_liv": _pays,
    "nom": _text(64),
    "prenom": _text(64),
}

_SUBSCRIPTION_RULES: dict[str, _Rule] = {
    "ID_BOUTIQUE": _id_boutique,
    "ID_CLIENT": _text(64),
    "NB_OCCURENCES_MAX": _whole_number(1, _OCCURRENCES_MAX),
    "PERIODE_NB": _whole_number(1, _PERIOD_COUNT_MAX),
    "PERIODE_TYPE": _one_of(PERIOD_TYPES, "period type"),
    "TYPE_ABO": _one_of(SUBSCRIPTION_TYPES, "subscription type"),
    "TOLERANCE_JOURS": _whole_number(0, _TOLERANCE_MAX),
    "TOLERANCE_NBMAX": _whole_number(0, _TOLERANCE_MAX),
    "DEVISE": _devise,
    "LANGUE": _langue,
    "DIVERS": _text(255),
    "EMAIL_CLIENT": _email,
    "URL_RETOUR_OK": _url("SET_SECURE_RETURN"),
    "URL_RETOUR_STOP": _url("SET_SECURE_RETURN"),
    "URL_RETOUR_BO": _url("SET_SECURE_CONF"),
    "SET_SECURE_RETURN": _flag,
    "SET_SECURE_CONF": _flag,
}


def validate_payment_fields(fields: Mapping[str, str]) -> list[Problem]:
    """Every problem of a raw single-payment request (``in.php``), in protocol order.

    Used by the hub after plugins edited the fields, and by the sandbox for
    incoming requests. An empty list means the platform accepts the request.
    Names are case-sensitive (lower case). An empty value counts as not given.

    Rules:

    - ``id_boutique``, ``montant``, ``devise``, ``id_client`` are required;
    - a name outside :data:`PAYMENT_FIELDS` is a problem;
    - no value may hold a control or invisible character;
    - ``id_boutique``: 1 to 32 of ``A-Z a-z 0-9 _ -``;
    - ``montant``: major units with a dot (a comma is tolerated only in
      confirmations), no more decimals than ``devise`` has, more than 0; checked
      only once ``devise`` is valid;
    - ``devise``: one of :data:`~bluepaid_plugins.money.CURRENCIES`;
    - ``langue``: one of :data:`LANGUAGES`, upper case;
    - ``id_client``: at most 64 characters; ``divers``: at most 255;
    - ``email_client``: at most 128 characters, exactly one ``@`` between a
      non-empty name and a dotted domain, no spaces;
    - ``url_retour_ok``, ``url_retour_stop``, ``url_retour_bo``: no scheme, at most
      512 characters, no whitespace, a non-empty host;
    - ``set_secure_return``, ``set_secure_conf``: ``0`` or ``1``;
    - ``pays_liv``: three upper-case letters (ISO 3166 alpha-3);
    - ``nom``, ``prenom``: at most 64 characters.
    """
    return _check(fields, PAYMENT_FIELDS, _PAYMENT_RULES, _PAYMENT_REQUIRED, ("montant",), "devise")


def validate_subscription_fields(fields: Mapping[str, str]) -> list[Problem]:
    """Every problem of a raw subscription request (``ABOv2/in.php``), in protocol order.

    Names are case-sensitive (upper case). An empty value counts as not given.
    The same rules as :func:`validate_payment_fields` apply to the variables
    both endpoints share (``ID_BOUTIQUE``, ``ID_CLIENT``, ``MONTANT``, ``DEVISE``,
    ``LANGUE``, ``DIVERS``, ``EMAIL_CLIENT``, the URLs and ``SET_SECURE_*``), plus:

    - ``ID_BOUTIQUE``, ``ID_CLIENT``, ``MONTANT``, ``DEVISE``, ``NB_OCCURENCES_MAX``
      are required; a name outside :data:`SUBSCRIPTION_FIELDS` is a problem;
    - ``MONTANT_INITIAL`` (optional first debit): an amount like ``MONTANT``;
    - ``NB_OCCURENCES_MAX``: 1 to 999 debits; ``PERIODE_NB``: 1 to 99,
      1 when not given;
    - ``PERIODE_TYPE``: one of :data:`PERIOD_TYPES`, ``M`` when not given;
    - ``TYPE_ABO``: ``STANDARD``, which is also the value when not given;
    - ``TOLERANCE_JOURS``, ``TOLERANCE_NBMAX``: 0 to 99, 0 when not given; a
      refused debit re-presented (``TOLERANCE_NBMAX`` > 0) needs at least one
      day between attempts (``TOLERANCE_JOURS`` >= 1).

    The bounds and the defaults are the sandbox's definition: the record gives none.
    """
    problems = _check(
        fields,
        SUBSCRIPTION_FIELDS,
        _SUBSCRIPTION_RULES,
        _SUBSCRIPTION_REQUIRED,
        ("MONTANT", "MONTANT_INITIAL"),
        "DEVISE",
    )
    retries = fields.get("TOLERANCE_NBMAX", "")
    days = fields.get("TOLERANCE_JOURS", "") or "0"
    faulty = {problem.field for problem in problems}
    if (
        retries
        and not {"TOLERANCE_NBMAX", "TOLERANCE_JOURS"} & faulty
        and int(retries) > 0
        and int(days) == 0
    ):
        problems.append(
            Problem(
                "TOLERANCE_JOURS",
                f"is 0 while TOLERANCE_NBMAX={retries}; re-presenting a refused debit "
                "needs at least 1 day between attempts",
            )
        )
    return problems


def split_url(url: str, field: str = "url") -> tuple[str, bool]:
    """``https://shop.example/ok`` -> ``("shop.example/ok", True)``.

    The scheme is matched case-insensitively. Raises ValidationError, naming
    ``field``, for any scheme but http and https or for nothing after the scheme.
    The rest of the value is checked by the ``validate_*`` functions.
    """
    scheme, separator, rest = url.partition("://")
    if not separator or scheme.lower() not in ("http", "https"):
        raise ValidationError(Problem(field, f"{_show(url)} must start with https:// or http://"))
    if not rest:
        raise ValidationError(Problem(field, f"{_show(url)} has nothing after the scheme"))
    return rest, scheme.lower() == "https"


def join_url(value: str, secure: bool) -> str:
    """The inverse of :func:`split_url`: ``("shop.example/ok", True)`` -> ``https://shop.example/ok``."""
    return f"{'https' if secure else 'http'}://{value}"


def _endpoint(platform: str, path: str) -> str:
    # A trailing slash on the configured platform address must not double the separator.
    return f"{platform.rstrip('/')}/{path}"


def _place_urls(
    fields: dict[str, str],
    problems: list[Problem],
    returns: tuple[tuple[str, str], tuple[str, str]],
    confirmation: tuple[str, str],
    flags: tuple[str, str],
) -> None:
    """Add URLs without scheme and their secure flags to ``fields``.

    ``returns`` and ``confirmation`` pair each variable name with the full URL
    given (empty: not sent). Both return URLs share one flag, so their schemes
    must agree. Without a confirmation URL the confirmation flag still goes out,
    as ``1``: it then concerns the URL registered in the merchant area, and the
    logged request shows modules asking for https there.
    """
    return_flag, conf_flag = flags
    secure: dict[str, bool] = {}
    for name, url in (*returns, confirmation):
        if not url:
            continue
        try:
            fields[name], secure[name] = split_url(url, name)
        except ValidationError as exc:
            problems.extend(exc.problems)
    given = [(name, secure[name]) for name, _ in returns if name in secure]
    if given:
        first_name, first_secure = given[0]
        fields[return_flag] = "1" if first_secure else "0"
        for name, is_https in given[1:]:
            if is_https != first_secure:
                problems.append(
                    Problem(
                        name,
                        f"is {'https' if is_https else 'http'} but {first_name} is "
                        f"{'https' if first_secure else 'http'}; both return URLs share "
                        f"{return_flag}, so give them the same scheme",
                    )
                )
    fields[conf_flag] = "1" if secure.get(confirmation[0], True) else "0"


@dataclass(frozen=True)
class PaymentRequest:
    """A single payment (``in.php``), as the hub builds it for one order.

    URLs are given with scheme (``https://shop.example/ok``); empty means not
    sent. Nothing is checked at construction: :meth:`fields` checks everything
    and reports every problem at once.
    """

    id_boutique: str
    amount: Money
    id_client: str
    divers: str = ""
    langue: str = "FR"
    email_client: str = ""
    url_retour_ok: str = ""
    url_retour_stop: str = ""
    url_retour_bo: str = ""
    pays_liv: str = ""
    nom: str = ""
    prenom: str = ""

    def fields(self) -> dict[str, str]:
        """The protocol variables, in the order of the logged request.

        ``id_boutique, id_client, montant, devise, langue, divers, email_client,
        url_retour_ok, url_retour_stop, url_retour_bo, set_secure_return,
        set_secure_conf, pays_liv, nom, prenom``; empty optional values are left
        out. URLs go without scheme; their scheme sets ``set_secure_return`` (one
        flag for both return URLs) and ``set_secure_conf`` (``1`` when there is no
        ``url_retour_bo``: it then concerns the confirmation URL registered in the
        merchant area, and we ask for https). Raises ValidationError listing every problem, by
        variable name, if the platform would refuse the result
        (:func:`validate_payment_fields`) or if the two return URLs disagree on
        the scheme.
        """
        fields = {
            "id_boutique": self.id_boutique,
            "id_client": self.id_client,
            "montant": str(self.amount),
            "devise": self.amount.currency,
            "langue": self.langue,
            "divers": self.divers,
            "email_client": self.email_client,
        }
        problems: list[Problem] = []
        _place_urls(
            fields,
            problems,
            (("url_retour_ok", self.url_retour_ok), ("url_retour_stop", self.url_retour_stop)),
            ("url_retour_bo", self.url_retour_bo),
            ("set_secure_return", "set_secure_conf"),
        )
        fields.update(pays_liv=self.pays_liv, nom=self.nom, prenom=self.prenom)
        fields = {name: value for name, value in fields.items() if value}
        problems.extend(validate_payment_fields(fields))
        if problems:
            raise ValidationError(_in_order(problems, PAYMENT_FIELDS), "invalid payment request")
        return fields

    def url(self, platform: str = PLATFORM_URL) -> str:
        """The GET address that starts the payment: ``{platform}/in.php?...``."""
        return f"{self.action(platform)}?{urlencode(self.fields())}"

    def action(self, platform: str = PLATFORM_URL) -> str:
        """The ``action`` of a POST form that starts the payment: ``{platform}/in.php``."""
        return _endpoint(platform, "in.php")


@dataclass(frozen=True)
class SubscriptionRequest:
    """A subscription or a payment in instalments (``ABOv2/in.php``).

    ``amount`` is charged ``occurrences`` times, every ``period_count``
    ``period_type`` units (``M`` month, historical; ``J`` day and ``S`` week are
    the sandbox's definition). ``initial_amount``, when given, replaces the
    first debit and must be in the same currency. A refused debit is presented
    again up to ``tolerance_max`` times, ``tolerance_days`` apart. URLs are given
    with scheme; empty means not sent. :meth:`fields` checks everything.
    """

    id_boutique: str
    amount: Money
    id_client: str
    occurrences: int
    period_count: int = 1
    period_type: str = "M"
    initial_amount: Money | None = None
    type_abo: str = "STANDARD"
    tolerance_days: int = 0
    tolerance_max: int = 0
    divers: str = ""
    langue: str = "FR"
    email_client: str = ""
    url_retour_ok: str = ""
    url_retour_stop: str = ""
    url_retour_bo: str = ""

    def fields(self) -> dict[str, str]:
        """The upper-case protocol variables, in :data:`SUBSCRIPTION_FIELDS` order.

        Counters are always sent, empty optional texts left out. URLs go without
        scheme. The secure flags are not in the record for ABOv2; we send them as
        ``SET_SECURE_RETURN`` / ``SET_SECURE_CONF``, upper case like every ABOv2
        variable, with the same meaning as on ``in.php``, and the sandbox reads
        them so. Raises ValidationError listing every problem, by variable name
        (:func:`validate_subscription_fields`, a scheme disagreement, an initial
        amount in another currency).
        """
        problems: list[Problem] = []
        initial = ""
        if self.initial_amount is not None:
            initial = str(self.initial_amount)
            if self.initial_amount.currency != self.amount.currency:
                problems.append(
                    Problem(
                        "MONTANT_INITIAL",
                        f"is in {self.initial_amount.currency} but MONTANT is in "
                        f"{self.amount.currency}; both debits use the one DEVISE",
                    )
                )
        fields = {
            "ID_BOUTIQUE": self.id_boutique,
            "ID_CLIENT": self.id_client,
            "MONTANT": str(self.amount),
            "MONTANT_INITIAL": initial,
            "NB_OCCURENCES_MAX": str(self.occurrences),
            "PERIODE_NB": str(self.period_count),
            "PERIODE_TYPE": self.period_type,
            "TYPE_ABO": self.type_abo,
            "TOLERANCE_JOURS": str(self.tolerance_days),
            "TOLERANCE_NBMAX": str(self.tolerance_max),
            "DEVISE": self.amount.currency,
            "LANGUE": self.langue,
            "DIVERS": self.divers,
            "EMAIL_CLIENT": self.email_client,
        }
        _place_urls(
            fields,
            problems,
            (("URL_RETOUR_OK", self.url_retour_ok), ("URL_RETOUR_STOP", self.url_retour_stop)),
            ("URL_RETOUR_BO", self.url_retour_bo),
            ("SET_SECURE_RETURN", "SET_SECURE_CONF"),
        )
        fields = {name: value for name, value in fields.items() if value}
        problems.extend(validate_subscription_fields(fields))
        if problems:
            raise ValidationError(_in_order(problems, SUBSCRIPTION_FIELDS), "invalid subscription request")
        return fields

    def url(self, platform: str = PLATFORM_URL) -> str:
        """The GET address that starts the subscription: ``{platform}/ABOv2/in.php?...``."""
        return f"{self.action(platform)}?{urlencode(self.fields())}"

    def action(self, platform: str = PLATFORM_URL) -> str:
        """The ``action`` of a POST form: ``{platform}/ABOv2/in.php``."""
        return _endpoint(platform, "ABOv2/in.php")


def _in_order(problems: list[Problem], order: tuple[str, ...]) -> list[Problem]:
    """``problems`` sorted by variable in protocol order, each field's own order kept."""
    return sorted(problems, key=lambda p: order.index(p.field) if p.field in order else len(order))
