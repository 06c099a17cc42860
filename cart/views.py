"""The cart's public pages, under ``/cart/<shop>``: the catalog, a product, the
basket, the checkout, and the buyer's orders.

The basket lives in the session (product ids and quantities only: names and
prices are read from the catalog each time, so a price changed by the merchant
is the one charged, and nothing the browser sends is trusted for an amount).
Every POST carries the hub's CSRF token; every redirect is to one of these
pages or to the hub's pay URL, built here, never to a URL from the request.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from flask import Blueprint, abort, current_app, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError  # type: ignore[import-untyped]
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import NotFound
from werkzeug.wrappers import Response

from bluepaid_locales import (
    SOURCE_LANGUAGE,
    buyer_languages,
    current_language,
    format_currency,
    format_number,
    gettext,
    language_name,
    languages,
    negotiate,
    use_language,
)
from bluepaid_plugins.domain import LineItem, Order, OrderStatus, ShopView
from bluepaid_plugins.errors import RateLimited, ValidationError
from bluepaid_plugins.money import Money
from bluepaid_plugins.sources import OrderDesk
from cart import catalog, stock
from cart.basket import LINES_MAX, QUANTITY_MAX, Line, Totals, totals
from cart.connector import CartSettings
from cart.forms import CheckoutForm, QuantityForm, field_aria
from cart.models import Checkout

log = logging.getLogger(__name__)

#: The pages' policy: styles in the page, images from https sites (the catalog's),
#: nothing else loaded, never framed. No form-action: the checkout leads to the pay
#: URL, which redirects on to the platform.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src https:; base-uri 'none'; frame-ancestors 'none'"
)
#: How many of the buyer's orders the session remembers, for the orders page.
ORDERS_KEPT = 10


@dataclass(frozen=True)
class Shown:
    """A basket's totals as a page shows them: every amount formatted for the language."""

    lines: list[dict[str, Any]]
    goods: str
    shipping: str
    vat: list[tuple[str, str]]
    total: str


def _money(amount: Money) -> str:
    return format_currency(amount.amount, amount.currency)


def _rate(rate: Decimal) -> str:
    """A VAT rate for the page: ``5,5`` in French."""
    return format_number(rate.normalize())


def shown(found: Totals) -> Shown:
    """``found`` formatted for the request's language."""
    return Shown(
        lines=[
            {
                "id": line.product_id,
                "name": line.name,
                "quantity": line.quantity,
                "unit": _money(line.unit),
                "total": _money(line.total),
                "rate": _rate(line.rate),
            }
            for line in found.lines
        ],
        goods=_money(found.goods),
        shipping=_money(found.shipping) if found.shipping.minor else "",
        vat=[(_rate(rate), _money(amount)) for rate, amount in found.vat.items()],
        total=_money(found.total),
    )


