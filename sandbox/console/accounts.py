"""The console's accounts: the list, a new account, and each account's settings
(the production lock of FAQ 12 and 28 shown as an error).

The confirmation URL is shown masked (:func:`~sandbox.masking.mask_url`) in its
field; saving the form with that masked text untouched keeps the registered
URL, typing a whole URL replaces it, emptying the field removes it.
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm  # type: ignore[import-untyped]
from sqlalchemy import select
from werkzeug.wrappers import Response
from wtforms import (  # type: ignore[import-untyped]
    BooleanField,
    SelectChoice,
    SelectField,
    StringField,
)
from wtforms.validators import InputRequired  # type: ignore[import-untyped]

from bluepaid_locales import gettext
from bluepaid_plugins.errors import ValidationError
from sandbox.accounts import LOCKED_IN_PRODUCTION, account_summary, add_account, set_account
from sandbox.console.blueprint import bp, current_platform, form_problems
from sandbox.masking import mask_url
from sandbox.models import Account, Mode, Plan


class NewAccountForm(FlaskForm):  # type: ignore[misc]
    id_boutique = StringField(validators=[InputRequired()])
    name = StringField()
    merchant_email = StringField()


class AccountForm(FlaskForm):  # type: ignore[misc]
    name = StringField(validators=[InputRequired()])
    mode = SelectField(choices=[SelectChoice(m.value) for m in Mode])
    referrer_url = StringField()
    url_retour_ok = StringField()
    url_retour_stop = StringField()
    url_confirmation = StringField()
    banned_countries = StringField()
    buyer_form = BooleanField()
    plan = SelectField(choices=[SelectChoice(p.value) for p in Plan])
    merchant_email = StringField()

    def changes(self) -> dict[str, Any]:
        """The settings as :func:`~sandbox.accounts.set_account` takes them."""
        return {
            "name": self.name.data.strip(),
            "mode": self.mode.data,
            "referrer_url": (self.referrer_url.data or "").strip(),
            "url_retour_ok": (self.url_retour_ok.data or "").strip(),
            "url_retour_stop": (self.url_retour_stop.data or "").strip(),
            "url_confirmation": (self.url_confirmation.data or "").strip(),
            "banned_countries": _country_list(self.banned_countries.data or ""),
            "buyer_form": bool(self.buyer_form.data),
            "plan": self.plan.data,
            "merchant_email": (self.merchant_email.data or "").strip(),
        }


def _country_list(text: str) -> list[str]:
    """``"fr, de"`` -> ``["FR", "DE"]``: merchants type codes any way."""
    return [
        code.strip().upper() for code in text.replace(";", ",").replace(" ", ",").split(",") if code.strip()
    ]


@bp.route("/accounts", methods=["GET", "POST"])
def accounts() -> Response | tuple[str, int]:
    form = NewAccountForm()
    errors: list[str] = []
    if form.validate_on_submit():
        values = {"merchant_email": (form.merchant_email.data or "").strip()}
        if (form.name.data or "").strip():
            values["name"] = form.name.data.strip()
        try:
            created = add_account(current_platform(), form.id_boutique.data.strip(), **values)
        except ValidationError as exc:
            errors = form_problems(exc, form)
        else:
            flash(gettext("Account %(id_boutique)s created.", id_boutique=created.id_boutique), "info")
            return redirect(url_for(".account", id_boutique=created.id_boutique))
    platform = current_platform()
    with platform.db.transaction() as db:
        rows = list(db.scalars(select(Account).order_by(Account.id_boutique)))
    status = 400 if request.method == "POST" else 200
    return render_template("console_accounts.html", rows=rows, form=form, errors=errors), status


@bp.route("/accounts/<id_boutique>", methods=["GET", "POST"])
def account(id_boutique: str) -> Response | tuple[str, int]:
    platform = current_platform()
    with platform.db.transaction() as db:
        current = db.get(Account, id_boutique)
    if current is None:
        abort(404)
    settings = account_summary(current)
    settings["banned_countries"] = ", ".join(current.banned_countries)
    # The page never holds the secret: it shows the URL masked, and that masked
    # text sent back unchanged means "keep the registered URL".
    shown_confirmation = mask_url(current.url_confirmation)
    settings["url_confirmation"] = shown_confirmation
    form = AccountForm(data=settings)
    errors: list[str] = []
    if request.method == "POST":
        if form.validate_on_submit():
            changes = form.changes()
            if changes["url_confirmation"] == shown_confirmation:
                changes["url_confirmation"] = current.url_confirmation
            try:
                set_account(platform, id_boutique, **changes)
            except ValidationError as exc:
                errors = form_problems(exc, form)
            else:
                flash(gettext("Account %(id_boutique)s saved.", id_boutique=id_boutique), "info")
                return redirect(url_for(".account", id_boutique=id_boutique))
        status = 400
    else:
        status = 200
    return (
        render_template(
            "console_account.html",
            account=current,
            form=form,
            errors=errors,
            locked=current.mode == Mode.PRODUCTION.value,
            confirmation_masked=shown_confirmation != current.url_confirmation,
            locked_fields=LOCKED_IN_PRODUCTION,
            labels=_labels(),
        ),
        status,
    )


def _labels() -> dict[str, str]:
    """The account page's labels of the text settings, by field name."""
    return {
        "name": gettext("Name"),
        "referrer_url": gettext("Referrer URL"),
        "url_retour_ok": gettext("Return URL (url_retour_ok)"),
        "url_retour_stop": gettext("Return URL when the buyer leaves (url_retour_stop)"),
        "url_confirmation": gettext("Confirmation URL"),
        "banned_countries": gettext("Banned countries (ISO codes, comma separated)"),
        "merchant_email": gettext("Merchant e-mail"),
    }
