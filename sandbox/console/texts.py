"""What the console calls the values it stores: states, kinds, modes, mail results,
test card outcomes, in the page's language.

The database keeps these values in English words (``accepted``, ``not sent:
SMTP not configured``): they are the platform's record and its API. A page
shows each through the functions here; a value they do not know (one added
later) is shown as stored rather than hidden.
"""

from __future__ import annotations

from bluepaid_locales import pgettext
from sandbox import mail
from sandbox.cards import Scenario
from sandbox.models import DeliveryState, Mode, TxKind, TxStatus
from sandbox.subscriptions import SubState

# How sandbox.mail starts the result of a mail the SMTP server refused.
_FAILED = "failed: "


def status_name(status: str) -> str:
    """A transaction's status (:class:`~sandbox.models.TxStatus`)."""
    names = {
        TxStatus.OPEN.value: pgettext("transaction status", "open"),
        TxStatus.PENDING.value: pgettext("transaction status", "pending"),
        TxStatus.ACCEPTED.value: pgettext("transaction status", "accepted"),
        TxStatus.REFUSED.value: pgettext("transaction status", "refused"),
        TxStatus.ABANDONED.value: pgettext("transaction status", "abandoned"),
        TxStatus.BLOCKED.value: pgettext("transaction status", "blocked"),
    }
    return names.get(status, status)


def kind_name(kind: str) -> str:
    """A transaction's kind (:class:`~sandbox.models.TxKind`)."""
    names = {
        TxKind.PAYMENT.value: pgettext("transaction kind", "payment"),
        TxKind.DEBIT.value: pgettext("transaction kind", "subscription debit"),
        TxKind.REFUND.value: pgettext("transaction kind", "refund"),
    }
    return names.get(kind, kind)


def delivery_state_name(state: str) -> str:
    """A confirmation's state (:class:`~sandbox.models.DeliveryState`)."""
    names = {
        DeliveryState.SCHEDULED.value: pgettext("confirmation state", "scheduled"),
        DeliveryState.SENT.value: pgettext("confirmation state", "sent"),
        DeliveryState.FAILED.value: pgettext("confirmation state", "failed"),
        DeliveryState.WITHHELD.value: pgettext("confirmation state", "withheld"),
    }
    return names.get(state, state)


def subscription_state_name(state: str) -> str:
    """A subscription's state (:class:`~sandbox.subscriptions.SubState`)."""
    names = {
        SubState.ACTIVE.value: pgettext("subscription state", "active"),
        SubState.FINISHED.value: pgettext("subscription state", "finished"),
        SubState.DELETED.value: pgettext("subscription state", "deleted"),
    }
    return names.get(state, state)


def mode_name(mode: str) -> str:
    """An account's mode (:class:`~sandbox.models.Mode`)."""
    names = {
        Mode.TEST.value: pgettext("account mode", "test"),
        Mode.PRODUCTION.value: pgettext("account mode", "production"),
    }
    return names.get(mode, mode)


def smtp_result_text(result: str) -> str:
    """What became of a mail (:mod:`sandbox.mail`): ``sent``, ``queued``, ``not sent:
    …``, or ``failed: <the SMTP server's words>``, the server's words kept as they came."""
    names = {
        mail.SENT: pgettext("mail", "sent"),
        mail.QUEUED: pgettext("mail", "queued"),
        mail.NOT_CONFIGURED: pgettext("mail", "not sent: SMTP not configured"),
        mail.NO_ADDRESS: pgettext("mail", "not sent: no address"),
    }
    if result in names:
        return names[result]
    if result.startswith(_FAILED):
        return pgettext("mail", "failed: %(reason)s", reason=result.removeprefix(_FAILED))
    return result


def card_outcome(scenario: str) -> str:
    """What a test card does (:class:`~sandbox.cards.Scenario`)."""
    names = {
        Scenario.ACCEPTED.value: pgettext("test card", "accepted"),
        Scenario.REFUSED_CEILING.value: pgettext("test card", "refused: spending ceiling reached"),
        Scenario.REFUSED_COHERENCE.value: pgettext("test card", "refused by the coherence check"),
        Scenario.PENDING_THEN_ACCEPTED.value: pgettext("test card", "pending, then accepted"),
        Scenario.CONFIRM_TWICE.value: pgettext("test card", "accepted, confirmation sent twice"),
        Scenario.CONFIRM_LATE.value: pgettext("test card", "accepted, confirmation sent late"),
        Scenario.CONFIRM_NEVER.value: pgettext("test card", "accepted, confirmation never sent"),
        Scenario.REFUND_LATER.value: pgettext("test card", "accepted, then refunded"),
        Scenario.RENEWALS_REFUSED.value: pgettext("test card", "subscription: renewals refused"),
        Scenario.RENEWAL_REFUSED_ONCE.value: pgettext("test card", "subscription: renewal refused once"),
    }
    return names.get(scenario, scenario)