def cart_blueprint(desk: OrderDesk) -> Blueprint:
    """The blueprint of the cart's pages, reading shops and storing orders through ``desk``."""
    pages = Blueprint("cart", __name__, template_folder="templates")

    def open_shop(slug: str) -> tuple[ShopView, CartSettings]:
        view = desk.shop(slug)
        if view is None:
            abort(404)
        _speak(view)
        try:
            settings = CartSettings.read(desk.settings(slug))
        except ValidationError as exc:
            # Validated when stored: settings edited around the hub's checks. The merchant must fix them.
            log.error("cart of shop %s: %s", slug, exc)
            abort(500)
        stock.settle(desk.database(), slug, lambda ref: desk.order(slug, ref), now=datetime.now(UTC))
        return view, settings

    def basket_lines(slug: str, settings: CartSettings) -> list[Line]:
        """The session's basket, read against the catalog: lines of products gone off
        sale are dropped, quantities kept within bounds."""
        wanted = _basket(slug)
        lines = []
        for product_id, quantity in wanted.items():
            found = catalog.product(desk.database(), slug, product_id)
            if found is None or not found.active or found.currency != settings.currency:
                continue
            lines.append(Line(found.id, found.name, found.price, found.vat_rate, quantity))
        return lines

    def basket_totals(lines: list[Line], settings: CartSettings) -> Totals:
        return totals(
            lines,
            settings.currency,
            shipping=settings.shipping,
            shipping_rate=settings.shipping_rate,
            rounding=settings.rounding,
        )

    def page(
        template: str, view: ShopView, endpoint: str, status: int = 200, **values: Any
    ) -> tuple[str, int]:
        current = current_language()
        args = dict(request.view_args or {})
        switch = [
            {"code": code, "name": language_name(code), "url": url_for(endpoint, **args, lang=code)}
            for code in languages()
            if code != current
        ]
        count = sum(_basket(view.slug).values())
        html = render_template(
            f"cart/{template}", shop=view, switch=switch, basket_count=count, aria=field_aria, **values
        )
        return html, status

    @pages.route("/<shop>")
    def products(shop: str) -> ResponseReturnValue:
        view, settings = open_shop(shop)
        found = [
            product
            for product in catalog.products(desk.database(), shop, active_only=True)
            if product.currency == settings.currency
        ]
        return page("products.html", view, ".products", products=found, money=_money, form=QuantityForm())

    @pages.route("/<shop>/product/<int:product_id>")
    def product(shop: str, product_id: int) -> ResponseReturnValue:
        view, _settings = open_shop(shop)
        found = catalog.product(desk.database(), shop, product_id)
        if found is None or not found.active:
            abort(404)
        return page(
            "product.html", view, ".product", product=found, money=_money, form=QuantityForm(), rate=_rate
        )

    @pages.route("/<shop>/basket/add/<int:product_id>", methods=["POST"])
    def add(shop: str, product_id: int) -> ResponseReturnValue:
        view, _settings = open_shop(shop)
        found = catalog.product(desk.database(), shop, product_id)
        if found is None or not found.active:
            abort(404)
        form = QuantityForm()
        if not form.validate_on_submit():
            return page(
                "product.html", view, ".product", 400, product=found, money=_money, form=form, rate=_rate
            )
        wanted = _basket(shop)
        if product_id not in wanted and len(wanted) >= LINES_MAX:
            notice = gettext("Your basket is full: at most %(count)s products.", count=LINES_MAX)
            return page(
                "product.html",
                view,
                ".product",
                400,
                product=found,
                money=_money,
                form=form,
                rate=_rate,
                notice=notice,
            )
        wanted[product_id] = min(QUANTITY_MAX, wanted.get(product_id, 0) + form.quantity.data)
        _keep_basket(shop, wanted)
        return redirect(url_for(".basket", shop=shop), 303)

    @pages.route("/<shop>/basket")
    def basket(shop: str) -> ResponseReturnValue:
        view, settings = open_shop(shop)
        lines = basket_lines(shop, settings)
        return page(
            "basket.html",
            view,
            ".basket",
            totals=shown(basket_totals(lines, settings)),
            form=QuantityForm(minimum=0),
        )

    @pages.route("/<shop>/basket/<int:product_id>", methods=["POST"])
    def change(shop: str, product_id: int) -> ResponseReturnValue:
        view, settings = open_shop(shop)
        wanted = _basket(shop)
        form = QuantityForm(minimum=0)
        if "remove" in request.form:
            # The hub's CSRF protection checked the token before this view ran.
            wanted.pop(product_id, None)
        elif form.validate_on_submit():
            if form.quantity.data == 0:
                wanted.pop(product_id, None)
            elif product_id in wanted:
                wanted[product_id] = form.quantity.data
        else:
            lines = basket_lines(shop, settings)
            notice = gettext("The quantity must be a whole number from 0 to %(high)s.", high=QUANTITY_MAX)
            return page(
                "basket.html",
                view,
                ".basket",
                400,
                totals=shown(basket_totals(lines, settings)),
                form=QuantityForm(minimum=0, formdata=None),
                notice=notice,
            )
        _keep_basket(shop, wanted)
        return redirect(url_for(".basket", shop=shop), 303)

    @pages.route("/<shop>/checkout", methods=["GET", "POST"])
    def checkout(shop: str) -> ResponseReturnValue:
        view, settings = open_shop(shop)
        lines = basket_lines(shop, settings)
        if not lines:
            return redirect(url_for(".basket", shop=shop), 303)
        found = basket_totals(lines, settings)
        form = CheckoutForm(settings.countries)
        if request.method == "GET":
            # One token per checkout page: sent twice (a double click, a reload), the
            # form makes one order, and the second answer leads to the first one's payment.
            session[f"cart:{shop}:checkout"] = secrets.token_urlsafe(16)
        if not form.validate_on_submit():
            return checkout_page(view, settings, form, found, 400 if form.errors else 200)
        token = session.get(f"cart:{shop}:checkout", "")
        if not isinstance(token, str) or not token:
            return checkout_page(
                view,
                settings,
                form,
                found,
                400,
                gettext("This form has expired. Check it and send it again."),
            )
        earlier = _claim(desk, shop, token)
        if earlier is not None:
            return redirect(earlier, 303) if earlier else redirect(url_for(".orders", shop=shop), 303)
        try:
            holds = stock.reserve(
                desk.database(),
                shop,
                {line.product_id: line.quantity for line in lines},
                now=datetime.now(UTC),
                hold_for=settings.hold,
            )
        except stock.OutOfStock:
            _unclaim(desk, shop, token)
            notice = gettext(
                "Some products of your basket are no longer available in that quantity. Check your basket."
            )
            return checkout_page(view, settings, form, found, 409, notice)
        try:
            ref = desk.create_order(
                shop,
                found.total,
                description=_description(lines),
                customer=form.customer(),
                language=current_language().upper(),
                lines=[
                    *(LineItem(line.name, line.quantity, line.unit.amount) for line in lines),
                    *(
                        [LineItem(gettext("Shipping"), 1, found.shipping.amount)]
                        if found.shipping.minor
                        else []
                    ),
                ],
                details=form.details(),
                client=request.remote_addr or "",
            )
        except RateLimited:
            stock.release(desk.database(), shop, holds)
            _unclaim(desk, shop, token)
            notice = gettext(
                "Too many payments were started from your connection. Try again in a few minutes."
            )
            return checkout_page(view, settings, form, found, 429, notice)
        except ValidationError as exc:
            stock.release(desk.database(), shop, holds)
            _unclaim(desk, shop, token)
            log.error("cart of shop %s: the order was refused: %s", shop, exc)
            abort(500)
        stock.attach(desk.database(), shop, holds, ref)
        _finish_claim(desk, shop, token, ref)
        _remember_order(shop, ref)
        return redirect(desk.pay_url(shop, ref), 303)

    def checkout_page(
        view: ShopView,
        settings: CartSettings,
        form: CheckoutForm,
        found: Totals,
        status: int,
        notice: str = "",
    ) -> tuple[str, int]:
        served = ""
        if settings.countries:
            names = dict(form.country.choices and [(c.value, c.label) for c in form.country.choices])
            served = ", ".join(sorted(names.get(code, code) for code in settings.countries))
        return page(
            "checkout.html",
            view,
            ".checkout",
            status,
            form=form,
            totals=shown(found),
            notice=notice,
            served=served,
            action=url_for(".checkout", shop=view.slug),
        )

    @pages.route("/<shop>/orders")
    def orders(shop: str) -> ResponseReturnValue:
        view, _settings = open_shop(shop)
        found = [order for order in (desk.order(shop, ref) for ref in _orders(shop)) if order is not None]
        if any(order.status.paid for order in found[:1]):
            # The last checkout was paid: the basket became that order.
            _keep_basket(shop, {})
        return page("orders.html", view, ".orders", orders=[_order_shown(order) for order in found])

    @pages.route("/<shop>/order/<ref>")
    def order(shop: str, ref: str) -> ResponseReturnValue:
        view, _settings = open_shop(shop)
        # Only the session that made the order sees it: a ref alone is no proof of holding it.
        found = desk.order(shop, ref) if ref in _orders(shop) else None
        if found is None:
            abort(404)
        if found.status.paid and _orders(shop)[:1] == [ref]:
            _keep_basket(shop, {})
        retry = desk.pay_url(shop, ref) if found.status.payable else ""
        return page("order.html", view, ".order", order=_order_shown(found), retry_url=retry)

    @pages.errorhandler(CSRFError)
    def expired(error: CSRFError) -> ResponseReturnValue:
        # A page kept open past the token's life, or cookies refused: the buyer sends it again.
        shop = (request.view_args or {}).get("shop", "")
        if desk.shop(shop) is None:
            # Raised here, a 404 would become a 500: the app's own page for it is asked instead.
            return current_app.handle_http_exception(NotFound())
        view, settings = open_shop(shop)
        lines = basket_lines(shop, settings)
        notice = gettext("This form has expired. Check it and send it again.")
        return page(
            "basket.html",
            view,
            ".basket",
            400,
            totals=shown(basket_totals(lines, settings)),
            form=QuantityForm(minimum=0, formdata=None),
            notice=notice,
        )

    @pages.after_request
    def headers(response: Response) -> Response:
        response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
        # The pages carry the buyer's basket, details and CSRF token: no shared cache keeps them.
        response.headers["Cache-Control"] = "no-store"
        return response

    return pages


