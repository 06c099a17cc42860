"""The payment form's page: ``/form/<shop>``, in French or English.

GET shows the form (a merchant's link or ``<form method="get">`` may prefill
``amount``, ``reference`` and ``email``: they are checked like typed values);
POST checks it, stores the order through the hub's
:class:`~bluepaid_plugins.sources.OrderDesk` and sends the buyer, by a 303, to
the hub's pay URL of that order: the only place this page ever redirects to.
The page has no script and no card field: the card is typed on the platform's
page only.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Mapping

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError  # type: ignore[import-untyped]
from werkzeug.exceptions import NotFound

from bluepaid_locales import (
    SOURCE_LANGUAGE,
    buyer_languages,
    current_language,
    format_currency,
    gettext,
    language_name,
    languages,
    negotiate,
    use_language,
)
from bluepaid_plugins.domain import ShopView
from bluepaid_plugins.errors import RateLimited, ValidationError
from bluepaid_plugins.sources import OrderDesk
from payment_form.connector import FormSettings
from payment_form.forms import REFERENCE_MAX, PaymentForm, field_aria, payment_form

log = logging.getLogger(__name__)

#: The page's policy: styles in the page, nothing else loaded, never framed. No
#: form-action: the pay URL the form leads to redirects on to the platform.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; frame-ancestors 'none'"
)
#: What a merchant's link may prefill, with the longest value kept.
PREFILLED = {"amount": 20, "reference": REFERENCE_MAX, "email": 128}


def form_blueprint(desk: OrderDesk) -> Blueprint:
    """The blueprint of the form's page, reading shops and storing orders through ``desk``."""
    pages = Blueprint("payment_form", __name__, template_folder="templates")

    @pages.route("/<shop>", methods=["GET", "POST"])
    def form_page(shop: str) -> ResponseReturnValue:
        view = desk.shop(shop)
        if view is None:
            abort(404)
        _speak(view)
        settings = _settings(desk, view)
        # A merchant's link prefills with a GET; a POST is the buyer's own.
        form = payment_form(settings, data=_prefill(request.args) if request.method == "GET" else {})
        once = _once(shop)
        if form.validate_on_submit():
            assert form.amount_checked is not None  # set by a successful validation
            if request.form.get("once", "") != once:
                notice = gettext("This form has expired. Check it and send it again.")
                return _page(view, form, status=400, notice=notice, once=once)
            try:
                ref = desk.create_order(
                    shop,
                    form.amount_checked,
                    description=form.reference.data.strip(),
                    customer=form.customer(),
                    language=current_language().upper(),
                    details=form.details(),
                    client=request.remote_addr or "",
                    once=once,
                )
            except RateLimited:
                notice = gettext(
                    "Too many payments were started from your connection. Try again in a few minutes."
                )
                return _page(view, form, status=429, notice=notice, once=once)
            except ValidationError as exc:
                # The form's rules are the store's or stricter: this is a bug to log, not the buyer's fault.
                log.error("payment form of shop %s: the order was refused: %s", shop, exc)
                abort(500)
            return redirect(desk.pay_url(shop, ref), 303)
        return _page(view, form, status=400 if form.errors else 200, once=once)

    @pages.errorhandler(CSRFError)
    def expired(error: CSRFError) -> ResponseReturnValue:
        # A form kept open past the token's life, or cookies refused: the buyer sends it again.
        shop = (request.view_args or {}).get("shop", "")
        view = desk.shop(shop)
        if view is None:
            # Raised here, a 404 would become a 500: the app's own page for it is asked instead.
            return current_app.handle_http_exception(NotFound())
        _speak(view)
        form = payment_form(_settings(desk, view), formdata=None, data=_prefill(request.form))
        notice = gettext("This form has expired. Check it and send it again.")
        return _page(view, form, status=400, notice=notice, once=_once(shop))

    @pages.after_request
    def headers(response: Response) -> Response:
        response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
        # The page carries the buyer's CSRF token and what they typed: no shared cache keeps it.
        response.headers["Cache-Control"] = "no-store"
        return response

    return pages


def _speak(view: ShopView) -> None:
    """The language asked by the page's switch (``?lang=``), else the browser's, else the
    shop's, else English: the hub's rule, with the switch in the order's place."""
    asked = request.args.get("lang", "")
    use_language(negotiate([asked, *buyer_languages(), view.language], languages()) or SOURCE_LANGUAGE)


def _settings(desk: OrderDesk, view: ShopView) -> FormSettings:
    try:
        return FormSettings.read(desk.settings(view.slug))
    except ValidationError as exc:
        # Validated when stored: settings edited around the hub's checks. The merchant must fix them.
        log.error("payment form of shop %s: %s", view.slug, exc)
        abort(500)


def _once(shop: str) -> str:
    """The one-time key of the buyer's form of ``shop``, kept in their session: sent
    twice (a double click, a reload), the form makes one order. Each opening of the
    page (a GET) draws a new key, so the next payment is a new order."""
    name = f"payment_form:{shop}:once"
    kept = session.get(name)
    if request.method == "GET" or not isinstance(kept, str) or not kept:
        kept = session[name] = secrets.token_urlsafe(16)
    return kept


def _prefill(values: Mapping[str, str]) -> dict[str, str]:
    """The values of :data:`PREFILLED` found in ``values``, cut to their longest."""
    return {name: str(values.get(name, ""))[:longest] for name, longest in PREFILLED.items()}


def _page(view: ShopView, form: PaymentForm, *, status: int, once: str, notice: str = "") -> tuple[str, int]:
    current = current_language()
    switch = [
        {"code": code, "name": language_name(code), "url": url_for(".form_page", shop=view.slug, lang=code)}
        for code in languages()
        if code != current
    ]
    settings = form.settings
    page = render_template(
        "payment_form/form.html",
        shop=view,
        form=form,
        aria=field_aria,
        notice=notice,
        action=url_for(".form_page", shop=view.slug, lang=current),
        once=once,
        switch=switch,
        bounds=_bounds(settings),
    )
    return page, status


def _bounds(settings: FormSettings) -> str:
    """The help under a typed amount: its bounds, in the page's language."""
    if settings.amounts:
        return ""
    low = format_currency(settings.minimum.amount, settings.currency) if settings.minimum else ""
    high = format_currency(settings.maximum.amount, settings.currency) if settings.maximum else ""
    if low and high:
        return gettext("From %(low)s to %(high)s.", low=low, high=high)
    if low:
        return gettext("At least %(low)s.", low=low)
    if high:
        return gettext("At most %(high)s.", high=high)
    return ""
