"""The hub's public routes: start a payment, receive confirmations, browser returns."""

from __future__ import annotations

import ipaddress
import logging
import secrets
from urllib.parse import urlsplit

from flask import Blueprint, Response, current_app, redirect, render_template, request, session
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from bluepaid_locales import (
    SOURCE_LANGUAGE,
    buyer_languages,
    format_currency,
    gettext,
    languages,
    negotiate,
    use_language,
)
from bluepaid_plugins.connector import Ownership
from bluepaid_plugins.domain import OrderStatus
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
from bluepaid_plugins.paylink import PROOF_PARAMETER, pay_url
from bluepaid_plugins.protocol import PLATFORM_URL
from bluepaid_plugins.protocol.fields import origin
from hub import confirm_door, webhooks
from hub.context import Hub
from hub.models import LinkOrder, Payment, PaymentState, Shop
from hub.pay import NotPayable, start_payment

log = logging.getLogger(__name__)

bp = Blueprint("hub", __name__)

#: The shop ``bluepaid demo`` creates: the landing page lists its links on a local hub.
DEMO_SHOP = "demo"
#: How many of the demo's payment links the landing page lists.
DEMO_LINKS_SHOWN = 20
#: Where the session keeps, by payment, the proof of the pay link the buyer opened.
RETRY_PROOFS = "retry"
#: How many payments' proofs the session keeps (the newest): a cookie must stay small.
RETRY_KEPT = 5


def _hub() -> Hub:
    hub: Hub = current_app.extensions["bluepaid.hub"]
    return hub


def speak(order_language: str = "", shop_language: str = "") -> None:
    """Speak, for the rest of the request, the order's language if it has a catalog,
    else the browser's best (``Accept-Language``), else the shop's, else English."""
    candidates = [order_language, *buyer_languages(), shop_language]
    use_language(negotiate(candidates, languages()) or SOURCE_LANGUAGE)


def message_page(status: int, headline: str, detail: str = "", back_url: str = "") -> tuple[str, int]:
    """A page with one message in the hub's style, in the request's language."""
    page = render_template(
        "message.html",
        headline=headline,
        detail=detail,
        back_url=back_url,
        css="error" if status >= 400 else "",
    )
    return page, status


def _not_payable_page(reason: str) -> tuple[int, str, str]:
    """What a buyer reads for an order that exists but cannot be paid: status, headline, detail."""
    not_payable = gettext("No payment was asked for. Contact the shop if you think this is a mistake.")
    pages = {
        "paid": (409, gettext("This order is already paid."), gettext("No further payment is needed.")),
        "cancelled": (409, gettext("This order was cancelled."), not_payable),
        "expired": (409, gettext("This order has expired."), not_payable),
        "on_hold": (
            409,
            gettext("This order is on hold."),
            gettext(
                "The shop is waiting for something else before it can be paid (a transfer or a cheque "
                "you announced, a check of its own). Contact the shop before paying it by card."
            ),
        ),
        "closed": (409, gettext("This order can no longer be paid here."), not_payable),
        "link_expired": (
            410,
            gettext("This payment link has expired."),
            gettext("Ask the shop for a new link."),
        ),
        "currency": (409, gettext("The payment page does not accept this order's currency."), not_payable),
    }
    return pages[reason]


@bp.get("/")
def index() -> str:
    """What this is and where to go; on a local hub, the demo's payment links too."""
    hub = _hub()
    platform = hub.config.platform_url.rstrip("/")
    return render_template(
        "index.html",
        public_url=hub.config.public_url.rstrip("/"),
        # The real platform has no console; a sandbox (any other platform URL) does.
        sandbox_url="" if platform == PLATFORM_URL else platform,
        demo_links=_demo_links(hub),
    )


