"""Confirmations as the platform sends them, for the requests a hub made.

Give :class:`Confirmations` the variables of one payment request (what the
hub sent the buyer to the platform with: ``in.php`` or ``ABOv2/in.php``) and
ask for what the platform would POST back: an accepted, refused, pending or
cancelled payment, a refund, a later debit of a subscription, and the
duplicate of any of them (the platform sends a confirmation again when its
first POST got no answer in time). Each message gets a transaction number of
its own unless one is given. The messages are built as
:class:`~bluepaid_plugins.protocol.Confirmation` values, so they are exactly
what the protocol module reads.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping

from bluepaid_plugins.money import Money
from bluepaid_plugins.protocol import Confirmation, Etat, Mode


class Confirmations:
    """The platform's confirmations for one payment request.

    ``request`` holds the request's variables, in the case the request used.
    ``test`` (default True) marks payments as made with a test card
    (``mode=test``), as the sandbox's test cards are.
    """

    def __init__(self, request: Mapping[str, str], *, test: bool = True) -> None:
        fields = {k.lower(): v for k, v in request.items()}
        self._fields = fields
        self._mode = Mode.TEST if test else Mode.LIVE
        self._numbers = itertools.count(1)
        self.subscription = "nb_occurences_max" in fields
        currency = fields["devise"]
        #: What the buyer pays first: the whole payment, or a subscription's first debit.
        self.first_debit = Money.parse(fields.get("montant_initial") or fields["montant"], currency)
        #: A subscription's amount per debit (the payment's amount for a single one).
        self.per_debit = Money.parse(fields["montant"], currency)

    def _build(self, etat: Etat, mode: Mode, amount: Money, id_trans: str, **extra: object) -> dict[str, str]:
        f = self._fields
        message = Confirmation(
            etat=etat,
            mode=mode,
            id_trans=id_trans or f"BP{next(self._numbers):012d}",
            id_client=f["id_client"],
            id_boutique=f["id_boutique"],
            amount=amount,
            divers=f["divers"],
            langue=f.get("langue", "FR"),
            **extra,  # type: ignore[arg-type]
        )
        return message.fields()

    def _first(self, etat: Etat, id_trans: str) -> dict[str, str]:
        extra: dict[str, object] = {}
        if self.subscription:
            extra = {"num_abo": "A0000000001", "num_prochaine_presentation": 2}
        return self._build(etat, self._mode, self.first_debit, id_trans, **extra)

    def accepted(self, id_trans: str = "") -> dict[str, str]:
        """The payment (a subscription's first debit) accepted: ``etat=ok``."""
        return self._first(Etat.OK, id_trans)

    def refused(self, id_trans: str = "") -> dict[str, str]:
        """The payment refused: ``etat=ko``."""
        return self._first(Etat.KO, id_trans)

    def pending(self, id_trans: str = "") -> dict[str, str]:
        """The payment waiting for the bank: ``etat=attente``."""
        return self._first(Etat.ATTENTE, id_trans)

    def cancelled(self, id_trans: str = "") -> dict[str, str]:
        """The payment cancelled: ``etat=annu``."""
        return self._first(Etat.ANNU, id_trans)

    def duplicate(self, message: Mapping[str, str]) -> dict[str, str]:
        """``message`` sent again, as the platform does when its first POST got no answer
        in time: the same variables, the same transaction number. A hub must record it
        once and change nothing."""
        fields = {k.lower(): v for k, v in message.items()}
        if fields.get("id_client") != self._fields["id_client"] or not fields.get("id_trans"):
            raise ValueError("duplicate() takes a message these confirmations built")
        return dict(message)

    def refund(self, amount: str = "", id_trans: str = "") -> dict[str, str]:
        """A refund of ``amount`` (default: the first debit), a transaction of its own
        confirmed with ``mode=r``."""
        refunded = Money.parse(amount, self.first_debit.currency) if amount else self.first_debit
        return self._build(Etat.OK, Mode.REFUND, refunded, id_trans)

    def debit(
        self,
        number: int,
        etat: Etat = Etat.OK,
        *,
        last: bool = False,
        num_abo: str = "A0000000001",
        id_trans: str = "",
    ) -> dict[str, str]:
        """Debit ``number`` (2 or more) of a subscription, of the per-debit amount;
        ``last`` marks the end of the schedule (``fini=oui``)."""
        if not self.subscription:
            raise ValueError("debits belong to a subscription request (ABOv2)")
        if number < 2:
            raise ValueError("the first debit is accepted() or refused(); later ones start at 2")
        return self._build(
            etat,
            self._mode,
            self.per_debit,
            id_trans,
            num_abo=num_abo,
            num_prochaine_presentation=number + 1,
            fini=last,
        )
