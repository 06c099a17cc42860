"""The buyer's side of the sandbox: payment requests and the payment page.

Routes:

- ``/in.php`` (:func:`payment_request`) and ``/ABOv2/in.php``
  (:func:`subscription_request`): the shop's request, GET or POST. A valid one
  opens a transaction and sends the browser (303) to its page; an invalid one
  gets a 400 page listing every problem by variable name (FAQ 24). What they
  do, and the rules on reading a request, defaults, the referrer check and the
  country ban, is in :mod:`~sandbox.entry`.
- ``/p/<token>`` (:func:`payment_page`): the page with the card form, and the
  result once the card step is done.
- ``/p/<token>/stop`` (:func:`stop`): "Retour boutique", back to the shop unpaid.
- ``/`` (:func:`index`): the landing page, with a form that opens a test payment.

Rules the record leaves open, defined here (the README repeats them):

- **Card step.** See :mod:`sandbox.forms` for the form
  rules. A test card of another type than the one chosen makes the payment
  *refused* (FAQ 13), confirmed ``etat=ko``. Otherwise the card's scenario
  decides (see :func:`_accept`). Every payment the sandbox takes is paid with a
  test card, so its confirmation says ``mode=test`` in production mode too.
  Only the card's type and last four digits are kept, never the number nor the
  CVV2. After a form error the number typed comes back in its field if it is a
  test card (a real card number never does); the CVV2 never comes back.
- **Browser return.** After the immediate confirmations were sent, an
  accepted or pending payment sends the browser (303) to the return URL with
  ``id_client, divers, etat, montant, mode, id_trans``. A refused one stays on
  the platform's result page, which says why (the card type, the ceiling or
  the coherence check of FAQ 13) and links back to the return URL with the
  same parameters. Without a return URL, the sandbox shows the result itself.
- **Retour boutique.** The transaction is abandoned and the shop told so by a
  confirmation ``etat=annu`` (the outcome's ``montant``, ``mode=test``),
  delivered before the browser goes to ``url_retour_stop``, with no parameters.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from flask import Blueprint, Response, current_app, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select
from sqlalchemy.orm import Session

from bluepaid_locales import current_language, gettext, negotiate
from bluepaid_plugins.money import CURRENCIES, Money
from bluepaid_plugins.protocol import LANGUAGES, Confirmation, Etat
from bluepaid_plugins.protocol.fields import origin
from sandbox import entry, mail, refunds, subscriptions
from sandbox.cards import TEST_CARDS, SandboxCard, Scenario, normalize_number
from sandbox.delivery import (
    build_confirmation,
    deliver_now,
    schedule,
    settle_accepted,
    withhold,
)
from sandbox.forms import BuyerForm, CardForm
from sandbox.models import Account, Mode, Subscription, Transaction, TxKind, TxStatus
from sandbox.platform import Platform
from sandbox.texts import DEFAULT_LANGUAGE, money, period, speak

bp = Blueprint("pages", __name__)

#: Start of ``Transaction.reason`` for a test card of another type than the one chosen.
MISMATCH_REASON = "card type mismatch"

#: The ``etat`` of the browser return for each outcome a result page can lead back from.
_BROWSER_ETAT = {
    TxStatus.ACCEPTED.value: Etat.OK,
    TxStatus.PENDING.value: Etat.ATTENTE,
    TxStatus.REFUSED.value: Etat.KO,
}

_REFUSED = {
    Scenario.REFUSED_CEILING: "refused: the card's spending ceiling is reached",
    Scenario.REFUSED_COHERENCE: "refused by Bluepaid's coherence check",
}


def _platform() -> Platform:
    platform: Platform = current_app.extensions["bluepaid.sandbox"]
    return platform


@bp.after_request
def _no_store(response: Response) -> Response:
    # Card pages and transaction results must not sit in shared or browser caches.
    response.headers["Cache-Control"] = "no-store"
    return response


# --- Requests ---------------------------------------------------------------------------------


@bp.route("/in.php", methods=["GET", "POST"])
def payment_request() -> ResponseReturnValue:
    """A single payment request (lower-case variables)."""
    return entry.open_transaction(_platform(), entry.PAYMENT)


@bp.route("/ABOv2/in.php", methods=["GET", "POST"])
def subscription_request() -> ResponseReturnValue:
    """A subscription or instalments request (upper-case variables).

    The transaction opened is the first debit (kind ``debit``); its ``request``
    keeps the variables, from which the subscription is built once the card
    is accepted.
    """
    return entry.open_transaction(_platform(), entry.SUBSCRIPTION)


# --- The payment page -------------------------------------------------------------------------


def _load(platform: Platform, token: str) -> tuple[Transaction, Account] | None:
    with platform.db.transaction() as session:
        tx = session.scalars(select(Transaction).where(Transaction.page_token == token)).one_or_none()
        if tx is None:
            return None
        account = session.get(Account, tx.id_boutique)
        assert account is not None  # a foreign key guarantees it
    return tx, account


def _render(template: str, account: Account | None, status: int = 200, **context: Any) -> tuple[str, int]:
    test_mode = account is not None and account.mode == Mode.TEST.value
    return render_template(template, test_mode=test_mode, **context), status


def _not_found() -> ResponseReturnValue:
    speak(DEFAULT_LANGUAGE)
    return _render("pay_not_found.html", None, 404)


@bp.get("/")
def index() -> ResponseReturnValue:
    """The sandbox's landing page: what it is, where to go, and a form to open a test payment."""
    platform = _platform()
    with platform.db.transaction() as session:
        accounts = list(session.scalars(select(Account.id_boutique).order_by(Account.id_boutique).limit(50)))
    return _render(
        "index.html",
        None,
        public_url=platform.config.public_url.rstrip("/"),
        accounts=accounts,
        currencies=CURRENCIES,
        langues=LANGUAGES,
        langue=negotiate([current_language()], LANGUAGES) or DEFAULT_LANGUAGE,
    )


