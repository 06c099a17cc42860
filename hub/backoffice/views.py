"""The back office's pages (``/backoffice/...``) and the buyer's cancel link.

Every page needs a logged-in user and shows only the shops the user belongs to: a
payment or subscription of another shop answers 404, like one that does not
exist. Changes (POST) need the owner role in the shop concerned. Every form
carries a CSRF token (the app's CSRFProtect). The language is the user's choice,
kept with the user.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from email.message import EmailMessage
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    session,
    stream_with_context,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_user, logout_user
from markupsafe import Markup
from sqlalchemy import select

from bluepaid_locales import (
    SOURCE_LANGUAGE,
    buyer_languages,
    current_language,
    format_currency,
    format_datetime,
    gettext,
    language_name,
    languages,
    negotiate,
    use_language,
)
from bluepaid_plugins.errors import NotFound, ValidationError
from bluepaid_plugins.money import Money
from cart import catalog
from cart.connector import CartConnector, CartSettings
from hub import mail
from hub.api import tokens as api_tokens
from hub.backoffice import dashboard, doctor, payments, reconcile, statements, subscriptions, webhook_inbox
from hub.backoffice import settings as shop_settings
from hub.backoffice.session import SessionUser
from hub.backoffice.users import (
    TooManyFailures,
    authenticate,
    reset_token,
    reset_with_token,
    set_language,
)
from hub.context import Hub
from hub.models import PaymentState, Shop

log = logging.getLogger(__name__)

bp = Blueprint("backoffice", __name__, url_prefix="/backoffice")
#: The buyer's side: no login.
public = Blueprint("backoffice_public", __name__)
#: Where an anonymous visitor's language choice is kept (a user's is in the database).
LANGUAGE_KEY = "bo_language"


def _hub() -> Hub:
    hub: Hub = current_app.extensions["bluepaid.hub"]
    return hub


def _user() -> SessionUser:
    user: SessionUser = current_user._get_current_object()
    return user


def _shop_ids() -> list[int]:
    return list(_user().account.roles)


def _require_owner(shop_id: int) -> None:
    if not _user().account.can_act(shop_id):
        abort(403)


#: The largest catalog file the back office takes (a file of 20,000 products is ~2 MB).
IMPORT_MAX = 5 * 1024 * 1024

#: The pages a visitor sees before logging in.
_OPEN = frozenset({"backoffice.login", "backoffice.forgot", "backoffice.reset", "backoffice.language"})


@bp.before_request
def _guard() -> ResponseReturnValue | None:
    """Every other page of the back office needs a logged-in user."""
    if request.endpoint not in _OPEN and not current_user.is_authenticated:
        return redirect(url_for("backoffice.login"))
    return None


@bp.before_request
def _speak() -> None:
    chosen = ""
    if current_user.is_authenticated:
        chosen = _user().account.language
    chosen = chosen or session.get(LANGUAGE_KEY, "")
    use_language(negotiate([chosen, *buyer_languages()], languages()) or SOURCE_LANGUAGE)


@bp.app_template_filter("money")
def _money(value: Money) -> str:
    return format_currency(value.amount, value.currency)


@bp.app_template_filter("rate")
def _rate(value: Decimal) -> str:
    """A VAT rate as a file writes it: ``20``, ``5.5`` (never ``2E+1``)."""
    return format(value.normalize(), "f")


@bp.app_template_filter("when")
def _when(value: Any) -> str:
    return format_datetime(value, "short") if value else ""


@bp.context_processor
def _common() -> dict[str, Any]:
    return {
        "languages": [(code, language_name(code)) for code in languages()],
        "user": _user().account if current_user.is_authenticated else None,
        "state_names": _state_names(),
        "subscription_states": {
            "running": gettext("running"),
            "finished": gettext("finished"),
            "ended": gettext("ended"),
        },
    }


def _state_names() -> dict[str, str]:
    return {
        PaymentState.CREATED.value: gettext("created"),
        PaymentState.PENDING.value: gettext("pending"),
        PaymentState.REFUSED.value: gettext("refused"),
        PaymentState.CANCELLED.value: gettext("cancelled"),
        PaymentState.PAID.value: gettext("paid"),
        PaymentState.PARTIALLY_REFUNDED.value: gettext("partially refunded"),
        PaymentState.REFUNDED.value: gettext("refunded"),
    }


# Access


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    """The login form; :data:`~hub.backoffice.users.MAX_FAILURES` failures of one
    e-mail within the window lock it for that time (429)."""
    error, status = "", 200
    if request.method == "POST":
        email = request.form.get("email", "")
        try:
            account = authenticate(_hub(), email, request.form.get("password", ""), request.remote_addr or "")
        except TooManyFailures:
            error, status = gettext("Too many failed logins. Try again in 15 minutes."), 429
        else:
            if account is None:
                error, status = gettext("Wrong e-mail or password."), 401
            else:
                session.clear()
                login_user(SessionUser(account))
                return redirect(url_for("backoffice.dashboard_page"))
    return render_template("backoffice/login.html", error=error), status


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    logout_user()
    session.clear()
    return redirect(url_for("backoffice.login"))


@bp.post("/language")
def language() -> ResponseReturnValue:
    """Remember the chosen language: with the user, or in the session before login."""
    chosen = request.form.get("language", "")
    if chosen in languages():
        session[LANGUAGE_KEY] = chosen
        if current_user.is_authenticated:
            set_language(_hub(), _user().account.id, chosen)
    back = request.form.get("back", "")
    return redirect(back if back.startswith("/backoffice") else url_for("backoffice.dashboard_page"))


@bp.route("/forgot", methods=["GET", "POST"])
def forgot() -> ResponseReturnValue:
    """Ask for a password-reset mail. The answer is the same whether the address is
    known or not, so nobody learns who has an account."""
    sent = False
    if request.method == "POST":
        hub = _hub()
        email = request.form.get("email", "").strip()
        token = reset_token(hub, email)
        if token is not None and hub.config.smtp_host:
            link = f"{hub.config.public_url.rstrip('/')}{url_for('backoffice.reset', token=token)}"
            message = EmailMessage()
            message["From"] = hub.config.mail_from
            message["To"] = email
            message["Subject"] = gettext("Your back-office password")
            message.set_content(
                gettext("Open this link within 30 minutes to choose a new password:") + f"\n{link}\n"
            )
            try:
                mail.send(hub.config, message)
            except OSError as exc:
                log.warning("password-reset mail not sent: %s", exc)
        sent = True
    return render_template("backoffice/forgot.html", sent=sent)


@bp.route("/reset/<token>", methods=["GET", "POST"])
def reset(token: str) -> ResponseReturnValue:
    error, status = "", 200
    if request.method == "POST":
        try:
            reset_with_token(_hub(), token, request.form.get("password", ""))
        except NotFound:
            error, status = gettext("This link is invalid, expired or already used. Ask for a new one."), 410
        except ValidationError:
            error, status = gettext("Choose a password of at least 10 characters."), 400
        else:
            return redirect(url_for("backoffice.login"))
    return render_template("backoffice/reset.html", error=error), status


# Payments


@bp.get("/")
def dashboard_page() -> ResponseReturnValue:
    hub = _hub()
    summary = dashboard.summarize(hub, _shop_ids())
    labels = {
        "title": gettext("Last 30 days"),
        "accepted": gettext("accepted"),
        "refused": gettext("refused"),
        "test": gettext("test"),
    }
    # The chart is our own markup, every text in it escaped: safe to embed.
    language = current_language()
    chart = Markup(  # noqa: S704
        dashboard.chart_svg(
            summary.days, summary.currency, labels, _money, lambda day: dashboard.day_label(day, language)
        )
    )
    return render_template(
        "backoffice/dashboard.html",
        summary=summary,
        chart=chart,
        alerts=dashboard.alerts(hub, _shop_ids()),
        alert_names=_alert_names(),
    )


def _alert_names() -> dict[str, str]:
    return {
        "amount_mismatch": gettext("Amount mismatch"),
        "dead_task": gettext("Task given up"),
        "two_payments": gettext("Two payments for one order"),
        "charged_twice": gettext("Charged twice"),
        "test_on_live": gettext("Test payment on a live shop"),
    }


def _my_shops() -> list[Shop]:
    with _hub().db.transaction() as db:
        return list(db.scalars(select(Shop).where(Shop.id.in_(_shop_ids())).order_by(Shop.slug)))


@bp.get("/payments")
def payments_page() -> ResponseReturnValue:
    f = payments.PaymentFilter.from_args(request.args)
    number = request.args.get("page", "1")
    page = payments.list_page(_hub(), _shop_ids(), f, int(number) if number.isdigit() else 1)
    shops = _my_shops()
    return render_template(
        "backoffice/payments.html",
        page=page,
        f=f,
        args=f.args(),
        shops=shops,
        connectors=sorted({s.connector for s in shops}),
    )


@bp.get("/payments.csv")
def payments_csv() -> ResponseReturnValue:
    """The filtered list as CSV, streamed: the browser shows a long export's progress."""
    f = payments.PaymentFilter.from_args(request.args)
    lines: Iterator[str] = payments.csv_lines(_hub(), _shop_ids(), f)
    return Response(
        stream_with_context(lines),
        mimetype="text/csv",
        headers={"Content-Disposition": 'attachment; filename="payments.csv"'},
    )


