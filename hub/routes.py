"""The hub's public routes: start a payment, receive confirmations, browser returns."""

from __future__ import annotations

import logging
import secrets

from babel.numbers import format_currency
from flask import Blueprint, Response, current_app, redirect, render_template, request
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from bluepaid_plugins.errors import (
    BluepaidError,
    ConfigurationError,
    NotFound,
    OrderNotFound,
    PaymentVetoed,
    PluginBug,
    ShopUnavailable,
    ValidationError,
)
from bluepaid_plugins.paylink import PROOF_PARAMETER
from hub import inbox, junk, webhooks
from hub.context import Hub
from hub.models import Payment, PaymentState, Shop
from hub.pay import NotPayable, start_payment
from hub.texts import TEXTS, pick_language

log = logging.getLogger(__name__)

bp = Blueprint("hub", __name__)

_HEADLINES = {
    PaymentState.PAID: "paid",
    PaymentState.PARTIALLY_REFUNDED: "paid",
    PaymentState.REFUNDED: "refunded",
    PaymentState.REFUSED: "refused",
    PaymentState.CANCELLED: "cancelled",
}


def _hub() -> Hub:
    hub: Hub = current_app.extensions["bluepaid.hub"]
    return hub


def _lang(preferred: str = "", fallback: str = "en") -> str:
    return pick_language(request.headers.get("Accept-Language", ""), preferred, fallback)


def _message(status: int, key: str, detail: str = "", lang: str = "", back_url: str = "") -> tuple[str, int]:
    lang = lang or _lang()
    t = TEXTS[lang]
    page = render_template(
        "message.html",
        t=t,
        lang=lang,
        headline=t[key],
        detail=detail,
        back_url=back_url,
        css="error" if status >= 400 else "",
    )
    return page, status


# What a buyer reads for an order that exists but cannot be paid: (status, headline, detail).
_NOT_PAYABLE_PAGES = {
    "paid": (409, "already_paid", "already_paid_detail"),
    "cancelled": (409, "order_cancelled", "not_payable_detail"),
    "expired": (409, "order_expired", "not_payable_detail"),
    "closed": (409, "order_closed", "not_payable_detail"),
    "link_expired": (410, "link_expired", "link_expired_detail"),
    "currency": (409, "currency_refused", "not_payable_detail"),
}


@bp.get("/pay/<shop>/<order_ref>")
def pay(shop: str, order_ref: str) -> ResponseReturnValue:
    """Send the buyer to the platform for ``order_ref`` of ``shop``, if the link's
    ``key`` proves they hold the order."""
    hub = _hub()
    lang = _lang()
    t = TEXTS[lang]
    try:
        outcome = start_payment(hub, shop, order_ref, request.args.get(PROOF_PARAMETER, ""))
    except NotFound as exc:
        # No shop, no order, a wrong proof: one answer, so nobody learns which exist.
        log.info("pay link refused: %s", exc)
        return _message(404, "unknown_order", t["unknown_order_detail"])
    except OrderNotFound as exc:
        log.info("pay link refused: %s", exc)
        return _message(404, "unknown_order", t["unknown_order_detail"])
    except (ShopUnavailable, OSError) as exc:
        # OSError: a connector's call that failed on the network without saying ShopUnavailable.
        log.warning("payment start for %s/%s: %s", shop, order_ref, exc)
        return _message(503, "shop_unavailable")
    except PaymentVetoed as exc:
        return _message(409, "blocked", str(exc))
    except ValidationError as exc:
        log.error("payment request for %s/%s is invalid: %s", shop, order_ref, exc)
        return _message(500, "config_error", "; ".join(p.field for p in exc.problems))
    except PluginBug as exc:
        log.error("payment start for %s/%s: %s\n%s", shop, order_ref, exc, exc.traceback)
        return _message(500, "error")
    except ConfigurationError as exc:
        log.error("payment start for %s/%s: %s", shop, order_ref, exc)
        return _message(500, "config_error", "")
    except BluepaidError as exc:
        log.error("payment start for %s/%s failed: %s", shop, order_ref, exc)
        return _message(502, "error")
    if isinstance(outcome, NotPayable):
        status, headline, detail = _NOT_PAYABLE_PAGES[outcome.reason]
        return _message(status, headline, t[detail])
    if outcome.method == "post":
        nonce = secrets.token_urlsafe(16)
        page = render_template(
            "redirect_post.html", t=t, lang=lang, action=outcome.action, fields=outcome.fields, nonce=nonce
        )
        response = Response(page)
        response.headers["Content-Security-Policy"] = (
            f"default-src 'none'; style-src 'unsafe-inline'; script-src 'nonce-{nonce}';"
            f" form-action {_origin(outcome.action)}"
        )
        return response
    return redirect(outcome.url, 302)