@bp.route("/p/<token>", methods=["GET", "POST"])
def payment_page(token: str) -> ResponseReturnValue:
    """The payment page of one transaction; POST is the card step.

    An open transaction shows the forms; a blocked one its explanation (403);
    any other its result, so a reload or a second tab never pays twice.
    """
    platform = _platform()
    loaded = _load(platform, token)
    if loaded is None:
        return _not_found()
    tx, account = loaded
    speak(tx.langue)
    if tx.status == TxStatus.OPEN.value:
        tx = _block_if_banned(platform, tx, account)
    if tx.status == TxStatus.BLOCKED.value:
        return _blocked_page(tx, account)
    if tx.status != TxStatus.OPEN.value:
        return _result_page(tx, account)

    now = platform.now()
    card_form = CardForm(now.date())
    buyer_form = BuyerForm(data=_buyer_defaults(tx)) if account.buyer_form else None
    if request.method == "POST":
        # Both forms are checked so that every error shows at once.
        card_ok = card_form.validate_on_submit()
        buyer_ok = buyer_form.validate() if buyer_form is not None else True
        if card_ok and buyer_ok and card_form.test_card is not None:
            number = normalize_number(card_form.number.data or "")
            buyer = buyer_form.details() if buyer_form is not None else {}
            return _card_step(platform, token, card_form, number[-4:], buyer)
    return _render(
        "pay_page.html",
        account,
        tx=tx,
        merchant=account.name,
        amount=money(tx.amount),
        schedule=_schedule_text(tx),
        referrer_warning=_referrer_warning(tx, account),
        card_form=card_form,
        buyer_form=buyer_form,
    )


def _buyer_defaults(tx: Transaction) -> dict[str, str]:
    """What the shop already told us about the buyer (``in.php`` only has these)."""
    request_fields = tx.request
    return {
        "nom": request_fields.get("nom", ""),
        "prenom": request_fields.get("prenom", ""),
        "email": tx.email_client,
        "pays": "FR",
    }


def _block_if_banned(platform: Platform, tx: Transaction, account: Account) -> Transaction:
    """Block an open transaction if the address now using the page is from a banned country."""
    address = request.remote_addr or ""
    country = platform.country_of(address)
    if not country or country not in account.banned_countries:
        return tx
    with platform.db.transaction() as session:
        current = session.get(Transaction, tx.id, with_for_update=True)
        assert current is not None  # transactions are never deleted
        if current.status == TxStatus.OPEN.value:
            current.status = TxStatus.BLOCKED.value
            current.reason = entry.banned_reason(address, country)
            current.updated_at = platform.now(session)
    return current


