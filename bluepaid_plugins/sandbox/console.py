"""The sandbox console: what Bluepaid's merchant area showed, for the sandbox's merchants.

``bp`` (mounted at ``/console``) lists transactions with filters (FAQ 19, 21),
shows each one with every confirmation sent and the shop's answer, refunds
(full or partial), keeps the mailbox, ends subscriptions ("fini",
"supprimer"), manages accounts (the production lock of FAQ 12 and 28 shown as
an error) and advances the sandbox clock. ``buyer_bp`` (mounted at ``/``)
serves only the buyer's subscription cancel link.

Rules of the pages:

- French or English: ``?lang=fr`` or ``?lang=en`` chooses (and is remembered
  in the session), otherwise the browser's ``Accept-Language``, otherwise
  English. The buyer's cancel page speaks the subscription's ``LANGUE``
  (French for ``FR``, English otherwise) unless ``?lang=`` says otherwise.
- Every form is a Flask-WTF form with a CSRF token; every change is a POST
  answered by a redirect (or the page again with the errors, status 400).
- Lists show the newest :data:`LIST_LIMIT` rows and say when there are more.
- The console has no login: the sandbox holds test data only and listens on
  loopback by default. Do not expose it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_wtf import FlaskForm  # type: ignore[import-untyped]
from sqlalchemy import Select, func, select
from werkzeug.wrappers import Response
from wtforms import (  # type: ignore[import-untyped]
    BooleanField,
    DateField,
    DecimalField,
    Form,
    SelectChoice,
    SelectField,
    StringField,
    SubmitField,
)
from wtforms.validators import InputRequired, NumberRange, Optional  # type: ignore[import-untyped]

from bluepaid_plugins.errors import NotFound, ValidationError
from bluepaid_plugins.money import Money
from bluepaid_plugins.sandbox import delivery, refunds, subscriptions
from bluepaid_plugins.sandbox.accounts import LOCKED_IN_PRODUCTION, account_summary, add_account, set_account
from bluepaid_plugins.sandbox.cards import TEST_CARDS
from bluepaid_plugins.sandbox.mail import CANCEL_PATH
from bluepaid_plugins.sandbox.models import (
    Account,
    Delivery,
    Mail,
    Mode,
    Plan,
    Subscription,
    Transaction,
    TxKind,
    TxStatus,
)
from bluepaid_plugins.sandbox.platform import Platform

bp = Blueprint("console", __name__)
buyer_bp = Blueprint("buyer", __name__)

#: Rows shown per list page.
LIST_LIMIT = 200

#: Longest clock jump the tick form accepts, in days (ten years).
MAX_TICK_DAYS = 3660

LANGS = ("en", "fr")

#: The console's words. Both languages have the same keys (a test checks it).
TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "console": "Sandbox console",
        "home": "Home",
        "transactions": "Transactions",
        "mails": "Mailbox",
        "subscriptions": "Subscriptions",
        "accounts": "Accounts",
        "now": "Sandbox time",
        "tick": "Advance the clock",
        "days": "Days",
        "tick_button": "Advance and run what is due",
        "ticked": (
            "Clock advanced to {now}: {debits} subscription debit(s), {deliveries} confirmation(s) sent."
        ),
        "test_cards": "Test cards",
        "number": "Number",
        "type": "Type",
        "outcome": "Outcome",
        "count": "Count",
        "status": "Status",
        "kind": "Kind",
        "test_or_live": "Test or live",
        "test": "test",
        "live": "live",
        "any": "any",
        "account": "Account",
        "date_from": "From (date)",
        "date_to": "To (date)",
        "num_abo": "Subscription",
        "filter": "Filter",
        "created": "Created",
        "amount": "Amount",
        "refunded": "Refunded",
        "id_client": "Merchant reference (id_client)",
        "card": "Card",
        "none": "Nothing to show.",
        "more": "Only the newest {limit} are shown; narrow the filters.",
        "transaction": "Transaction",
        "reason": "Reason",
        "email_client": "Buyer e-mail",
        "parent": "Refund of",
        "refunds": "Refunds",
        "request": "Request variables",
        "deliveries": "Confirmations sent to the shop",
        "due": "Due",
        "sent": "Sent",
        "state": "State",
        "url": "URL",
        "note": "Note",
        "fields": "Fields",
        "answer": "Shop's answer",
        "refund": "Refund",
        "refund_amount": "Amount to refund (empty: everything that remains, {remaining})",
        "refund_button": "Refund",
        "refund_done": (
            "Refund {id_trans} of {amount} {currency} made; its confirmation (mode=r) is scheduled."
        ),
        "fix_errors": "Nothing was changed:",
        "to": "To",
        "subject": "Subject",
        "smtp": "SMTP",
        "back": "Back",
        "amount_each": "Amount per debit",
        "first_amount": "First debit",
        "debits": "Debits made",
        "period": "Period",
        "next_due": "Next debit",
        "representations": "Re-presentations",
        "fini": "Mark finished (fini)",
        "supprimer": "Delete (supprimer)",
        "ended": "Subscription {num_abo} is now {state}.",
        "first_transaction": "First transaction",
        "name": "Name",
        "mode": "Mode",
        "referrer_url": "Referrer URL",
        "url_retour_ok": "Return URL (url_retour_ok)",
        "url_retour_stop": "Return URL when the buyer leaves (url_retour_stop)",
        "url_confirmation": "Confirmation URL",
        "banned_countries": "Banned countries (ISO codes, comma separated)",
        "buyer_form": "Ask the buyer's details (nom, prénom, e-mail...)",
        "plan": "Fee plan",
        "merchant_email": "Merchant e-mail",
        "save": "Save",
        "saved": "Account {id_boutique} saved.",
        "lock_note": (
            "This account is in production: its payment form settings (referrer, return and "
            "confirmation URLs) are locked (FAQ 12 and 28). Switch it back to test mode to change them."
        ),
        "new_account": "New account",
        "id_boutique": "Merchant id (id_boutique)",
        "create": "Create",
        "created_account": "Account {id_boutique} created.",
        "units_M": "month(s)",
        "units_S": "week(s)",
        "units_J": "day(s)",
        "every": "every {n} {unit}",
        "language": "Français",
    },
    "fr": {
        "console": "Console du bac à sable",
        "home": "Accueil",
        "transactions": "Transactions",
        "mails": "Courriers",
        "subscriptions": "Abonnements",
        "accounts": "Comptes",
        "now": "Heure du bac à sable",
        "tick": "Avancer l'horloge",
        "days": "Jours",
        "tick_button": "Avancer et exécuter ce qui est dû",
        "ticked": (
            "Horloge avancée au {now} : {debits} prélèvement(s), {deliveries} confirmation(s) envoyée(s)."
        ),
        "test_cards": "Cartes de test",
        "number": "Numéro",
        "type": "Type",
        "outcome": "Résultat",
        "count": "Nombre",
        "status": "État",
        "kind": "Nature",
        "test_or_live": "Test ou réel",
        "test": "test",
        "live": "réel",
        "any": "tous",
        "account": "Compte",
        "date_from": "Du (date)",
        "date_to": "Au (date)",
        "num_abo": "Abonnement",
        "filter": "Filtrer",
        "created": "Créée",
        "amount": "Montant",
        "refunded": "Remboursé",
        "id_client": "Référence marchand (id_client)",
        "card": "Carte",
        "none": "Rien à afficher.",
        "more": "Seules les {limit} plus récentes sont affichées ; affinez les filtres.",
        "transaction": "Transaction",
        "reason": "Motif",
        "email_client": "E-mail de l'acheteur",
        "parent": "Remboursement de",
        "refunds": "Remboursements",
        "request": "Variables de la demande",
        "deliveries": "Confirmations envoyées à la boutique",
        "due": "Prévue",
        "sent": "Envoyée",
        "state": "État",
        "url": "URL",
        "note": "Note",
        "fields": "Champs",
        "answer": "Réponse de la boutique",
        "refund": "Rembourser",
        "refund_amount": "Montant à rembourser (vide : tout ce qui reste, {remaining})",
        "refund_button": "Rembourser",
        "refund_done": (
            "Remboursement {id_trans} de {amount} {currency} effectué ; sa confirmation (mode=r) est prévue."
        ),
        "fix_errors": "Rien n'a été modifié :",
        "to": "À",
        "subject": "Objet",
        "smtp": "SMTP",
        "back": "Retour",
        "amount_each": "Montant par prélèvement",
        "first_amount": "Premier prélèvement",
        "debits": "Prélèvements faits",
        "period": "Période",
        "next_due": "Prochain prélèvement",
        "representations": "Représentations",
        "fini": "Terminer (fini)",
        "supprimer": "Supprimer",
        "ended": "L'abonnement {num_abo} est maintenant {state}.",
        "first_transaction": "Première transaction",
        "name": "Nom",
        "mode": "Mode",
        "referrer_url": "URL référente",
        "url_retour_ok": "URL de retour (url_retour_ok)",
        "url_retour_stop": "URL de retour si l'acheteur abandonne (url_retour_stop)",
        "url_confirmation": "URL de confirmation",
        "banned_countries": "Pays bannis (codes ISO séparés par des virgules)",
        "buyer_form": "Demander les coordonnées de l'acheteur (nom, prénom, e-mail...)",
        "plan": "Offre",
        "merchant_email": "E-mail du marchand",
        "save": "Enregistrer",
        "saved": "Compte {id_boutique} enregistré.",
        "lock_note": (
            "Ce compte est en production : les réglages du formulaire de paiement (URL référente, URL "
            "de retour et de confirmation) sont verrouillés (FAQ 12 et 28). Repassez-le en mode test "
            "pour les modifier."
        ),
        "new_account": "Nouveau compte",
        "id_boutique": "Identifiant marchand (id_boutique)",
        "create": "Créer",
        "created_account": "Compte {id_boutique} créé.",
        "units_M": "mois",
        "units_S": "semaine(s)",
        "units_J": "jour(s)",
        "every": "tous les {n} {unit}",
        "language": "English",
    },
}

#: The buyer's cancel page, in the buyer's language.
BUYER_TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "title": "Cancel a subscription",
        "intro": "Subscription {num_abo} with {merchant}: {amount} {every}, {done} of {total} debits made.",
        "question": "Cancel it? No further debit will be made.",
        "button": "Cancel my subscription",
        "cancelled": "Your subscription {num_abo} is cancelled: no further debit will be made.",
        "already": "Subscription {num_abo} is already over: no further debit will be made.",
        "unknown": "This cancel link is not valid. Contact the merchant.",
    },
    "fr": {
        "title": "Résilier un abonnement",
        "intro": (
            "Abonnement {num_abo} chez {merchant} : {amount} {every}, {done} prélèvement(s) sur {total}."
        ),
        "question": "Le résilier ? Aucun autre prélèvement ne sera fait.",
        "button": "Résilier mon abonnement",
        "cancelled": "Votre abonnement {num_abo} est résilié : aucun autre prélèvement ne sera fait.",
        "already": "L'abonnement {num_abo} est déjà terminé : aucun autre prélèvement ne sera fait.",
        "unknown": "Ce lien de résiliation n'est pas valable. Contactez le marchand.",
    },
}


def _platform() -> Platform:
    platform: Platform = current_app.extensions["bluepaid.sandbox"]
    return platform


def console_lang() -> str:
    """``?lang=`` (remembered), else the session's choice, else Accept-Language, else English."""
    chosen = request.args.get("lang", "").lower()
    if chosen in LANGS:
        session["console_lang"] = chosen
        return chosen
    stored = session.get("console_lang")
    if stored in LANGS:
        return str(stored)
    return request.accept_languages.best_match(LANGS) or "en"


