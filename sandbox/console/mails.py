"""The console's mailbox: every mail the sandbox sent, and each one in full."""

from __future__ import annotations

from flask import abort, render_template
from sqlalchemy import select

from sandbox.console.blueprint import LIST_LIMIT, bp, current_platform
from sandbox.models import Mail, Transaction


@bp.get("/mails")
def mails() -> str:
    platform = current_platform()
    with platform.db.transaction() as db:
        rows = list(db.scalars(select(Mail).order_by(Mail.id.desc()).limit(LIST_LIMIT + 1)))
        tx_ids = {row.transaction_id for row in rows if row.transaction_id is not None}
        found = db.execute(select(Transaction.id, Transaction.id_trans).where(Transaction.id.in_(tx_ids)))
        id_trans = {tx_id: number for tx_id, number in found}
    return render_template(
        "console_mails.html",
        rows=rows[:LIST_LIMIT],
        more=len(rows) > LIST_LIMIT,
        limit=LIST_LIMIT,
        id_trans=id_trans,
    )


@bp.get("/mails/<int:mail_id>")
def mail(mail_id: int) -> str:
    platform = current_platform()
    with platform.db.transaction() as db:
        row = db.get(Mail, mail_id)
        tx = db.get(Transaction, row.transaction_id) if row and row.transaction_id else None
    if row is None:
        abort(404)
    return render_template("console_mail.html", mail=row, tx=tx)