def _speak(view: ShopView) -> None:
    """The language of the page's switch (``?lang=``, then kept in the session), else the
    browser's, else the shop's, else English."""
    asked = request.args.get("lang", "")
    if asked in languages():
        session["cart:lang"] = asked
    kept = session.get("cart:lang", "")
    chosen = negotiate(
        [kept if isinstance(kept, str) else "", *buyer_languages(), view.language], languages()
    )
    use_language(chosen or SOURCE_LANGUAGE)


def _basket(shop: str) -> dict[int, int]:
    """The session's basket of ``shop``: product id to quantity, anything malformed dropped."""
    raw = session.get(f"cart:{shop}:basket")
    if not isinstance(raw, Mapping):
        return {}
    found: dict[int, int] = {}
    for key, value in raw.items():
        if isinstance(key, str) and key.isdigit() and isinstance(value, int) and 0 < value <= QUANTITY_MAX:
            found[int(key)] = value
    return found


def _keep_basket(shop: str, wanted: Mapping[int, int]) -> None:
    session[f"cart:{shop}:basket"] = {str(key): value for key, value in wanted.items()}


def _orders(shop: str) -> list[str]:
    """The refs of the orders this session made in ``shop``, newest first."""
    raw = session.get(f"cart:{shop}:orders")
    return [ref for ref in raw if isinstance(ref, str)] if isinstance(raw, list) else []