def _money(minor: int | None, currency: str) -> str:
    return "" if minor is None else str(Money.from_minor(minor, currency))


def _when(moment: datetime | None) -> str:
    return "" if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def period_text(subscription: Subscription, texts: dict[str, str]) -> str:
    """``every 1 month(s)``: the schedule's period in the page's language."""
    unit = texts.get(f"units_{subscription.period_type}", subscription.period_type)
    return texts["every"].format(n=subscription.period_nb, unit=unit)


@bp.context_processor
def _console_context() -> dict[str, Any]:
    lang = console_lang()
    return {
        "lang": lang,
        "t": TEXTS[lang],
        "other_lang": "fr" if lang == "en" else "en",
        "money": _money,
        "when": _when,
    }


# ---------------------------------------------------------------- forms


class TickForm(FlaskForm):  # type: ignore[misc]
    days = DecimalField(
        default=1, places=None, validators=[InputRequired(), NumberRange(min=0, max=MAX_TICK_DAYS)]
    )


class RefundForm(FlaskForm):  # type: ignore[misc]
    amount = StringField(validators=[Optional()])


class EndSubscriptionForm(FlaskForm):  # type: ignore[misc]
    fini = SubmitField()
    supprimer = SubmitField()


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
        """The settings as :func:`~bluepaid_plugins.sandbox.accounts.set_account` takes them."""
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


