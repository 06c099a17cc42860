"""The console's home page: transaction counts, the test cards, and the sandbox clock."""

from __future__ import annotations

from datetime import timedelta

from flask import flash, redirect, render_template, url_for
from flask_wtf import FlaskForm  # type: ignore[import-untyped]
from sqlalchemy import func, select
from werkzeug.wrappers import Response
from wtforms import DecimalField  # type: ignore[import-untyped]
from wtforms.validators import InputRequired, NumberRange  # type: ignore[import-untyped]

from bluepaid_locales import gettext
from sandbox import delivery, subscriptions
from sandbox.cards import TEST_CARDS
from sandbox.console.blueprint import bp, current_platform, time_text
from sandbox.models import Transaction

#: Longest clock jump the tick form accepts, in days (ten years).
MAX_TICK_DAYS = 3660


class TickForm(FlaskForm):  # type: ignore[misc]
    days = DecimalField(
        default=1, places=None, validators=[InputRequired(), NumberRange(min=0, max=MAX_TICK_DAYS)]
    )


@bp.get("/")
def index() -> str:
    platform = current_platform()
    with platform.db.transaction() as db:
        now = platform.now(db)
        counts = db.execute(
            select(Transaction.status, func.count()).group_by(Transaction.status).order_by(Transaction.status)
        ).all()
    return render_template(
        "console_index.html",
        now=now,
        counts=counts,
        tick_form=TickForm(),
        cards=TEST_CARDS,
    )


@bp.post("/tick")
def tick() -> Response:
    form = TickForm()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for error in errors:
                flash(gettext("Days: %(error)s", error=error), "error")
        return redirect(url_for(".index"))
    platform = current_platform()
    now = platform.advance(timedelta(days=float(form.days.data)))
    debits = subscriptions.run_due(platform)
    sent = delivery.deliver_due(platform)
    flash(
        gettext(
            "Clock advanced to %(now)s: %(debits)s subscription debit(s), "
            "%(deliveries)s confirmation(s) sent.",
            now=time_text(now),
            debits=debits,
            deliveries=sent,
        ),
        "info",
    )
    return redirect(url_for(".index"))
