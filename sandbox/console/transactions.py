"""The console's transactions: the filtered list, one transaction with its
confirmations and mails, and refunds."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from flask import abort, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm  # type: ignore[import-untyped]
from sqlalchemy import Select, select
from werkzeug.wrappers import Response
from wtforms import (  # type: ignore[import-untyped]
    DateField,
    Form,
    SelectChoice,
    SelectField,
    StringField,
)
from wtforms.validators import Optional  # type: ignore[import-untyped]

from bluepaid_locales import gettext
from bluepaid_plugins.errors import ValidationError
from bluepaid_plugins.money import Money
from sandbox import refunds
from sandbox.console.blueprint import (
    LIST_LIMIT,
    bp,
    current_platform,
    form_problems,
    money_text,
)
from sandbox.fees import transaction_fee
from sandbox.models import (
    Account,
    Delivery,
    Mail,
    Plan,
    Subscription,
    Transaction,
    TxKind,
    TxStatus,
)


class RefundForm(FlaskForm):  # type: ignore[misc]
    amount = StringField(validators=[Optional()])


class TransactionFilter(Form):  # type: ignore[misc]
    """The transaction list's filters, read from the query string (a GET form: no CSRF)."""

    status = SelectField(choices=[SelectChoice(""), *(SelectChoice(s.value) for s in TxStatus)], default="")
    kind = SelectField(choices=[SelectChoice(""), *(SelectChoice(k.value) for k in TxKind)], default="")
    test = SelectField(choices=[SelectChoice(""), SelectChoice("test"), SelectChoice("live")], default="")
    account = StringField()
    date_from = DateField(validators=[Optional()])
    date_to = DateField(validators=[Optional()])
    num_abo = StringField()

    def apply(self, query: Select[tuple[Transaction]]) -> Select[tuple[Transaction]]:
        """``query`` narrowed by every filter given; dates are whole UTC days, both included."""
        if self.status.data:
            query = query.where(Transaction.status == self.status.data)
        if self.kind.data:
            query = query.where(Transaction.kind == self.kind.data)
        if self.test.data:
            query = query.where(Transaction.test.is_(self.test.data == "test"))
        if self.account.data:
            query = query.where(Transaction.id_boutique == self.account.data.strip())
        if isinstance(self.date_from.data, date):
            query = query.where(Transaction.created_at >= _day_start(self.date_from.data))
        if isinstance(self.date_to.data, date):
            query = query.where(Transaction.created_at < _day_start(self.date_to.data) + timedelta(days=1))
        if self.num_abo.data:
            sub_ids = select(Subscription.id).where(Subscription.num_abo == self.num_abo.data.strip())
            query = query.where(Transaction.subscription_id.in_(sub_ids))
        return query


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time(), UTC)


@bp.get("/transactions")
def transactions() -> tuple[str, int]:
    filters = TransactionFilter(request.args)
    valid = filters.validate()
    platform = current_platform()
    rows: list[Transaction] = []
    with platform.db.transaction() as db:
        if valid:
            query = filters.apply(select(Transaction))
            query = query.order_by(Transaction.created_at.desc(), Transaction.id.desc()).limit(LIST_LIMIT + 1)
            rows = list(db.scalars(query))
        accounts = list(db.scalars(select(Account.id_boutique).order_by(Account.id_boutique)))
    return (
        render_template(
            "console_transactions.html",
            filters=filters,
            rows=rows[:LIST_LIMIT],
            more=len(rows) > LIST_LIMIT,
            limit=LIST_LIMIT,
            accounts=accounts,
        ),
        200 if valid else 400,
    )


def _transaction_page(id_trans: str, form: RefundForm, errors: list[str], status: int) -> tuple[str, int]:
    platform = current_platform()
    with platform.db.transaction() as db:
        tx = db.scalars(select(Transaction).where(Transaction.id_trans == id_trans)).first()
        if tx is None:
            abort(404)
        deliveries = list(
            db.scalars(select(Delivery).where(Delivery.transaction_id == tx.id).order_by(Delivery.id))
        )
        mails = list(db.scalars(select(Mail).where(Mail.transaction_id == tx.id).order_by(Mail.id)))
        children = list(
            db.scalars(select(Transaction).where(Transaction.parent_id == tx.id).order_by(Transaction.id))
        )
        parent = db.get(Transaction, tx.parent_id) if tx.parent_id else None
        subscription = db.get(Subscription, tx.subscription_id) if tx.subscription_id else None
        account = db.get(Account, tx.id_boutique)
        plan = account.plan if account else Plan.START.value
    refundable = (
        tx.kind in refunds.REFUNDABLE_KINDS
        and tx.status == TxStatus.ACCEPTED.value
        and tx.refunded_minor < tx.amount_minor
    )
    return (
        render_template(
            "console_transaction.html",
            tx=tx,
            deliveries=deliveries,
            mails=mails,
            children=children,
            parent=parent,
            subscription=subscription,
            refundable=refundable,
            remaining=refunds.remaining(tx),
            plan=plan,
            fee=transaction_fee(plan, tx),
            form=form,
            errors=errors,
        ),
        status,
    )


@bp.get("/transactions/<id_trans>")
def transaction(id_trans: str) -> tuple[str, int]:
    return _transaction_page(id_trans, RefundForm(), [], 200)


@bp.post("/transactions/<id_trans>/refund")
def refund(id_trans: str) -> Response | tuple[str, int]:
    form = RefundForm()
    if not form.validate_on_submit():
        return _transaction_page(id_trans, form, [], 400)
    platform = current_platform()
    with platform.db.transaction() as db:
        currency = db.scalar(select(Transaction.currency).where(Transaction.id_trans == id_trans))
    if currency is None:
        abort(404)
    text = (form.amount.data or "").strip()
    try:
        made = refunds.refund(platform, id_trans, Money.parse(text, currency, "amount") if text else None)
    except ValidationError as exc:
        return _transaction_page(id_trans, form, form_problems(exc, form), 400)
    flash(
        gettext(
            "Refund %(id_trans)s of %(amount)s made; its confirmation (mode=r) is scheduled.",
            id_trans=made.id_trans,
            amount=money_text(made.amount_minor, made.currency),
        ),
        "info",
    )
    return redirect(url_for(".transaction", id_trans=id_trans))