@bp.get("/payments/<payment_id>")
def payment_page(payment_id: str) -> ResponseReturnValue:
    try:
        detail = payments.show(_hub(), _shop_ids(), payment_id)
    except NotFound:
        abort(404)
    return render_template(
        "backoffice/payment.html",
        d=detail,
        can_act=_user().account.can_act(detail.shop_id),
        done=request.args.get("done", ""),
    )


@bp.post("/payments/<payment_id>/tasks/<int:task_id>/retry")
def retry(payment_id: str, task_id: int) -> ResponseReturnValue:
    hub = _hub()
    try:
        _require_owner(payments.shop_of_payment(hub, _shop_ids(), payment_id))
        payments.retry_task(hub, _shop_ids(), payment_id, task_id, _user().account.email)
    except NotFound:
        abort(404)
    return redirect(url_for("backoffice.payment_page", payment_id=payment_id, done="retry"))


@bp.post("/payments/<payment_id>/messages/<int:message_id>/replay")
def replay(payment_id: str, message_id: int) -> ResponseReturnValue:
    hub = _hub()
    try:
        _require_owner(payments.shop_of_payment(hub, _shop_ids(), payment_id))
        payments.replay_message(hub, _shop_ids(), payment_id, message_id, _user().account.email)
    except NotFound:
        abort(404)
    return redirect(url_for("backoffice.payment_page", payment_id=payment_id, done="replay"))