def _schedule_text(tx: Transaction) -> str | None:
    """For ABOv2: "then N × amount every period" after the first debit; None otherwise."""
    if tx.kind != TxKind.DEBIT.value:
        return None
    fields = tx.request
    remaining = int(fields["NB_OCCURENCES_MAX"]) - 1
    if remaining < 1:
        return None
    amount = Money.parse(fields["MONTANT"], tx.currency)
    every = period(fields.get("PERIODE_TYPE", "M"), int(fields.get("PERIODE_NB", "1")))
    return gettext(
        "then %(count)s × %(amount)s %(period)s", count=remaining, amount=money(amount), period=every
    )


def _referrer_warning(tx: Transaction, account: Account) -> str | None:
    if not tx.referrer_warning:
        return None
    expected = origin(account.referrer_url) or account.referrer_url
    if not tx.referrer:
        return gettext(
            "Warning: the page that requested this payment was not sent (no Referer header); the "
            "merchant's referrer address is %(expected)s. In production mode it would be blocked.",
            expected=expected,
        )
    return gettext(
        "Warning: this payment was not requested from the referrer address the merchant registered "
        "(%(expected)s) but from %(found)s. In production mode it would be blocked.",
        expected=expected,
        found=entry.shown_origin(tx.referrer),
    )


def _blocked_page(tx: Transaction, account: Account) -> ResponseReturnValue:
    if tx.reason.startswith(entry.BANNED_REASON):
        title = gettext("IP bannie (IP address banned)")
        lines = [
            gettext(
                "Your IP address (%(address)s) is in a country (%(country)s) from which %(merchant)s "
                "does not accept online payments. Please contact the merchant to pay for your order.",
                merchant=account.name,
                address=tx.remote_addr,
                country=tx.country,
            )
        ]
        if account.merchant_email:
            lines.append(gettext("Merchant contact: %(email)s", email=account.merchant_email))
    else:
        title = gettext("Payment blocked")
        expected = origin(account.referrer_url) or account.referrer_url
        found = (
            gettext("This payment was requested from %(found)s.", found=entry.shown_origin(tx.referrer))
            if tx.referrer
            else gettext("Your browser did not say which page this payment came from (no Referer header).")
        )
        lines = [
            gettext(
                "For security, a payment can only be requested from the site the merchant registered "
                "(%(expected)s).",
                expected=expected,
            ),
            found,
        ]
    return _render("pay_blocked.html", account, 403, title=title, lines=lines, url_stop=tx.url_stop)


def _result_page(tx: Transaction, account: Account) -> ResponseReturnValue:
    """The outcome of a transaction, and the way back to the shop (with the return
    parameters of the outcome, as the redirect after the card step carries them)."""
    titles = {
        TxStatus.ACCEPTED.value: (
            gettext("Payment accepted"),
            gettext("Your payment is accepted. The merchant has been told."),
        ),
        TxStatus.PENDING.value: (
            gettext("Payment pending"),
            gettext("Your payment is being processed; the merchant will be told the outcome."),
        ),
        TxStatus.ABANDONED.value: (
            gettext("Payment abandoned"),
            gettext("You left the payment page without paying."),
        ),
    }
    title, text = titles.get(tx.status, (gettext("Payment refused"), _refusal_text(tx)))
    card = (
        gettext("%(type)s card ending in %(last4)s", type=tx.card_type, last4=tx.card_last4)
        if tx.card_last4
        else None
    )
    return _render(
        "pay_result.html",
        account,
        tx=tx,
        title=title,
        text=text,
        card=card,
        merchant=account.name,
        amount=money(tx.amount),
        back_url=_back_to_shop(tx),
    )


def _back_to_shop(tx: Transaction) -> str:
    """Where the result page's "back to the shop" goes: ``url_retour_ok`` with the
    outcome's return parameters, ``url_retour_stop`` once abandoned; empty without one."""
    if tx.status == TxStatus.ABANDONED.value:
        return tx.url_stop
    etat = _BROWSER_ETAT.get(tx.status)
    if etat is None or not tx.url_ok:
        return ""
    return _with_params(tx.url_ok, build_confirmation(tx, etat=etat).return_params())