def _is_loopback(host: str | None) -> bool:
    if not host:
        return False
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _demo_links(hub: Hub) -> list[dict[str, str]]:
    """The open payment links of the demo shop, newest first, when nobody else can see them.

    Only on a hub whose public URL is on loopback, asked from loopback, and only
    for the demo shop in test mode: a pay link is a buyer's key to an order.
    """
    if not (_is_loopback(urlsplit(hub.config.public_url).hostname) and _is_loopback(request.remote_addr)):
        return []
    with hub.db.transaction() as db:
        shop = db.scalar(select(Shop).where(Shop.slug == DEMO_SHOP, Shop.test_mode.is_(True)))
        if shop is None:
            return []
        orders = db.scalars(
            select(LinkOrder)
            .where(
                LinkOrder.shop_id == shop.id,
                LinkOrder.status.in_([OrderStatus.OPEN.value, OrderStatus.FAILED.value]),
            )
            .order_by(LinkOrder.id.desc())
            .limit(DEMO_LINKS_SHOWN)
        ).all()
    connector = hub.plugins.connectors.get(shop.connector)
    if connector is None or connector.ownership is not Ownership.HUB_TOKEN:
        return []
    return [
        {
            "description": order.description or order.ref,
            "amount": format_currency(order.amount.amount, order.currency),
            "url": hub.pay_url(shop, order.ref),
        }
        for order in orders
    ]


@bp.get("/pay/<shop>/<order_ref>")
def pay(shop: str, order_ref: str) -> ResponseReturnValue:
    """Send the buyer to the platform for ``order_ref`` of ``shop``, if the link's
    ``key`` proves they hold the order.

    The session remembers the proof for the payment, so that its return page can
    offer the same link again after a refusal or a cancel.
    """
    hub = _hub()
    proof = request.args.get(PROOF_PARAMETER, "")
    unknown = gettext("This payment link does not match any order.")
    unknown_detail = gettext("Check that you copied the whole link, or ask the shop for a new one.")
    try:
        outcome = start_payment(hub, shop, order_ref, proof)
    except NotFound as exc:
        # No shop, no order, a wrong proof: one answer, so nobody learns which exist.
        log.info("pay link refused: %s", exc)
        return message_page(404, unknown, unknown_detail)
    except OrderNotFound as exc:
        log.info("pay link refused: %s", exc)
        return message_page(404, unknown, unknown_detail)
    except (ShopUnavailable, OSError) as exc:
        # OSError: a connector's call that failed on the network without saying ShopUnavailable.
        log.warning("payment start for %s/%s: %s", shop, order_ref, exc)
        return message_page(
            503, gettext("The shop is not answering right now. Please try again in a few minutes.")
        )
    except PaymentVetoed as exc:
        return message_page(409, gettext("The payment cannot start:"), str(exc))
    except ValidationError as exc:
        log.error("payment request for %s/%s is invalid: %s", shop, order_ref, exc)
        return message_page(500, _config_error(), "; ".join(p.field for p in exc.problems))
    except PluginBug as exc:
        log.error("payment start for %s/%s: %s\n%s", shop, order_ref, exc, exc.traceback)
        return message_page(500, gettext("Something went wrong."))
    except ConfigurationError as exc:
        log.error("payment start for %s/%s: %s", shop, order_ref, exc)
        return message_page(500, _config_error())
    except BluepaidError as exc:
        log.error("payment start for %s/%s failed: %s", shop, order_ref, exc)
        return message_page(502, gettext("Something went wrong."))
    if isinstance(outcome, NotPayable):
        return message_page(*_not_payable_page(outcome.reason))
    _remember_proof(outcome.payment_id, proof)
    if outcome.method == "post":
        nonce = secrets.token_urlsafe(16)
        page = render_template(
            "redirect_post.html", action=outcome.action, fields=outcome.fields, nonce=nonce
        )
        response = Response(page)
        # The form may go to the platform only; an action that is no http(s) URL, nowhere.
        target = origin(outcome.action) or "'none'"
        response.headers["Content-Security-Policy"] = (
            f"default-src 'none'; style-src 'unsafe-inline'; script-src 'nonce-{nonce}'; form-action {target}"
        )
        return response
    return redirect(outcome.url, 302)


def _config_error() -> str:
    return gettext("The shop is misconfigured; the merchant has been told. Detail:")


def _remember_proof(payment_id: str, proof: str) -> None:
    kept = {key: value for key, value in session.get(RETRY_PROOFS, {}).items() if key != payment_id}
    kept[payment_id] = proof
    session[RETRY_PROOFS] = dict(list(kept.items())[-RETRY_KEPT:])


