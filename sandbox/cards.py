"""Test cards: the only card numbers the sandbox accepts, and what each one does.

Bluepaid never published its test numbers, so the sandbox defines them (the
README has the table). Every number passes the Luhn check. Any other number
that passes it looks like a real card: the sandbox refuses it with a clear
message and never pretends to charge it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from stdnum import luhn


class CardType(StrEnum):
    CB = "CB"
    VISA = "VISA"
    MASTERCARD = "MASTERCARD"
    MAESTRO = "MAESTRO"


class Scenario(StrEnum):
    """What happens after the card step."""

    ACCEPTED = "accepted"
    REFUSED_CEILING = "refused_ceiling"  # the card's spending ceiling is reached
    REFUSED_COHERENCE = "refused_coherence"  # Bluepaid's coherence check says no
    PENDING_THEN_ACCEPTED = "pending_then_accepted"  # etat=attente now, ok after a delay
    CONFIRM_TWICE = "confirm_twice"  # the confirmation is delivered two times
    CONFIRM_LATE = "confirm_late"  # delivered after the browser is back at the shop
    CONFIRM_NEVER = "confirm_never"  # never delivered (the shop must cope)
    REFUND_LATER = "refund_later"  # accepted, then refunded in full after a delay
    RENEWALS_REFUSED = "renewals_refused"  # subscriptions: later debits refused
    RENEWAL_REFUSED_ONCE = "renewal_refused_once"  # subscriptions: each debit refused once, then accepted


@dataclass(frozen=True)
class SandboxCard:
    number: str
    type: CardType
    scenario: Scenario
    description: str


def _card(prefix: str, card_type: CardType, scenario: Scenario, description: str) -> SandboxCard:
    return SandboxCard(prefix + luhn.calc_check_digit(prefix), card_type, scenario, description)


TEST_CARDS: tuple[SandboxCard, ...] = (
    _card("497010000000000", CardType.CB, Scenario.ACCEPTED, "accepted"),
    _card("400000000000000", CardType.VISA, Scenario.ACCEPTED, "accepted"),
    _card("510000000000000", CardType.MASTERCARD, Scenario.ACCEPTED, "accepted"),
    _card("675900000000000", CardType.MAESTRO, Scenario.ACCEPTED, "accepted"),
    _card("400000000000010", CardType.VISA, Scenario.REFUSED_CEILING, "refused: spending ceiling reached"),
    _card("400000000000020", CardType.VISA, Scenario.REFUSED_COHERENCE, "refused by the coherence check"),
    _card("400000000000030", CardType.VISA, Scenario.PENDING_THEN_ACCEPTED, "pending, then accepted"),
    _card("400000000000040", CardType.VISA, Scenario.CONFIRM_TWICE, "accepted, confirmation sent twice"),
    _card("400000000000050", CardType.VISA, Scenario.CONFIRM_LATE, "accepted, confirmation sent late"),
    _card("400000000000060", CardType.VISA, Scenario.CONFIRM_NEVER, "accepted, confirmation never sent"),
    _card("400000000000070", CardType.VISA, Scenario.REFUND_LATER, "accepted, then refunded"),
    _card("400000000000080", CardType.VISA, Scenario.RENEWALS_REFUSED, "subscription: renewals refused"),
    _card(
        "400000000000090", CardType.VISA, Scenario.RENEWAL_REFUSED_ONCE, "subscription: renewal refused once"
    ),
)

_BY_NUMBER = {card.number: card for card in TEST_CARDS}


def normalize_number(text: str) -> str:
    """Digits only: buyers type spaces and dashes."""
    return re.sub(r"[\s-]", "", text)


def find_test_card(number: str) -> SandboxCard | None:
    return _BY_NUMBER.get(normalize_number(number))


def is_valid_number(number: str) -> bool:
    """12 to 19 digits passing the Luhn check."""
    digits = normalize_number(number)
    return digits.isdigit() and 12 <= len(digits) <= 19 and luhn.is_valid(digits)
