"""The buyer's subscription cancel link (``buyer_bp``), in the buyer's language."""

from __future__ import annotations

from flask import abort, render_template, request
from flask_wtf import FlaskForm  # type: ignore[import-untyped]
from wtforms import SubmitField  # type: ignore[import-untyped]

from sandbox import subscriptions
from sandbox.console.blueprint import buyer_bp, current_platform, money_text, period_text
from sandbox.console.texts import BUYER_TEXTS, LANGS, TEXTS
from sandbox.mail import CANCEL_PATH
from sandbox.models import Account, Subscription


class CancelForm(FlaskForm):  # type: ignore[misc]
    confirm = SubmitField()


def _buyer_lang(subscription: Subscription | None) -> str:
    chosen = request.args.get("lang", "").lower()
    if chosen in LANGS:
        return chosen
    if subscription is None:
        return request.accept_languages.best_match(LANGS) or "en"
    return "fr" if subscription.request.get("LANGUE", "FR").upper() == "FR" else "en"


@buyer_bp.route(CANCEL_PATH + "<token>", methods=["GET", "POST"])
def cancel(token: str) -> tuple[str, int]:
    """GET: what would be cancelled and a button; POST (CSRF): cancel, then say so."""
    platform = current_platform()
    subscription = subscriptions.find_by_cancel_token(platform, token)
    lang = _buyer_lang(subscription)
    texts = BUYER_TEXTS[lang]
    if subscription is None:
        return render_template("buyer_cancel.html", lang=lang, bt=texts, message=texts["unknown"]), 404
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
    facts = texts["intro"].format(
        num_abo=subscription.num_abo,
        merchant=account.name if account else subscription.id_boutique,
        amount=f"{money_text(subscription.amount_minor, subscription.currency)} {subscription.currency}",
        every=period_text(subscription, TEXTS[lang]),
        done=subscription.debits_done,
        total=subscription.occurrences,
    )
    if done:
        message = texts["cancelled"].format(num_abo=subscription.num_abo)
    elif subscription.state != subscriptions.SubState.ACTIVE.value:
        message = texts["already"].format(num_abo=subscription.num_abo)
    else:
        message = ""
    return (
        render_template("buyer_cancel.html", lang=lang, bt=texts, facts=facts, message=message, form=form),
        200,
    )