def _remember_order(shop: str, ref: str) -> None:
    session[f"cart:{shop}:orders"] = [ref, *_orders(shop)][:ORDERS_KEPT]


def _description(lines: list[Line]) -> str:
    """The order's description for the merchant and the payment page: its products."""
    text = ", ".join(f"{line.quantity} × {line.name}" for line in lines)
    return text if len(text) <= 255 else text[:254] + "…"


def _order_shown(order: Order) -> dict[str, Any]:
    status = {
        OrderStatus.OPEN: gettext("Waiting for payment"),
        OrderStatus.FAILED: gettext("Waiting for payment"),
        OrderStatus.PAID: gettext("Paid"),
        OrderStatus.PARTIALLY_REFUNDED: gettext("Partially refunded"),
        OrderStatus.REFUNDED: gettext("Refunded"),
        OrderStatus.CANCELLED: gettext("Payment refused or given up"),
        OrderStatus.EXPIRED: gettext("Expired"),
    }.get(order.status, order.status.value)
    return {
        "ref": order.ref,
        "status": status,
        "state": order.status.value,
        "total": _money(order.total),
        "lines": [
            {
                "name": line.name,
                "quantity": line.quantity,
                "unit": format_currency(line.unit_price, order.total.currency),
            }
            for line in order.items
        ],
    }


def _claim(desk: OrderDesk, shop: str, token: str) -> str | None:
    """Claim the checkout ``token``: None when this request is the first to send it; else
    the pay URL of the order it made (empty while the first request is still at work)."""
    db = desk.database()
    try:
        with db.transaction() as session_:
            session_.add(Checkout(shop=shop, token=token, created_at=datetime.now(UTC)))
    except IntegrityError:
        with db.transaction() as session_:
            ref = session_.scalar(
                select(Checkout.order_ref).where(Checkout.shop == shop, Checkout.token == token)
            )
        return desk.pay_url(shop, ref) if ref else ""
    return None


def _finish_claim(desk: OrderDesk, shop: str, token: str, ref: str) -> None:
    with desk.database().transaction() as session_:
        found = session_.scalar(select(Checkout).where(Checkout.shop == shop, Checkout.token == token))
        if found is not None:
            found.order_ref = ref


def _unclaim(desk: OrderDesk, shop: str, token: str) -> None:
    """Free the token of a checkout that made no order, so the buyer may send it again."""
    with desk.database().transaction() as session_:
        found = session_.scalar(select(Checkout).where(Checkout.shop == shop, Checkout.token == token))
        if found is not None:
            session_.delete(found)
