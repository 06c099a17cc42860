"""The buyer's subscription cancel link (``buyer_bp``), in the buyer's language."""

from __future__ import annotations

from flask import abort, render_template, request
from flask_wtf import FlaskForm  # type: ignore[import-untyped]
from wtforms import SubmitField  # type: ignore[import-untyped]

from bluepaid_locales import gettext, languages, use_language
from bluepaid_plugins.money import Money
from sandbox import subscriptions
from sandbox.console.blueprint import buyer_bp, current_platform
from sandbox.mail import CANCEL_PATH
from sandbox.models import Account, Subscription
from sandbox.texts import money, page_language, period


class CancelForm(FlaskForm):  # type: ignore[misc]
    confirm = SubmitField()


def _speak_to_buyer(subscription: Subscription | None) -> None:
    """``?lang=`` when it names a catalog, else the subscription's ``LANGUE`` (as its
    payment page spoke), else the browser's language."""
    chosen = request.args.get("lang", "").lower()
    if chosen in languages():
        use_language(chosen)
    elif subscription is not None:
        use_language(page_language(subscription.request.get("LANGUE", "")))


@buyer_bp.route(CANCEL_PATH + "<token>", methods=["GET", "POST"])
def cancel(token: str) -> tuple[str, int]:
    """GET: what would be cancelled and a button; POST (CSRF): cancel, then say so."""
    platform = current_platform()
    subscription = subscriptions.find_by_cancel_token(platform, token)
    _speak_to_buyer(subscription)
    if subscription is None:
        message = gettext("This cancel link is not valid. Contact the merchant.")
        return render_template("buyer_cancel.html", message=message), 404
    with platform.db.transaction() as db:
        account = db.get(Account, subscription.id_boutique)
    form = CancelForm()
    done = False
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        if subscription.state == subscriptions.SubState.ACTIVE.value:
            subscription = subscriptions.end_subscription(platform, subscription.num_abo, "buyer")
            done = True
    facts = gettext(
        "Subscription %(num_abo)s with %(merchant)s: %(amount)s %(every)s, "
        "%(done)s of %(total)s debits made.",
        num_abo=subscription.num_abo,
        merchant=account.name if account else subscription.id_boutique,
        amount=money(Money.from_minor(subscription.amount_minor, subscription.currency)),
        every=period(subscription.period_type, subscription.period_nb),
        done=subscription.debits_done,
        total=subscription.occurrences,
    )
    if done:
        message = gettext(
            "Your subscription %(num_abo)s is cancelled: no further debit will be made.",
            num_abo=subscription.num_abo,
        )
    elif subscription.state != subscriptions.SubState.ACTIVE.value:
        message = gettext(
            "Subscription %(num_abo)s is already over: no further debit will be made.",
            num_abo=subscription.num_abo,
        )
    else:
        message = ""
    return render_template("buyer_cancel.html", facts=facts, message=message, form=form), 200
