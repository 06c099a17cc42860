"""Confirmations: the form the platform POSTs to the shop after a payment.

The POST is the only message that changes an order (protocol document,
section 2), and nothing signs it, so :func:`parse_confirmation` reads it
strictly: every field it knows is checked, a field sent twice is refused, and
whatever the input it raises nothing but
:class:`~bluepaid_plugins.errors.ConfirmationError`. Checking that the values
belong to the shop and to the payment (``id_boutique``, ``divers``, the amount)
is the hub's job; this module only says what the message says.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from bluepaid_plugins.errors import ConfirmationError, Problem, ValidationError
from bluepaid_plugins.money import CURRENCIES, Money
from bluepaid_plugins.protocol.fields import unprintable


class Etat(StrEnum):
    """The outcome of a payment, field ``etat``."""

    OK = "ok"
    KO = "ko"
    ATTENTE = "attente"
    ANNU = "annu"


class Mode(StrEnum):
    """How the payment was made, field ``mode``: empty for a live payment."""

    LIVE = ""
    TEST = "test"
    REFUND = "r"


#: Every field a confirmation may carry, in the order :meth:`Confirmation.fields` sends them.
CONFIRMATION_FIELDS = (
    "etat",
    "mode",
    "id_trans",
    "id_client",
    "divers",
    "langue",
    "id_boutique",
    "montant",
    "devise",
    "num_abo",
    "num_prochaine_presentation",
    "fini",
)

_REQUIRED = ("etat", "id_trans", "id_client", "id_boutique", "montant", "devise")

# Longest value accepted per text field. id_trans and divers are the record's;
# the echoes follow the request's own limits; the rest is generous but bounded.
_MAX_LENGTH = {
    "id_trans": 64,
    "id_client": 64,
    "divers": 255,
    "langue": 8,
    "id_boutique": 32,
    "num_abo": 64,
}

# ASCII digits only: str.isdigit() and int() would also take other scripts' digits.
_INDEX = re.compile(r"[0-9]{1,9}")
_FINI = {"oui": True, "non": False, "": False}

# Value sets, because ``"x" in Etat`` raises TypeError on Python 3.11.
_ETATS = frozenset(etat.value for etat in Etat)
_MODES = frozenset(mode.value for mode in Mode)


@dataclass(frozen=True)
class Confirmation:
    """One confirmation, as read by :func:`parse_confirmation` or sent by the sandbox.

    ``num_abo``, ``num_prochaine_presentation`` and ``fini`` concern subscription
    debits only. Nothing is checked at construction: a value built by hand is
    only as good as its maker, one from :func:`parse_confirmation` is checked.
    """

    etat: Etat
    mode: Mode
    id_trans: str
    id_client: str
    id_boutique: str
    amount: Money
    divers: str = ""
    langue: str = ""
    num_abo: str = ""
    num_prochaine_presentation: int | None = None
    fini: bool = False

    def fields(self) -> dict[str, str]:
        """The form the platform POSTs, in :data:`CONFIRMATION_FIELDS` order.

        ``mode`` is always sent (empty for live), ``montant`` with a dot;
        ``num_abo`` and ``num_prochaine_presentation`` only when set, ``fini``
        only as ``oui``. For a checked confirmation, ``parse_confirmation`` of
        these fields gives back an equal one.
        """
        fields = {
            "etat": self.etat.value,
            "mode": self.mode.value,
            "id_trans": self.id_trans,
            "id_client": self.id_client,
            "divers": self.divers,
            "langue": self.langue,
            "id_boutique": self.id_boutique,
            "montant": str(self.amount),
            "devise": self.amount.currency,
        }
        if self.num_abo:
            fields["num_abo"] = self.num_abo
        if self.num_prochaine_presentation is not None:
            fields["num_prochaine_presentation"] = str(self.num_prochaine_presentation)
        if self.fini:
            fields["fini"] = "oui"
        return fields

    def return_params(self) -> dict[str, str]:
        """The GET parameters of the browser's return to ``url_retour_ok``.

        Information only: a return proves nothing, only the POST changes an order.
        """
        return {
            "id_client": self.id_client,
            "divers": self.divers,
            "etat": self.etat.value,
            "montant": str(self.amount),
            "mode": self.mode.value,
            "id_trans": self.id_trans,
        }


def _show(value: str) -> str:
    """A value quoted for a message, cut short: the sender may be anyone."""
    return repr(value) if len(value) <= 40 else repr(value[:40]) + "..."


def _text_problem(name: str, value: str) -> str | None:
    """Length and printability, the rules every text field shares."""
    limit = _MAX_LENGTH.get(name)
    if limit is not None and len(value) > limit:
        return f"is {len(value)} characters long; at most {limit} are allowed"
    return unprintable(value)


def _collect(pairs: Iterable[tuple[str, str]]) -> tuple[dict[str, str], list[Problem]]:
    """Known fields and their values, with a problem per field sent more than once.

    Unknown names are skipped here, duplicates included: the platform may add
    fields we have no use for, and we only act on what we check.
    """
    values: dict[str, str] = {}
    counts: dict[str, int] = {}
    problems: list[Problem] = []
    for pair in pairs:
        # The contract says pairs of text; a caller's mistake still gets our error.
        if not (isinstance(pair, tuple) and len(pair) == 2 and all(isinstance(p, str) for p in pair)):
            problems.append(Problem("form", "expected (name, value) pairs of text"))
            continue
        name, value = pair
        if name in CONFIRMATION_FIELDS:
            values[name] = value
            counts[name] = counts.get(name, 0) + 1
    for name in CONFIRMATION_FIELDS:
        if counts.get(name, 0) > 1:
            problems.append(
                Problem(
                    name,
                    f"sent {counts[name]} times; a confirmation carries each field once, "
                    "so none of the values can be trusted",
                )
            )
    return values, problems


def parse_confirmation(pairs: Iterable[tuple[str, str]]) -> Confirmation:
    """Read a confirmation POST from its raw ``(name, value)`` pairs.

    Take the pairs as sent (``MultiDict.items(multi=True)``, ``parse_qsl``) so
    that duplicates show. Raises :class:`~bluepaid_plugins.errors.ConfirmationError`
    listing every problem by field, and never any other exception, when:

    - ``etat``, ``id_trans``, ``id_client``, ``id_boutique``, ``montant`` or
      ``devise`` is missing or empty;
    - a known field is sent more than once, even with the same value;
    - ``etat`` is not one of ``ok ko attente annu``, ``mode`` not one of
      empty, ``test``, ``r`` (case matters);
    - ``devise`` is not one of :data:`~bluepaid_plugins.money.CURRENCIES`;
    - ``montant`` is not digits with at most one dot or comma (``36,60`` is
      fine) and no more decimals than the currency has; signs, exponents, other
      scripts' digits, ``NaN`` are refused;
    - a value holds a control or invisible character, or is too long
      (``id_trans`` 64, ``id_client`` 64, ``id_boutique`` 32, ``divers`` 255,
      ``langue`` 8, ``num_abo`` 64);
    - ``num_prochaine_presentation`` is not 1 to 9 ASCII digits (empty counts
      as not sent);
    - ``fini`` is not ``oui``, ``non`` or empty.

    A missing ``mode`` means a live payment. Names the protocol does not define
    are ignored: the platform may add fields, and nothing here acts on them.
    """
    values, problems = _collect(pairs)
    for name in _REQUIRED:
        if not values.get(name):
            needed = ", ".join(_REQUIRED)
            problems.append(Problem(name, f"is missing or empty; a confirmation must carry {needed}"))
    # A duplicated field has no one value to check; its problem is already reported.
    reported = {problem.field for problem in problems}
    checked = {name: value for name, value in values.items() if value and name not in reported}
    for name, value in checked.items():
        message = _text_problem(name, value)
        if message is not None:
            problems.append(Problem(name, message))
    faulty = {problem.field for problem in problems}
    usable = {name: value for name, value in checked.items() if name not in faulty}

    etat = usable.get("etat")
    if etat is not None and etat not in _ETATS:
        allowed = ", ".join(e.value for e in Etat)
        problems.append(Problem("etat", f"unknown etat {_show(etat)}; expected one of {allowed}"))
    mode = usable.get("mode", "")
    if mode not in _MODES:
        problems.append(
            Problem(
                "mode",
                f"unknown mode {_show(mode)}; expected empty (live payment), "
                "'test' (test card) or 'r' (refund)",
            )
        )
    devise = usable.get("devise")
    if devise is not None and devise not in CURRENCIES:
        allowed = ", ".join(sorted(CURRENCIES))
        problems.append(Problem("devise", f"unknown currency {_show(devise)}; use one of {allowed}"))
    amount: Money | None = None
    montant = usable.get("montant")
    if montant is not None and devise is not None and devise in CURRENCIES:
        try:
            amount = Money.parse(montant, devise)
        except ValidationError as exc:
            problems.extend(
                Problem("montant", f"{problem.message}; expected digits with one dot or comma")
                for problem in exc.problems
            )
    index: int | None = None
    num = usable.get("num_prochaine_presentation")
    if num is not None:
        if _INDEX.fullmatch(num):
            index = int(num)
        else:
            problems.append(
                Problem(
                    "num_prochaine_presentation",
                    f"{_show(num)} is not a debit index; expected 1 to 9 digits 0-9",
                )
            )
    fini = usable.get("fini", "")
    if fini not in _FINI:
        problems.append(Problem("fini", f"{_show(fini)} is not allowed; expected 'oui' or 'non'"))

    # Without problems etat and amount are set; the test says so to the type checker too.
    if problems or etat is None or amount is None:
        raise ConfirmationError(problems, "confirmation rejected")
    return Confirmation(
        etat=Etat(etat),
        mode=Mode(mode),
        id_trans=usable["id_trans"],
        id_client=usable["id_client"],
        id_boutique=usable["id_boutique"],
        amount=amount,
        divers=usable.get("divers", ""),
        langue=usable.get("langue", ""),
        num_abo=usable.get("num_abo", ""),
        num_prochaine_presentation=index,
        fini=_FINI[fini],
    )
