"""The JSON API (``/api/v1/...``): one shop's payments, payment links,
subscriptions and statements, for the merchant's scripts.

A request carries ``Authorization: Bearer <token>``, a token of one shop
(:mod:`hub.api.tokens`): it sees that shop only, and another shop's payment is
404 as one that does not exist. Errors are JSON, ``{"error": code, "reason":
text}``. The OpenAPI document, ``/api/doc/openapi.json``, is generated from the
routes and their pydantic models by spectree, which also validates every request
against it.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, Flask, Response, current_app, g, jsonify, request
from flask.typing import ResponseReturnValue
from spectree import Response as Responses
from spectree import SecurityScheme, SpecTree
from spectree.models import SecureType, SecuritySchemeData
from werkzeug.exceptions import HTTPException

from bluepaid_plugins.domain import OrderStatus
from bluepaid_plugins.errors import NotFound, ValidationError
from bluepaid_plugins.money import Money
from hub.api import models
from hub.api.tokens import shop_of
from hub.backoffice import payments, statements, subscriptions
from hub.context import Hub
from hub.models import LinkOrder, Shop
from hub.orders import HubOrderStore, create_link_order

PREFIX = "/api/"
bp = Blueprint("api", __name__, url_prefix="/api/v1")

#: The OpenAPI document of these routes, served at ``/api/doc/openapi.json``. One per
#: process, like the routes it describes: registering it on another app (tests build
#: many) describes the same code, so its cached document stays true.
spec = SpecTree(
    "flask",
    title="Bluepaid hub API",
    version="1.0",
    # Outside /api/v1: spectree leaves the routes under its own path out of the document.
    path="api/doc",
    mode="strict",
    # The document only: the interactive pages load scripts from a CDN.
    page_templates={},
    security_schemes=[
        SecurityScheme(name="bearer", data=SecuritySchemeData(type=SecureType.HTTP, scheme="bearer"))
    ],
    security={"bearer": []},
    validation_error_status=400,
    before=lambda req, resp, err, instance, adapter: _invalid(resp, err),
)

ERRORS = {"HTTP_400": models.Error, "HTTP_401": models.Error, "HTTP_404": models.Error}


def _invalid(resp: Response | None, err: Exception | None) -> None:
    """A request the models refuse: our error format, with pydantic's reason."""
    if err is not None and resp is not None:
        resp.set_data(jsonify(error="invalid_request", reason=str(err)[:1000]).get_data())
        resp.mimetype = "application/json"


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    spec.register(app)


def _hub() -> Hub:
    hub: Hub = current_app.extensions["bluepaid.hub"]
    return hub


def _shop() -> list[int]:
    return [int(g.api_shop_id)]


def _error(status: int, code: str, reason: str) -> tuple[Response, int]:
    return jsonify(error=code, reason=reason), status


@bp.before_request
def _authenticate() -> ResponseReturnValue | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    shop_id = shop_of(_hub(), token.strip()) if scheme.lower() == "bearer" and token.strip() else None
    if shop_id is None:
        return _error(401, "unauthorized", "a valid API token is required (Authorization: Bearer <token>)")
    g.api_shop_id = shop_id
    return None


@bp.errorhandler(HTTPException)
def error_response(error: HTTPException) -> ResponseReturnValue:
    """An HTTP error as the API's JSON (a request refused by the models keeps its own)."""
    if isinstance(error.response, Response):
        return error.response
    return _error(
        error.code or 500, (error.name or "error").lower().replace(" ", "_"), error.description or ""
    )


@bp.errorhandler(NotFound)
def _not_found(error: NotFound) -> ResponseReturnValue:
    return _error(404, "not_found", str(error))


@bp.errorhandler(ValidationError)
def _invalid_value(error: ValidationError) -> ResponseReturnValue:
    """A value the models let through but the hub refuses (an e-mail without ``@``)."""
    return _error(400, "invalid_request", str(error))


def _context(name: str) -> Any:
    return getattr(request.context, name)  # type: ignore[attr-defined]


def _payment_out(row: payments.Row) -> models.Payment:
    return models.Payment(
        id=row.id,
        shop=row.shop,
        order_ref=row.order_ref,
        amount=str(row.amount),
        currency=row.amount.currency,
        state=row.state,
        test=row.test,
        flags=list(row.flags),
        id_trans=row.id_trans,
        email=row.email,
        created_at=row.created_at,
    )


@bp.get("/payments")
@spec.validate(
    query=models.PaymentQuery, resp=Responses(HTTP_200=models.PaymentList, **ERRORS), tags=["payments"]
)
def list_payments() -> models.PaymentList:
    """The shop's payments, newest first, filtered as the back office's list."""
    q: models.PaymentQuery = _context("query")
    args = {
        "state": q.state or "",
        "test": q.test or "",
        "from": q.date_from.isoformat() if q.date_from else "",
        "to": q.date_to.isoformat() if q.date_to else "",
        "min": str(q.amount_min) if q.amount_min is not None else "",
        "max": str(q.amount_max) if q.amount_max is not None else "",
        "q": q.q or "",
    }
    page = payments.list_page(_hub(), _shop(), payments.PaymentFilter.from_args(args), q.page)
    return models.PaymentList(
        payments=[_payment_out(r) for r in page.rows], page=page.number, pages=page.pages, total=page.total
    )