def _origin(url: str) -> str:
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0]}"


@bp.route(
    "/confirm/<shop>/<token>",
    methods=["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"],
    provide_automatic_options=False,
)
def confirm(shop: str, token: str) -> tuple[str, int, dict[str, str]]:
    """The confirmation URL (``url_retour_bo``): store first, then check and apply."""
    hub = _hub()
    # Read one byte more than we keep: a huge body must not fill the memory first,
    # and a body past the limit is refused whole, never read cut.
    body = request.stream.read(inbox.MAX_BODY + 1)
    remote = request.remote_addr or ""
    if not junk.may_be_real(hub, shop, token, remote):
        result = junk.record(
            hub,
            current_app.extensions["bluepaid.junk"],
            method=request.method,
            path=request.path,
            remote_addr=remote,
            shop_slug=shop,
            size=len(body),
        )
        return result.verdict.value, result.status, {"Content-Type": "text/plain; charset=utf-8"}
    inbox_id = inbox.store(
        hub,
        method=request.method,
        path=request.path,
        headers=dict(request.headers),
        body=body,
        remote_addr=remote,
        shop_slug=shop,
        url_token=token,
    )
    result = inbox.process(hub, inbox_id)
    if result.verdict.value != "accepted":
        log.info("confirmation %s: %s (%s)", inbox_id, result.verdict.value, result.reason)
    answer = "OK" if result.status == 200 else result.verdict.value
    return answer, result.status, {"Content-Type": "text/plain; charset=utf-8"}


@bp.route("/webhooks/<shop>/<token>", methods=["GET", "POST"])
def webhook(shop: str, token: str) -> tuple[str, int, dict[str, str]]:
    """A shop's webhook: stored first, then handshake, verification and changes."""
    hub = _hub()
    body = request.stream.read(webhooks.MAX_BODY + 1)
    message_id = webhooks.store(
        hub,
        method=request.method,
        headers=dict(request.headers),
        body=body[: webhooks.MAX_BODY],
        remote_addr=request.remote_addr or "",
        shop_slug=shop,
    )
    if len(body) > webhooks.MAX_BODY:
        answer = webhooks.refuse(hub, message_id, f"body over {webhooks.MAX_BODY} bytes", 413)
    else:
        answer = webhooks.process(hub, message_id, token)
    return answer.body, answer.status, {"Content-Type": answer.content_type, **answer.headers}


@bp.get("/return/<shop>/<payment_id>/<kind>")
def browser_return(shop: str, payment_id: str, kind: str) -> tuple[str, int]:
    """The buyer's return from the platform: shows what the hub knows, changes nothing."""
    if kind not in ("ok", "stop"):
        return _message(404, "not_found")
    hub = _hub()
    with hub.db.transaction() as session:
        row = session.execute(
            select(Payment, Shop)
            .join(Shop, Payment.shop_id == Shop.id)
            .where(Payment.public_id == payment_id, Shop.slug == shop)
        ).first()
    if row is None:
        return _message(404, "not_found")
    payment, shop_row = row
    lang = _lang(payment.language, fallback=shop_row.language)
    t = TEXTS[lang]
    state = PaymentState(payment.state)
    key = _HEADLINES.get(state, "stopped" if kind == "stop" else "pending")
    refresh = key == "pending"
    page = render_template(
        "return.html",
        t=t,
        lang=lang,
        headline=t[key],
        refresh=refresh,
        css=key,
        order_ref=payment.order_ref,
        amount=format_currency(payment.amount.amount, payment.currency, locale=lang),
        test="test" in payment.flags or shop_row.test_mode,
        back_url=shop_row.return_url,
    )
    return page, 200
