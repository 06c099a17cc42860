"""Shopware 6's ``order_transaction.state`` state machine, as its migrations install it.

Transcribed from shopware/shopware (trunk, 6.6) ``src/Core/Migration``:
``V6_3/Migration1536233560BasicData.php`` (the first states and the ``pay``,
``pay_partially``, ``remind``, ``refund``, ``refund_partially``, ``cancel``,
``reopen`` actions), ``V6_3/Migration1580746806AddPaymentStates.php``
(``in_progress`` and ``failed``, ``do_pay``, ``fail``, ``paid``,
``paid_partially``, more ``reopen``), ``V6_3/Migration1587461582AddOpenToPaidTransition.php``,
``V6_3/Migration1591361320ChargebackAndAuthorized.php``,
``V6_3/Migration1600769357AddTransition.php`` (cancelled -> paid) and
``V6_4/Migration1628519513AddUnconfirmedTransactionState.php``. The action
names are ``StateMachineTransitionActions``'s; there is no ``process`` action
in this machine (that one is the order's): ``do_pay`` leads to ``in_progress``.

How ``StateMachineRegistry::transition`` (``src/Core/System/StateMachine``)
applies an action: an action whose destination is the current state changes
nothing and is no error (since 6.4.4, "unnecessary transition"); before 6.7
``cancel`` is accepted from every state; any other action not listed for the
current state is answered 400 ``SYSTEM__ILLEGAL_STATE_TRANSITION``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

#: state -> {action: state it leads to}.
TRANSITIONS: Mapping[str, Mapping[str, str]] = {
    "open": {
        "pay": "paid",
        "paid": "paid",
        "pay_partially": "paid_partially",
        "paid_partially": "paid_partially",
        "cancel": "cancelled",
        "remind": "reminded",
        "do_pay": "in_progress",
        "fail": "failed",
        "authorize": "authorized",
        "process_unconfirmed": "unconfirmed",
    },
    "reminded": {
        "pay": "paid",
        "pay_partially": "paid_partially",
        "cancel": "cancelled",
        "reopen": "open",
        "do_pay": "in_progress",
        "authorize": "authorized",
        "process_unconfirmed": "unconfirmed",
    },
    "in_progress": {
        "reopen": "open",
        "fail": "failed",
        "cancel": "cancelled",
        "paid": "paid",
        "paid_partially": "paid_partially",
        "pay_partially": "paid_partially",
        "authorize": "authorized",
    },
    "unconfirmed": {
        "paid": "paid",
        "paid_partially": "paid_partially",
        "fail": "failed",
        "cancel": "cancelled",
        "authorize": "authorized",
        "reopen": "open",
    },
    "failed": {
        "reopen": "open",
        "do_pay": "in_progress",
        "pay": "paid",
        "paid": "paid",
        "fail": "failed",
        "paid_partially": "paid_partially",
        "pay_partially": "paid_partially",
        "process_unconfirmed": "unconfirmed",
    },
    "authorized": {
        "paid": "paid",
        "paid_partially": "paid_partially",
        "fail": "failed",
        "cancel": "cancelled",
    },
    "paid_partially": {
        "remind": "reminded",
        "pay": "paid",
        "refund_partially": "refunded_partially",
        "refund": "refunded",
        "cancel": "cancelled",
        "reopen": "open",
        "do_pay": "in_progress",
        "chargeback": "chargeback",
        "process_unconfirmed": "unconfirmed",
    },
    "paid": {
        "refund_partially": "refunded_partially",
        "refund": "refunded",
        "cancel": "cancelled",
        "reopen": "open",
        "chargeback": "chargeback",
    },
    "chargeback": {"paid": "paid", "paid_partially": "paid_partially", "cancel": "cancelled"},
    "refunded_partially": {"refund": "refunded", "cancel": "cancelled", "reopen": "open"},
    "cancelled": {
        "reopen": "open",
        "refund": "refunded",
        "refund_partially": "refunded_partially",
        "paid": "paid",
        "process_unconfirmed": "unconfirmed",
    },
    "refunded": {},
}

#: The state each action leads to, whatever the state it leaves (each action has one).
DESTINATIONS: Mapping[str, str] = {
    action: target for actions in TRANSITIONS.values() for action, target in actions.items()
}

#: For a state added by a plugin, or a path the table lacks: the action Shopware is asked
#: for, by the state it should lead to (it answers whether that state machine allows it).
DEFAULT_ACTIONS: Mapping[str, str] = {
    "paid": "paid",
    "paid_partially": "paid_partially",
    "failed": "fail",
    "cancelled": "cancel",
    "refunded": "refund",
    "refunded_partially": "refund_partially",
    "open": "reopen",
    "in_progress": "do_pay",
    "reminded": "remind",
    "authorized": "authorize",
    "chargeback": "chargeback",
    "unconfirmed": "process_unconfirmed",
}


def path(now: str, target: str) -> Sequence[str] | None:
    """The actions that move a transaction from ``now`` to ``target``: one when the table
    has it, ``reopen`` first when only the open state leads there, else the default action
    (Shopware judges); None when no action is known to reach ``target``."""
    direct = _action(now, target)
    if direct is not None:
        return (direct,)
    via_open = _action("open", target)
    if "reopen" in TRANSITIONS.get(now, {}) and via_open is not None:
        return ("reopen", via_open)
    default = DEFAULT_ACTIONS.get(target)
    return None if default is None else (default,)


def _action(now: str, target: str) -> str | None:
    """The action from ``now`` to ``target``: the one Shopware's own code uses
    (``OrderTransactionStateHandler``: ``paid``, ``fail``...) where the state allows it,
    else another one leading there (``pay``, from reminded)."""
    actions = TRANSITIONS.get(now, {})
    default = DEFAULT_ACTIONS.get(target)
    if default is not None and actions.get(default) == target:
        return default
    return next((a for a, to in actions.items() if to == target), None)