# Subscriptions


@bp.get("/subscriptions")
def subscriptions_page() -> ResponseReturnValue:
    return render_template(
        "backoffice/subscriptions.html", rows=subscriptions.list_subscriptions(_hub(), _shop_ids())
    )


@bp.get("/subscriptions/<int:subscription_id>")
def subscription_page(subscription_id: int) -> ResponseReturnValue:
    hub = _hub()
    try:
        row = subscriptions.get(hub, _shop_ids(), subscription_id)
    except NotFound:
        abort(404)
    can_act = _user().account.can_act(row.shop_id)
    link = ""
    if can_act and row.state == "running":
        token = subscriptions.cancel_token(hub, row.id)
        link = f"{hub.config.public_url.rstrip('/')}{url_for('backoffice_public.cancel', token=token)}"
    return render_template("backoffice/subscription.html", s=row, can_act=can_act, cancel_link=link)


@bp.post("/subscriptions/<int:subscription_id>/<action>")
def subscription_action(subscription_id: int, action: str) -> ResponseReturnValue:
    hub = _hub()
    try:
        row = subscriptions.get(hub, _shop_ids(), subscription_id)
    except NotFound:
        abort(404)
    _require_owner(row.shop_id)
    actor = _user().account.email
    if action == "end":
        subscriptions.end(hub, _shop_ids(), subscription_id, actor)
        return redirect(url_for("backoffice.subscription_page", subscription_id=subscription_id))
    if action == "delete":
        subscriptions.delete(hub, _shop_ids(), subscription_id, actor)
        return redirect(url_for("backoffice.subscriptions_page"))
    abort(404)