@bp.get("/payments/<payment_id>")
@spec.validate(resp=Responses(HTTP_200=models.PaymentDetail, **ERRORS), tags=["payments"])
def show_payment(payment_id: str) -> models.PaymentDetail:
    """One payment and its timeline (requests, confirmations, state changes, tasks, actions)."""
    detail = payments.show(_hub(), _shop(), payment_id)
    return models.PaymentDetail(
        payment=_payment_out(detail.row),
        timeline=[
            models.TimelineEntry(
                at=e.at,
                kind=e.kind,
                title=e.title,
                detail=e.detail,
                fields={k: v for k, v in e.fields},
                verdict=e.verdict,
                source=e.source,
            )
            for e in detail.timeline
        ],
    )


def _link_out(hub: Hub, shop: Shop, row: LinkOrder) -> models.Link:
    return models.Link(
        ref=row.ref,
        amount=str(row.amount),
        currency=row.currency,
        description=row.description,
        status=row.status,
        pay_url=hub.pay_url(shop, row.ref),
    )


def _shop_row(hub: Hub) -> Shop:
    with hub.db.transaction() as session:
        shop = session.get(Shop, g.api_shop_id)
        assert shop is not None
        return shop


@bp.post("/links")
@spec.validate(json=models.LinkIn, resp=Responses(HTTP_201=models.Link, **ERRORS), tags=["links"])
def create_link() -> tuple[models.Link, int]:
    """A payment-link order of the shop, and the link a buyer pays it with."""
    body: models.LinkIn = _context("json")
    hub = _hub()
    shop = _shop_row(hub)
    row = create_link_order(
        hub.db,
        shop,
        Money.parse(body.amount, body.currency),
        now=hub.clock(),
        description=body.description,
        email=body.email,
    )
    return _link_out(hub, shop, row), 201


@bp.post("/links/<ref>/cancel")
@spec.validate(resp=Responses(HTTP_200=models.Link, **ERRORS), tags=["links"])
def cancel_link(ref: str) -> models.Link:
    """Cancel an open payment link: it no longer starts a payment. 404 for a link
    that is not open (paid, cancelled, or unknown)."""
    hub = _hub()
    shop = _shop_row(hub)
    store = HubOrderStore(hub.db, shop.id, hub.clock)
    order = store.get(ref)
    if order is None or not order.status.payable:
        raise NotFound(f"no open payment link {ref!r}")
    store.set_status(ref, OrderStatus.CANCELLED, "cancelled through the API")
    with hub.db.transaction() as session:
        row = session.query(LinkOrder).filter_by(shop_id=shop.id, ref=ref).one()
        session.expunge(row)
    return _link_out(hub, shop, row)


def _subscription_out(row: subscriptions.SubscriptionRow) -> models.Subscription:
    return models.Subscription(
        id=row.id,
        payment=row.payment,
        order_ref=row.order_ref,
        num_abo=row.num_abo,
        amount=str(row.amount),
        currency=row.amount.currency,
        debits_done=row.debits_done,
        occurrences=row.occurrences,
        next_debit=row.next_debit,
        state=row.state,
    )


@bp.get("/subscriptions")
@spec.validate(resp=Responses(HTTP_200=models.SubscriptionList, **ERRORS), tags=["subscriptions"])
def list_subscriptions() -> models.SubscriptionList:
    """The shop's subscriptions (deleted ones left out), newest first."""
    rows = subscriptions.list_subscriptions(_hub(), _shop())
    return models.SubscriptionList(subscriptions=[_subscription_out(r) for r in rows])


@bp.post("/subscriptions/<int:subscription_id>/finish")
@spec.validate(resp=Responses(HTTP_200=models.Subscription, **ERRORS), tags=["subscriptions"])
def finish_subscription(subscription_id: int) -> models.Subscription:
    """Set the subscription to finished (once: a second call changes nothing)."""
    hub = _hub()
    subscriptions.end(hub, _shop(), subscription_id, "api")
    return _subscription_out(subscriptions.get(hub, _shop(), subscription_id))


@bp.get("/statements/<int:year>-<int:month>")
@spec.validate(resp=Responses(HTTP_200=models.Statement, **ERRORS), tags=["statements"])
def statement(year: int, month: int) -> models.Statement:
    """The shop's statement of a month (one of the last six), with estimated fees."""
    hub = _hub()
    try:
        first = date(year, month, 1)
    except ValueError as exc:
        raise NotFound(f"no month {year}-{month}") from exc
    if first not in statements.months(hub.clock().date()):
        raise NotFound(f"the statement of {first:%Y-%m} is not offered: the last six months are")
    found = statements.statement(hub, g.api_shop_id, first)
    return models.Statement(
        shop=found.shop,
        month=first.strftime("%Y-%m"),
        plan=found.plan.name,
        lines=[
            models.StatementLine(
                at=line.at,
                kind=line.kind,
                order_ref=line.order_ref,
                id_trans=line.id_trans,
                amount=str(line.amount),
                currency=line.amount.currency,
                estimated_fee=str(line.fee),
            )
            for line in found.lines
        ],
        totals={c: {k: str(v) for k, v in sums.items()} for c, sums in found.totals().items()},
    )