def _problems(errors: ValidationError, form: FlaskForm) -> list[str]:
    """Every problem as a line for the page's error box, each also shown at its form field."""
    for problem in errors.problems:
        field = form._fields.get(problem.field)
        if field is not None:
            field.errors = [*field.errors, problem.message]
    return [str(problem) for problem in errors.problems]


# ---------------------------------------------------------------- pages


@bp.get("/")
def index() -> str:
    platform = _platform()
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
    texts = TEXTS[console_lang()]
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for error in errors:
                flash(f"{texts['days']}: {error}", "error")
        return redirect(url_for(".index"))
    platform = _platform()
    now = platform.advance(timedelta(days=float(form.days.data)))
    debits = subscriptions.run_due(platform)
    sent = delivery.deliver_due(platform)
    flash(texts["ticked"].format(now=_when(now), debits=debits, deliveries=sent), "info")
    return redirect(url_for(".index"))


@bp.get("/transactions")
def transactions() -> tuple[str, int]:
    filters = TransactionFilter(request.args)
    valid = filters.validate()
    platform = _platform()
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
    platform = _platform()
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
    texts = TEXTS[console_lang()]
    if not form.validate_on_submit():
        return _transaction_page(id_trans, form, [], 400)
    platform = _platform()
    with platform.db.transaction() as db:
        currency = db.scalar(select(Transaction.currency).where(Transaction.id_trans == id_trans))
    if currency is None:
        abort(404)
    text = (form.amount.data or "").strip()
    try:
        made = refunds.refund(platform, id_trans, Money.parse(text, currency, "amount") if text else None)
    except ValidationError as exc:
        return _transaction_page(id_trans, form, _problems(exc, form), 400)
    flash(
        texts["refund_done"].format(id_trans=made.id_trans, amount=made.amount, currency=made.currency),
        "info",
    )
    return redirect(url_for(".transaction", id_trans=id_trans))