@public.route("/subscriptions/cancel/<token>", methods=["GET", "POST"])
def cancel(token: str) -> ResponseReturnValue:
    """The buyer's cancel link: GET asks to confirm, POST cancels; a POST on a
    subscription already ended changes nothing and says so."""
    use_language(negotiate(buyer_languages(), languages()) or SOURCE_LANGUAGE)
    hub = _hub()
    try:
        row = subscriptions.subscription_of_token(hub, token)
    except NotFound:
        return render_template("backoffice/cancel.html", state="invalid"), 404
    if request.method == "GET":
        return render_template("backoffice/cancel.html", state="ended" if row.ended_at else "ask", s=row)
    cancelled = subscriptions.cancel_by_buyer(hub, token)
    return render_template("backoffice/cancel.html", state="done" if cancelled else "ended", s=row)


# Reconciliation


@bp.get("/reconcile")
def reconcile_page() -> ResponseReturnValue:
    """Paid payments whose shop order does not say paid (asked of each shop now)."""
    return render_template("backoffice/reconcile.html", rows=reconcile.disagreements(_hub(), _shop_ids()))


@bp.post("/reconcile/<payment_id>/fix")
def reconcile_fix(payment_id: str) -> ResponseReturnValue:
    hub = _hub()
    try:
        _require_owner(payments.shop_of_payment(hub, _shop_ids(), payment_id))
        reconcile.fix(hub, _shop_ids(), payment_id, _user().account.email)
    except NotFound:
        abort(404)
    return redirect(url_for("backoffice.payment_page", payment_id=payment_id, done="fix"))


# Statements


def _my_shop(slug: str) -> Shop:
    shop = next((s for s in _my_shops() if s.slug == slug), None)
    if shop is None:
        abort(404)
    return shop


@bp.get("/statements")
def statements_page() -> ResponseReturnValue:
    return render_template(
        "backoffice/statements.html",
        shops=_my_shops(),
        months=statements.months(_hub().clock().date()),
        plans=statements.PLANS,
    )


@bp.get("/statements/<slug>/<int:year>-<int:month>.<kind>")
def statement_file(slug: str, year: int, month: int, kind: str) -> ResponseReturnValue:
    """One month's statement of one shop, as CSV or PDF (one of the months offered)."""
    shop = _my_shop(slug)
    try:
        first = date(year, month, 1)
    except ValueError:
        abort(404)
    if first not in statements.months(_hub().clock().date()) or kind not in ("csv", "pdf"):
        abort(404)
    found = statements.statement(_hub(), shop.id, first)
    name = f"statement-{slug}-{year:04d}-{month:02d}.{kind}"
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    if kind == "csv":
        return Response(statements.as_csv(found), mimetype="text/csv", headers=headers)
    labels = {
        "title": gettext("Statement"),
        "plan": gettext("Plan"),
        "totals": gettext("Totals"),
        "payments": gettext("payments"),
        "refusals": gettext("refusals"),
        "refunds": gettext("refunds"),
        "fees": gettext("estimated fees"),
        "estimate": gettext("Fees are estimated from the plan; Bluepaid's invoice is the reference."),
    }
    return Response(statements.as_pdf(found, labels), mimetype="application/pdf", headers=headers)


@bp.post("/statements/<slug>/plan")
def statement_plan(slug: str) -> ResponseReturnValue:
    """Set the shop's plan (owners), for the fee estimates."""
    shop = _my_shop(slug)
    _require_owner(shop.id)
    plan = request.form.get("plan", "")
    if plan not in statements.PLANS:
        abort(400)
    with _hub().db.transaction() as db:
        row = db.get(Shop, shop.id)
        assert row is not None
        row.plan = plan
    return redirect(url_for("backoffice.statements_page"))


# Shops: mode and the go-live check

#: Where a test replaces how the go-live check posts to the confirmation URL.
DOCTOR_POST = "bluepaid.doctor_post"