def _test_card_used(tx: Transaction) -> SandboxCard | None:
    """The test card a transaction was paid with, found again from what is kept of it
    (its last four digits and its scenario): the number itself is never stored."""
    return next(
        (
            card
            for card in TEST_CARDS
            if card.number.endswith(tx.card_last4) and card.scenario.value == tx.scenario
        ),
        None,
    )


def _refusal_text(tx: Transaction) -> str:
    """Why the payment was refused, as FAQ 13 lists the reasons, for the tester to act on."""
    if tx.reason.startswith(MISMATCH_REASON):
        used = _test_card_used(tx)
        return gettext(
            "The card number is a %(actual)s card, and %(chosen)s was chosen as its type: a card given "
            "under another type is refused. Choose the type the card shows.",
            actual=used.type.value if used is not None else "?",
            chosen=tx.card_type,
        )
    if tx.scenario == Scenario.REFUSED_CEILING.value:
        return gettext(
            "Your card's spending ceiling is reached: the bank refused the amount. Try another card."
        )
    return gettext(
        "The payment was refused by Bluepaid's coherence check, which refuses some payments it finds "
        "unusual. Try another card, or contact the merchant."
    )


# --- The card step ----------------------------------------------------------------------------


@dataclass
class _Outcome:
    """What the card step decided, for after the commit."""

    browser: Confirmation
    url_ok: str
    now: list[int] = field(default_factory=list)  # deliveries to send before the return


def _card_step(
    platform: Platform, token: str, card_form: CardForm, last4: str, buyer: dict[str, str]
) -> ResponseReturnValue:
    card = card_form.test_card
    assert card is not None  # checked by the caller
    with platform.db.transaction() as session:
        # The row lock (BEGIN IMMEDIATE on SQLite) makes a double submit pay once.
        tx = session.scalars(
            select(Transaction).where(Transaction.page_token == token).with_for_update()
        ).one_or_none()
        if tx is None or tx.status != TxStatus.OPEN.value:
            return redirect(url_for(".payment_page", token=token), 303)
        tx.card_type = card_form.chosen_type.value
        tx.card_last4 = last4
        tx.scenario = card.scenario.value
        tx.test = True
        tx.updated_at = platform.now(session)
        if buyer:
            tx.buyer = buyer
            # The receipt needs an address; the one typed serves when the shop sent none.
            tx.email_client = tx.email_client or buyer["email"]
        if card.type != card_form.chosen_type:
            outcome = _refuse(
                platform,
                session,
                tx,
                f"{MISMATCH_REASON}: the number is a {card.type.value} card, "
                f"{card_form.chosen_type.value} was chosen",
            )
        elif card.scenario in _REFUSED:
            outcome = _refuse(platform, session, tx, _REFUSED[card.scenario])
        else:
            outcome = _accept(platform, session, tx, card)
    for delivery_id in outcome.now:
        deliver_now(platform, delivery_id)
    if not outcome.url_ok or outcome.browser.etat is Etat.KO:
        # A refusal stops on the platform's own page: it says why (FAQ 13), which the
        # shop cannot know, and leads back to the shop with the same parameters.
        return redirect(url_for(".payment_page", token=token), 303)
    return redirect(_with_params(outcome.url_ok, outcome.browser.return_params()), 303)


def _refuse(platform: Platform, session: Session, tx: Transaction, reason: str) -> _Outcome:
    tx.status = TxStatus.REFUSED.value
    tx.reason = reason
    delivery = schedule(platform, session, tx, build_confirmation(tx, etat=Etat.KO).fields())
    mail.payment_mails(platform, session, tx)
    return _Outcome(build_confirmation(tx, etat=Etat.KO), tx.url_ok, [delivery.id])