@bp.get("/mails")
def mails() -> str:
    platform = _platform()
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
    platform = _platform()
    with platform.db.transaction() as db:
        row = db.get(Mail, mail_id)
        tx = db.get(Transaction, row.transaction_id) if row and row.transaction_id else None
    if row is None:
        abort(404)
    return render_template("console_mail.html", mail=row, tx=tx)


@bp.get("/subscriptions")
def subscriptions_list() -> str:
    platform = _platform()
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
    texts = TEXTS[console_lang()]
    return render_template(
        "console_subscriptions.html",
        rows=rows[:LIST_LIMIT],
        more=len(rows) > LIST_LIMIT,
        limit=LIST_LIMIT,
        firsts=firsts,
        periods={row.id: period_text(row, texts) for row in rows},
        form=EndSubscriptionForm(),
    )


@bp.post("/subscriptions/<num_abo>/end")
def end_subscription(num_abo: str) -> Response:
    form = EndSubscriptionForm()
    if not form.validate_on_submit() or not (form.fini.data or form.supprimer.data):
        abort(400)
    try:
        ended = subscriptions.end_subscription(
            _platform(), num_abo, "supprimer" if form.supprimer.data else "fini"
        )
    except NotFound:
        abort(404)
    flash(TEXTS[console_lang()]["ended"].format(num_abo=ended.num_abo, state=ended.state), "info")
    return redirect(url_for(".subscriptions_list"))


@bp.route("/accounts", methods=["GET", "POST"])
def accounts() -> Response | tuple[str, int]:
    form = NewAccountForm()
    errors: list[str] = []
    if form.validate_on_submit():
        values = {"merchant_email": (form.merchant_email.data or "").strip()}
        if (form.name.data or "").strip():
            values["name"] = form.name.data.strip()
        try:
            created = add_account(_platform(), form.id_boutique.data.strip(), **values)
        except ValidationError as exc:
            errors = _problems(exc, form)
        else:
            flash(TEXTS[console_lang()]["created_account"].format(id_boutique=created.id_boutique), "info")
            return redirect(url_for(".account", id_boutique=created.id_boutique))
    platform = _platform()
    with platform.db.transaction() as db:
        rows = list(db.scalars(select(Account).order_by(Account.id_boutique)))
    status = 400 if request.method == "POST" else 200
    return render_template("console_accounts.html", rows=rows, form=form, errors=errors), status


@bp.route("/accounts/<id_boutique>", methods=["GET", "POST"])
def account(id_boutique: str) -> Response | tuple[str, int]:
    platform = _platform()
    with platform.db.transaction() as db:
        current = db.get(Account, id_boutique)
    if current is None:
        abort(404)
    settings = account_summary(current)
    settings["banned_countries"] = ", ".join(current.banned_countries)
    form = AccountForm(data=settings)
    errors: list[str] = []
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                set_account(platform, id_boutique, **form.changes())
            except ValidationError as exc:
                errors = _problems(exc, form)
            else:
                flash(TEXTS[console_lang()]["saved"].format(id_boutique=id_boutique), "info")
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
            locked_fields=LOCKED_IN_PRODUCTION,
        ),
        status,
    )


# ---------------------------------------------------------------- the buyer's cancel link


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
    platform = _platform()
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
        amount=f"{_money(subscription.amount_minor, subscription.currency)} {subscription.currency}",
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