def _poster() -> doctor.Poster:
    poster: doctor.Poster = current_app.extensions.get(DOCTOR_POST, doctor.post_over_http)
    return poster


@bp.get("/shops")
def shops_page() -> ResponseReturnValue:
    return render_template("backoffice/shops.html", shops=_my_shops())


@bp.route("/shops/<slug>/go-live", methods=["GET", "POST"])
def go_live_page(slug: str) -> ResponseReturnValue:
    """The go-live check; its POST (owners) switches the shop to production when
    every check passes."""
    shop = _my_shop(slug)
    hub = _hub()
    if request.method == "POST":
        _require_owner(shop.id)
        checks = doctor.go_live(hub, slug, _user().account.email, _poster())
    else:
        checks = doctor.doctor(hub, slug, _poster())
    return render_template(
        "backoffice/golive.html",
        shop=_my_shop(slug),
        checks=checks,
        passed=all(c.ok for c in checks),
        can_act=_user().account.can_act(shop.id),
        names=_check_names(),
    )


def _check_names() -> dict[str, str]:
    return {
        "confirmation_url": gettext("The confirmation URL answers a POST"),
        "secrets": gettext("Secrets are set"),
        "allowed_ips": gettext("The platform's addresses are allowed"),
        "return_url": gettext("The return URL is set"),
        "credentials": gettext("The shop accepts the connector's credentials"),
        "test_payments": gettext("Test payments refused, or one went through"),
    }


@bp.get("/shops/<slug>/webhooks")
def webhooks_page(slug: str) -> ResponseReturnValue:
    """The latest requests that reached the shop's webhook URL, for every user of the shop."""
    shop = _my_shop(slug)
    return render_template(
        "backoffice/webhooks.html",
        shop=shop,
        lines=webhook_inbox.latest(_hub(), shop.slug),
        shown=webhook_inbox.SHOWN,
    )


@bp.route("/shops/<slug>/settings", methods=["GET", "POST"])
def settings_page(slug: str, new_token: str = "") -> ResponseReturnValue:
    """The shop's settings: every user reads them, owners change them."""
    shop = _my_shop(slug)
    hub = _hub()
    error, status, saved = "", 200, False
    if request.method == "POST":
        _require_owner(shop.id)
        try:
            shop_settings.save(hub, shop.id, request.form, _user().account.email)
            saved = True
        except ValidationError as exc:
            error, status = "; ".join(f"{p.field}: {p.message}" for p in exc.problems) or str(exc), 400
        shop = _my_shop(slug)
    cls = hub.plugins.connector(shop.connector)
    return render_template(
        "backoffice/settings.html",
        shop=shop,
        fields=cls.settings_schema,
        values=shop_settings.form_values(hub, shop),
        locked=shop_settings.locked(hub, shop),
        can_act=_user().account.can_act(shop.id),
        error=error,
        saved=saved,
        tokens=api_tokens.list_tokens(hub, shop.id),
        new_token=new_token,
    ), status


@bp.post("/shops/<slug>/unlock")
def unlock_settings(slug: str) -> ResponseReturnValue:
    shop = _my_shop(slug)
    _require_owner(shop.id)
    try:
        shop_settings.unlock(_hub(), shop.slug, _user().account.email, request.form.get("reason", ""))
    except ValidationError:
        abort(400)
    return redirect(url_for("backoffice.settings_page", slug=slug))


@bp.post("/shops/<slug>/tokens")
def create_token(slug: str) -> ResponseReturnValue:
    """A new API token of the shop (owners), shown once on the page it answers."""
    shop = _my_shop(slug)
    _require_owner(shop.id)
    _info, token = api_tokens.create(_hub(), slug, request.form.get("name", "").strip())
    return settings_page(slug, new_token=token)


@bp.post("/shops/<slug>/tokens/<int:token_id>/revoke")
def revoke_token(slug: str, token_id: int) -> ResponseReturnValue:
    shop = _my_shop(slug)
    _require_owner(shop.id)
    try:
        api_tokens.revoke(_hub(), token_id, shop.id)
    except NotFound:
        abort(404)
    return redirect(url_for("backoffice.settings_page", slug=slug))


