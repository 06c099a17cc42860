"""The console's subscriptions: the list, and ending one ("fini", "supprimer")."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_wtf import FlaskForm  # type: ignore[import-untyped]
from sqlalchemy import func, select
from werkzeug.wrappers import Response
from wtforms import SubmitField  # type: ignore[import-untyped]

from bluepaid_locales import gettext
from bluepaid_plugins.errors import NotFound
from sandbox import subscriptions
from sandbox.console.blueprint import LIST_LIMIT, bp, current_platform
from sandbox.console.texts import subscription_state_name
from sandbox.models import Subscription, Transaction
from sandbox.texts import period


class EndSubscriptionForm(FlaskForm):  # type: ignore[misc]
    fini = SubmitField()
    supprimer = SubmitField()


@bp.get("/subscriptions")
def subscriptions_list() -> str:
    platform = current_platform()
    with platform.db.transaction() as db:
        rows = list(db.scalars(select(Subscription).order_by(Subscription.id.desc()).limit(LIST_LIMIT + 1)))
        # The first debit is the subscription's oldest transaction (the buyer's payment).
        first_ids = (
            select(func.min(Transaction.id))
            .where(Transaction.subscription_id.in_([row.id for row in rows]))
            .group_by(Transaction.subscription_id)
        )
        found = db.execute(
            select(Transaction.subscription_id, Transaction.id_trans).where(Transaction.id.in_(first_ids))
        )
        firsts = {sub_id: number for sub_id, number in found}
    return render_template(
        "console_subscriptions.html",
        rows=rows[:LIST_LIMIT],
        more=len(rows) > LIST_LIMIT,
        limit=LIST_LIMIT,
        firsts=firsts,
        periods={row.id: period(row.period_type, row.period_nb) for row in rows},
        form=EndSubscriptionForm(),
    )


@bp.post("/subscriptions/<num_abo>/end")
def end_subscription(num_abo: str) -> Response:
    form = EndSubscriptionForm()
    if not form.validate_on_submit() or not (form.fini.data or form.supprimer.data):
        abort(400)
    try:
        ended = subscriptions.end_subscription(
            current_platform(), num_abo, "supprimer" if form.supprimer.data else "fini"
        )
    except NotFound:
        abort(404)
    flash(
        gettext(
            "Subscription %(num_abo)s is now %(state)s.",
            num_abo=ended.num_abo,
            state=subscription_state_name(ended.state),
        ),
        "info",
    )
    return redirect(url_for(".subscriptions_list"))