@bp.route(
    "/confirm/<shop>/<token>",
    methods=["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"],
    provide_automatic_options=False,
)
def confirm(shop: str, token: str) -> tuple[str, int, dict[str, str]]:
    """The confirmation URL (``url_retour_bo``): store first, then check and apply.

    A POST is answered by :class:`hub.confirm_door.ConfirmDoor` before it gets
    here; this route answers the other methods, with the same function."""
    text, status = confirm_door.answer(current_app, request, shop, token)
    return text, status, {"Content-Type": confirm_door.CONTENT_TYPE}


@bp.route("/webhooks/<shop>/<token>", methods=["GET", "POST"])
def webhook(shop: str, token: str) -> tuple[str, int, dict[str, str]]:
    """A shop's webhook: stored first, then handshake, verification and changes."""
    hub = _hub()
    body = request.stream.read(webhooks.MAX_BODY + 1)
    # latin-1: one character per byte sent, so nothing of the query is lost or changed.
    query = request.query_string.decode("latin-1")
    message_id = webhooks.store(
        hub,
        method=request.method,
        headers=dict(request.headers),
        body=body[: webhooks.MAX_BODY],
        remote_addr=request.remote_addr or "",
        shop_slug=shop,
        query=query,
    )
    if len(body) > webhooks.MAX_BODY:
        answer = webhooks.refuse(hub, message_id, f"body over {webhooks.MAX_BODY} bytes", 413)
    else:
        answer = webhooks.process(hub, message_id, token, query=query, body=body)
    return answer.body, answer.status, {"Content-Type": answer.content_type, **answer.headers}


@bp.get("/return/<shop>/<payment_id>/<kind>")
def browser_return(shop: str, payment_id: str, kind: str) -> tuple[str, int]:
    """The buyer's return from the platform: shows what the hub knows, changes nothing.

    Under the shop's name: the outcome, the order and amount, the way back to
    the shop (its return URL) and, after a refusal, a cancel or a buyer who
    left, the pay link again (when this browser opened it: the session keeps
    its proof).
    """
    if kind not in ("ok", "stop"):
        return message_page(404, gettext("Page not found."))
    hub = _hub()
    with hub.db.transaction() as db:
        row = db.execute(
            select(Payment, Shop)
            .join(Shop, Payment.shop_id == Shop.id)
            .where(Payment.public_id == payment_id, Shop.slug == shop)
        ).first()
    if row is None:
        return message_page(404, gettext("Page not found."))
    payment, shop_row = row
    speak(payment.language, shop_row.language)
    state = PaymentState(payment.state)
    outcome = _OUTCOMES.get(state, "stopped" if kind == "stop" else "pending")
    retry = ""
    if outcome in ("refused", "cancelled", "stopped") and payment_id in session.get(RETRY_PROOFS, {}):
        proof = session[RETRY_PROOFS][payment_id]
        retry = pay_url(hub.config.public_url, shop_row.slug, payment.order_ref, proof)
    page = render_template(
        "return.html",
        headline=_headline(outcome),
        outcome=outcome,
        css=outcome,
        shop_name=shop_row.name,
        order_ref=payment.order_ref,
        amount=format_currency(payment.amount.amount, payment.currency),
        test="test" in payment.flags or shop_row.test_mode,
        back_url=shop_row.return_url,
        retry_url=retry,
    )
    return page, 200


#: What a return page says of a payment, by state; a payment in no state here is
#: pending (or, back through ``url_retour_stop``, one the buyer left).
_OUTCOMES = {
    PaymentState.PAID: "paid",
    PaymentState.PARTIALLY_REFUNDED: "paid",
    PaymentState.REFUNDED: "refunded",
    PaymentState.REFUSED: "refused",
    PaymentState.CANCELLED: "cancelled",
}


def _headline(outcome: str) -> str:
    headlines = {
        "paid": gettext("Payment accepted. Thank you!"),
        "refunded": gettext("This payment was refunded."),
        "refused": gettext("The payment was refused."),
        "cancelled": gettext("The payment was cancelled."),
        "stopped": gettext("You left the payment page without paying."),
        "pending": gettext("Waiting for the payment to be confirmed…"),
    }
    return headlines[outcome]