# ---------------------------------------------------------------- the cart's catalog


def _cart_shop(slug: str) -> Shop:
    """The user's shop ``slug`` if it is a cart shop (the only ones with a catalog); 404 otherwise."""
    shop = _my_shop(slug)
    if shop.connector != CartConnector.id:
        abort(404)
    return shop


def _catalog_page(shop: Shop, status: int = 200, **values: Any) -> ResponseReturnValue:
    return render_template(
        "backoffice/catalog.html",
        shop=shop,
        products=catalog.products(_hub().db, shop.slug),
        can_act=_user().account.can_act(shop.id),
        **values,
    ), status


@bp.get("/shops/<slug>/catalog")
def catalog_page(slug: str) -> ResponseReturnValue:
    """A cart shop's products: every user of the shop reads them, owners change them."""
    return _catalog_page(_cart_shop(slug))


@bp.post("/shops/<slug>/catalog/import")
def catalog_import(slug: str) -> ResponseReturnValue:
    """Import an uploaded CSV file as ``bluepaid catalog import`` does: every bad row
    reported (line, column, reason) and nothing imported, or all of it."""
    shop = _cart_shop(slug)
    _require_owner(shop.id)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _catalog_page(shop, 400, problems=[(gettext("file"), gettext("choose a CSV file"))])
    data = upload.read(IMPORT_MAX + 1)
    if len(data) > IMPORT_MAX:
        return _catalog_page(shop, 400, problems=[(upload.filename, gettext("larger than 5 MB"))])
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        reason = gettext("not UTF-8 text (byte %(byte)s); save it as UTF-8", byte=exc.start)
        return _catalog_page(shop, 400, problems=[(upload.filename, reason)])
    currency = CartSettings.read(shop.connector_settings).currency
    try:
        rows = catalog.parse_catalog(text.splitlines(keepends=True), currency)
    except ValidationError as exc:
        return _catalog_page(shop, 400, problems=[(p.field, p.message) for p in exc.problems])
    created, updated = catalog.import_catalog(_hub().db, shop.slug, rows)
    log.info(
        "catalog of shop %s imported by %s: %d new, %d updated",
        shop.slug,
        _user().account.email,
        created,
        updated,
    )
    return _catalog_page(shop, imported=(created, updated))


@bp.route("/shops/<slug>/catalog/<int:product_id>", methods=["GET", "POST"])
def product_page(slug: str, product_id: int) -> ResponseReturnValue:
    """One product's form: every user reads it, owners change it (its sku stays)."""
    shop = _cart_shop(slug)
    hub = _hub()
    found = catalog.product(hub.db, shop.slug, product_id)
    if found is None:
        abort(404)
    error, status, saved = "", 200, False
    if request.method == "POST":
        _require_owner(shop.id)
        values = {name: request.form.get(name, "") for name in catalog.COLUMNS if name != "active"}
        values["sku"] = found.sku
        values["active"] = "yes" if request.form.get("active") == "yes" else "no"
        currency = CartSettings.read(shop.connector_settings).currency
        try:
            found = catalog.save_product(
                hub.db, shop.slug, product_id, catalog.check_product(values, currency)
            )
            saved = True
        except ValidationError as exc:
            error, status = "; ".join(f"{p.field}: {p.message}" for p in exc.problems), 400
    return render_template(
        "backoffice/product.html",
        shop=shop,
        product=found,
        can_act=_user().account.can_act(shop.id),
        error=error,
        saved=saved,
    ), status


@bp.post("/shops/<slug>/catalog/<int:product_id>/active")
def product_active(slug: str, product_id: int) -> ResponseReturnValue:
    """Put a product on sale or take it off (``active``: ``yes`` or ``no``)."""
    shop = _cart_shop(slug)
    _require_owner(shop.id)
    try:
        catalog.set_active(_hub().db, shop.slug, product_id, request.form.get("active") == "yes")
    except NotFound:
        abort(404)
    return redirect(url_for("backoffice.catalog_page", slug=slug))