def _accept(platform: Platform, session: Session, tx: Transaction, card: SandboxCard) -> _Outcome:
    """An accepted card, by scenario.

    - accepted, and the subscription scenarios (which matter for later
      debits): ``ok`` sent now;
    - pending then accepted: ``attente`` sent now, the transaction stays
      pending and ``ok`` is scheduled after ``config.pending_delay``, when the
      transaction becomes accepted (at once if there is no confirmation URL to
      wait for); the browser return says ``attente``;
    - confirmation twice: ``ok`` sent now, two times;
    - confirmation late: ``ok`` scheduled after ``config.late_delay``, so it
      arrives after the browser's return;
    - confirmation never: ``ok`` recorded as withheld, never sent;
    - refund later: ``ok`` sent now, and a full refund after
      ``config.refund_delay``.

    For ABOv2 the subscription starts here (with the pending card too: the
    schedule counts from the card step); the first debit's ``ok`` carries
    ``num_abo`` and ``num_prochaine_presentation=2``, or ``fini=oui`` when it
    is the only debit. ``attente`` carries no subscription fields.
    """
    config = platform.config
    subscription: Subscription | None = None
    if tx.kind == TxKind.DEBIT.value:
        subscription = subscriptions.start_subscription(platform, session, tx, card)
    ok = _ok_fields(tx, subscription)
    scenario = card.scenario
    if scenario == Scenario.PENDING_THEN_ACCEPTED:
        tx.status = TxStatus.PENDING.value
        attente = schedule(platform, session, tx, build_confirmation(tx, etat=Etat.ATTENTE).fields())
        schedule(platform, session, tx, ok, delay=config.pending_delay, note="pending, then accepted")
        if not tx.url_confirm:
            settle_accepted(platform, session, tx)
        return _Outcome(build_confirmation(tx, etat=Etat.ATTENTE), tx.url_ok, [attente.id])

    tx.status = TxStatus.ACCEPTED.value
    mail.payment_mails(platform, session, tx, subscription)
    outcome = _Outcome(build_confirmation(tx, etat=Etat.OK), tx.url_ok)
    if scenario == Scenario.CONFIRM_LATE:
        schedule(platform, session, tx, ok, delay=config.late_delay, note="test card: confirmation sent late")
    elif scenario == Scenario.CONFIRM_NEVER:
        withhold(platform, session, tx, ok, "test card: confirmation never sent")
    elif scenario == Scenario.CONFIRM_TWICE:
        outcome.now += [
            schedule(platform, session, tx, ok, note=f"test card: confirmation sent twice ({n}/2)").id
            for n in (1, 2)
        ]
    else:
        outcome.now.append(schedule(platform, session, tx, ok).id)
        if scenario == Scenario.REFUND_LATER:
            refunds.create_refund(platform, session, tx, tx.amount, delay=config.refund_delay)
    return outcome


def _ok_fields(tx: Transaction, subscription: Subscription | None) -> dict[str, str]:
    if subscription is None:
        return build_confirmation(tx, etat=Etat.OK).fields()
    next_index, fini = subscriptions.next_presentation(subscription)
    return build_confirmation(
        tx, etat=Etat.OK, subscription=subscription, next_index=next_index, fini=fini
    ).fields()


def _with_params(url: str, params: Mapping[str, str]) -> str:
    """``url`` with ``params`` added to its query string (before any fragment)."""
    parts = urlsplit(url)
    query = "&".join(part for part in (parts.query, urlencode(params)) if part)
    return urlunsplit(parts._replace(query=query))


@bp.route("/p/<token>/stop", methods=["POST"])
def stop(token: str) -> ResponseReturnValue:
    """The "Retour boutique" button: the transaction is abandoned, the shop is told
    (``etat=annu``), and the browser goes to ``url_retour_stop``.

    The ``annu`` confirmation goes out before the browser leaves, so the shop's
    page already knows the payment is cancelled. A transaction that is no longer
    open is left as it is and its page shown again.
    """
    platform = _platform()
    delivery_id: int | None = None
    with platform.db.transaction() as session:
        tx = session.scalars(
            select(Transaction).where(Transaction.page_token == token).with_for_update()
        ).one_or_none()
        if tx is None:
            return _not_found()
        if tx.status == TxStatus.OPEN.value:
            tx.status = TxStatus.ABANDONED.value
            tx.updated_at = platform.now(session)
            delivery_id = schedule(platform, session, tx, build_confirmation(tx, etat=Etat.ANNU).fields()).id
        status, url_stop = tx.status, tx.url_stop
    if delivery_id is not None:
        deliver_now(platform, delivery_id)
    if status == TxStatus.ABANDONED.value and url_stop:
        return redirect(url_stop, 303)
    return redirect(url_for(".payment_page", token=token), 303)
