"""Subscription requests (``ABOv2/in.php``): a subscription or a payment in instalments.

Upper-case variables (see the protocol document, section 1), built by
:class:`SubscriptionRequest` and checked by :func:`validate_subscription_fields`.
The variables both endpoints share follow the rules of
:mod:`~bluepaid_plugins.protocol.fields`, as on ``in.php``
(:mod:`~bluepaid_plugins.protocol.request`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlencode

from bluepaid_plugins.errors import Problem
from bluepaid_plugins.money import Money
from bluepaid_plugins.protocol.fields import (
    PLATFORM_URL,
    Rule,
    check_fields,
    checked_fields,
    currency_code,
    email_address,
    endpoint_url,
    language,
    merchant_id,
    one_of,
    place_urls,
    secure_flag,
    text,
    url_without_scheme,
    whole_number,
)

#: ``PERIODE_TYPE`` values: ``M`` month is historical; ``J`` (jour, day) and
#: ``S`` (semaine, week) are the sandbox's own definition, the record being silent.
PERIOD_TYPES = ("M", "J", "S")

#: ``TYPE_ABO`` values; only ``STANDARD`` was ever seen.
SUBSCRIPTION_TYPES = ("STANDARD",)

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

_SUBSCRIPTION_REQUIRED = ("ID_BOUTIQUE", "ID_CLIENT", "MONTANT", "DEVISE", "NB_OCCURENCES_MAX")

# Bounds of the subscription counters. The record gives none; these are the
# sandbox's definition, wide enough for any real schedule and small enough that
# a typo (an extra digit) is caught.
_OCCURRENCES_MAX = 999
_PERIOD_COUNT_MAX = 99
_TOLERANCE_MAX = 99

_SUBSCRIPTION_RULES: dict[str, Rule] = {
    "ID_BOUTIQUE": merchant_id,
    "ID_CLIENT": text(64),
    "NB_OCCURENCES_MAX": whole_number(1, _OCCURRENCES_MAX),
    "PERIODE_NB": whole_number(1, _PERIOD_COUNT_MAX),
    "PERIODE_TYPE": one_of(PERIOD_TYPES, "period type"),
    "TYPE_ABO": one_of(SUBSCRIPTION_TYPES, "subscription type"),
    "TOLERANCE_JOURS": whole_number(0, _TOLERANCE_MAX),
    "TOLERANCE_NBMAX": whole_number(0, _TOLERANCE_MAX),
    "DEVISE": currency_code,
    "LANGUE": language,
    "DIVERS": text(255),
    "EMAIL_CLIENT": email_address,
    "URL_RETOUR_OK": url_without_scheme("SET_SECURE_RETURN"),
    "URL_RETOUR_STOP": url_without_scheme("SET_SECURE_RETURN"),
    "URL_RETOUR_BO": url_without_scheme("SET_SECURE_CONF"),
    "SET_SECURE_RETURN": secure_flag,
    "SET_SECURE_CONF": secure_flag,
}


def validate_subscription_fields(fields: Mapping[str, str]) -> list[Problem]:
    """Every problem of a raw subscription request (``ABOv2/in.php``), in protocol order.

    Names are case-sensitive (upper case). An empty value counts as not given.
    The same rules as :func:`~bluepaid_plugins.protocol.request.validate_payment_fields`
    apply to the variables both endpoints share (``ID_BOUTIQUE``, ``ID_CLIENT``,
    ``MONTANT``, ``DEVISE``, ``LANGUE``, ``DIVERS``, ``EMAIL_CLIENT``, the URLs and
    ``SET_SECURE_*``), plus:

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
    problems = check_fields(
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
        place_urls(
            fields,
            problems,
            (("URL_RETOUR_OK", self.url_retour_ok), ("URL_RETOUR_STOP", self.url_retour_stop)),
            ("URL_RETOUR_BO", self.url_retour_bo),
            ("SET_SECURE_RETURN", "SET_SECURE_CONF"),
        )
        return checked_fields(
            fields,
            problems,
            validate_subscription_fields,
            SUBSCRIPTION_FIELDS,
            "invalid subscription request",
        )

    def url(self, platform: str = PLATFORM_URL) -> str:
        """The GET address that starts the subscription: ``{platform}/ABOv2/in.php?...``."""
        return f"{self.action(platform)}?{urlencode(self.fields())}"

    def action(self, platform: str = PLATFORM_URL) -> str:
        """The ``action`` of a POST form: ``{platform}/ABOv2/in.php``."""
        return endpoint_url(platform, "ABOv2/in.php")
