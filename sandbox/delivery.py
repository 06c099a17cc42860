"""Confirmations: the POSTs the sandbox sends to a shop, and their record.

Every confirmation is a :class:`~sandbox.models.Delivery` row
first, written in the same database transaction as the outcome it reports,
then sent:

- :func:`schedule` records one due at ``now + delay`` (or *withheld* when the
  transaction has no confirmation URL);
- :func:`withhold` records one that is never sent (the "never delivered" test
  card), so the console still shows what would have gone out;
- :func:`deliver_now` sends one right after its transaction committed (the
  card step does this before redirecting the browser);
- :func:`deliver_due` sends every scheduled one whose time has come (the
  sandbox's background loop and ``bluepaid sandbox tick`` call it).

Sending rules (the record is silent on the platform's HTTP client; these are
the sandbox's):

- one form-encoded POST, fields in protocol order, from the sandbox's own
  client with ``config.delivery_timeout``, no redirects followed, proxy
  environment variables ignored (the platform posted straight to the shop);
- any HTTP answer, whatever its status, makes the delivery *sent* and is kept
  (status, first 500 characters of the body); no answer (connection refused,
  timeout, a URL the HTTP client cannot use, any other error while sending)
  makes it *failed* with the error kept: the outcome is already committed, and
  a confirmation that could not go out must never break the card step or the
  background loop;
- **no retries**: Bluepaid sent each confirmation once, and a shop has to cope
  with a lost one (the "never delivered" test card exists to practise that);
- a delivery is *claimed* before it is sent, by a conditional update out of
  *scheduled* in its own transaction, so two sandbox processes never send the
  same one. The claim writes the pessimistic outcome (failed, "sending
  interrupted"); the answer then replaces it, so a process that dies mid-send
  leaves an honest record.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import requests
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bluepaid_plugins.money import Money
from bluepaid_plugins.protocol import Confirmation, Etat, Mode
from sandbox import mail
from sandbox.models import Delivery, DeliveryState, Subscription, Transaction, TxStatus
from sandbox.platform import Platform

#: How much of the shop's answer is kept.
ANSWER_EXCERPT = 500

#: What a claimed delivery says until its answer is recorded.
INTERRUPTED = "sending interrupted: the sandbox process stopped before the shop answered"

NO_CONFIRMATION_URL = "no confirmation URL"

USER_AGENT = "Bluepaid-sandbox/1 (confirmation)"


def build_confirmation(
    tx: Transaction,
    *,
    etat: str,
    mode: str | None = None,
    amount: Money | None = None,
    subscription: Subscription | None = None,
    next_index: int | None = None,
    fini: bool = False,
) -> Confirmation:
    """The confirmation of ``tx``; ``.fields()`` is the form POSTed to the shop, and
    :meth:`~bluepaid_plugins.protocol.Confirmation.return_params` the browser return.

    ``etat`` is ``ok``, ``ko``, ``attente`` or ``annu``. ``mode`` defaults to
    ``test`` for a transaction paid with a test card (``tx.test``, which every
    sandbox payment is) and empty otherwise; pass ``"r"`` for a refund.
    ``amount`` defaults to ``tx.amount``. Subscription debits pass
    ``subscription`` (its ``num_abo`` goes out), ``next_index``
    (``num_prochaine_presentation``) and ``fini`` (``fini=oui`` when the
    schedule is over). ``id_client``, ``divers`` and ``langue`` echo the request.
    """
    return Confirmation(
        etat=Etat(etat),
        mode=Mode(mode if mode is not None else (Mode.TEST if tx.test else Mode.LIVE)),
        id_trans=tx.id_trans,
        id_client=tx.id_client,
        id_boutique=tx.id_boutique,
        amount=amount if amount is not None else tx.amount,
        divers=tx.divers,
        langue=tx.langue,
        num_abo=subscription.num_abo if subscription is not None else "",
        num_prochaine_presentation=next_index,
        fini=fini,
    )


def schedule(
    platform: Platform,
    session: Session,
    tx: Transaction,
    fields: dict[str, str],
    *,
    delay: float = 0.0,
    note: str = "",
) -> Delivery:
    """Record a confirmation of ``tx`` due ``delay`` seconds from now, to ``tx.url_confirm``.

    Added to ``session`` and flushed (its ``id`` is set); nothing is sent until
    :func:`deliver_now` or :func:`deliver_due` runs after the commit. A
    transaction without a confirmation URL (none in the request, none in the
    account) gets a *withheld* delivery noted "no confirmation URL" instead:
    the merchant then learns the outcome from the mails only, as on Bluepaid.
    """
    if not tx.url_confirm:
        return withhold(platform, session, tx, fields, NO_CONFIRMATION_URL)
    return _record(platform, session, tx, fields, DeliveryState.SCHEDULED, delay, note)


def withhold(
    platform: Platform, session: Session, tx: Transaction, fields: dict[str, str], note: str
) -> Delivery:
    """Record a confirmation that is never sent, with why, for the console."""
    return _record(platform, session, tx, fields, DeliveryState.WITHHELD, 0.0, note)


def _record(
    platform: Platform,
    session: Session,
    tx: Transaction,
    fields: dict[str, str],
    state: DeliveryState,
    delay: float,
    note: str,
) -> Delivery:
    delivery = Delivery(
        transaction_id=tx.id,
        url=tx.url_confirm,
        fields=dict(fields),
        due_at=platform.now(session) + timedelta(seconds=delay),
        state=state.value,
        note=note[:255],
        answer_body="",
    )
    session.add(delivery)
    session.flush()
    return delivery


def deliver_due(platform: Platform) -> int:
    """POST every scheduled confirmation whose time has come; return how many were tried.

    Oldest first. Each one is claimed before it is sent, so a delivery another
    process claimed meanwhile is skipped and not counted.
    """
    now = platform.now()
    with platform.db.transaction() as session:
        due = session.scalars(
            select(Delivery.id)
            .where(Delivery.state == DeliveryState.SCHEDULED.value, Delivery.due_at <= now)
            .order_by(Delivery.due_at, Delivery.id)
        ).all()
    return sum(_deliver(platform, delivery_id, now) for delivery_id in due)


def deliver_now(platform: Platform, delivery_id: int) -> None:
    """POST one confirmation now, if it is still scheduled and due.

    Call it after the transaction that scheduled it committed: the shop may
    act on the POST at once. A delivery already claimed elsewhere, withheld,
    or not yet due (a late one) is left alone.
    """
    _deliver(platform, delivery_id, platform.now())


@dataclass(frozen=True)
class _Claimed:
    url: str
    fields: dict[str, str]


def _deliver(platform: Platform, delivery_id: int, now: datetime) -> bool:
    """Claim, send and record one delivery; False if it was not ours to send."""
    claimed = _claim(platform, delivery_id, now)
    if claimed is None:
        return False
    state, status, body = _post(platform, claimed.url, claimed.fields)
    with platform.db.transaction() as session:
        delivery = session.get(Delivery, delivery_id)
        if delivery is not None:
            delivery.state = state.value
            delivery.answer_status = status
            delivery.answer_body = body
    return True


def _claim(platform: Platform, delivery_id: int, now: datetime) -> _Claimed | None:
    with platform.db.transaction() as session:
        # A conditional update is atomic on SQLite (BEGIN IMMEDIATE) and PostgreSQL
        # (the second updater re-reads the row after the first commits): one winner.
        result = session.connection().execute(
            update(Delivery)
            .where(
                Delivery.id == delivery_id,
                Delivery.state == DeliveryState.SCHEDULED.value,
                Delivery.due_at <= now,
            )
            .values(state=DeliveryState.FAILED.value, answer_body=INTERRUPTED, sent_at=now)
        )
        if result.rowcount != 1:
            return None
        delivery = session.get(Delivery, delivery_id)
        if delivery is None:  # pragma: no cover - the update just matched it
            return None
        _settle_pending(platform, session, delivery)
        return _Claimed(delivery.url, dict(delivery.fields))


def _settle_pending(platform: Platform, session: Session, delivery: Delivery) -> None:
    """A pending payment becomes accepted when its ``etat=ok`` confirmation goes out.

    The "pending, then accepted" test card schedules that confirmation after
    ``config.pending_delay``; the platform's decision is the moment it is sent,
    whatever the shop answers.
    """
    if delivery.fields.get("etat") != Etat.OK.value:
        return
    tx = session.get(Transaction, delivery.transaction_id, with_for_update=True)
    if tx is None or tx.status != TxStatus.PENDING.value:
        return
    settle_accepted(platform, session, tx)


def settle_accepted(platform: Platform, session: Session, tx: Transaction) -> None:
    """Move a pending transaction to accepted and record the outcome's mails, in ``session``.

    The card step calls it directly for a pending payment that has no
    confirmation URL to wait for; otherwise the claim of its ``etat=ok``
    delivery does.
    """
    tx.status = TxStatus.ACCEPTED.value
    tx.updated_at = platform.now(session)
    subscription = session.get(Subscription, tx.subscription_id) if tx.subscription_id else None
    mail.payment_mails(platform, session, tx, subscription)


def _post(platform: Platform, url: str, fields: dict[str, str]) -> tuple[DeliveryState, int | None, str]:
    """Send one confirmation; the state, HTTP status and answer excerpt to record."""
    with requests.Session() as http:
        http.trust_env = False
        try:
            # Streamed so that a shop answering megabytes costs us ANSWER_EXCERPT characters.
            with http.post(
                url,
                data=fields,
                timeout=platform.config.delivery_timeout,
                allow_redirects=False,
                headers={"User-Agent": USER_AGENT},
                stream=True,
            ) as response:
                raw = b""
                # iter_content turns the transport's read errors into requests' own.
                for chunk in response.iter_content(chunk_size=1024):
                    raw += chunk
                    if len(raw) >= ANSWER_EXCERPT * 4:  # 4: the longest UTF-8 character
                        break
                return DeliveryState.SENT, response.status_code, _excerpt(raw, response.encoding)
        # Not only RequestException: urllib3 raises a bare LocationParseError (a ValueError)
        # for a host such as 'a..b' that an account's confirmation URL may hold.
        except Exception as exc:
            return DeliveryState.FAILED, None, f"{type(exc).__name__}: {exc}"[:ANSWER_EXCERPT]


def _excerpt(raw: bytes, encoding: str | None) -> str:
    """The start of the shop's answer as text; an unknown charset is read as UTF-8."""
    try:
        text = raw.decode(encoding or "utf-8", errors="replace")
    except LookupError:
        text = raw.decode("utf-8", errors="replace")
    return text[:ANSWER_EXCERPT]
