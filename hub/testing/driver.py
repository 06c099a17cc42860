"""Drive a hub over its HTTP interface, as a buyer and the platform would.

:class:`HubDriver` wraps a real hub (a real database) and a Flask test client
of its app: open a pay link, read what would be sent to the platform, post a
confirmation as the platform does, run the outbox worker, look at what the
hub stored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlsplit

from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from bluepaid_plugins.money import Money
from hub.context import Hub
from hub.models import InboxMessage, OutboxTask, Payment, Shop
from hub.orders import create_link_order
from hub.outbox import Outcome, Worker
from hub.urls import confirmation_url

#: The address confirmations come from in tests (the sandbox's, on loopback).
PLATFORM_IP = "127.0.0.1"


@dataclass
class Started:
    """A payment started through ``GET /pay``: what the platform received.

    ``fields`` are the protocol variables of the request (lower case for a
    single payment, upper case for a subscription's ``ABOv2``).
    """

    payment_id: str
    fields: dict[str, str]
    action: str = ""


def request_fields(response: TestResponse) -> tuple[str, dict[str, str]]:
    """The platform URL and variables a ``/pay`` answer sends the buyer to (302 or POST form)."""
    if response.status_code == 302:
        location = response.headers["Location"]
        return location.split("?", 1)[0], dict(parse_qsl(urlsplit(location).query, keep_blank_values=True))
    found: dict[str, str] = {}
    action: list[str] = []

    class Form(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            values = dict(attrs)
            if tag == "form":
                action.append(values.get("action") or "")
            if tag == "input" and values.get("type") == "hidden" and values.get("name"):
                found[str(values["name"])] = values.get("value") or ""

    Form().feed(response.text)
    if response.status_code != 200 or not action:
        raise AssertionError(f"/pay did not send the buyer to the platform: {response.status_code}")
    return action[0], found


@dataclass
class HubDriver:
    """Drives the hub through HTTP like a buyer and the platform would."""

    hub: Hub
    client: FlaskClient
    shop: Shop
    sent: list[TestResponse] = field(default_factory=list)

    def new_order(self, amount: str = "36.60", currency: str = "EUR", ref: str = "") -> str:
        """A payment-link order kept by the hub (for shops of the payment_link connector)."""
        order = create_link_order(
            self.hub.db, self.shop, Money.parse(amount, currency), now=self.hub.clock(), ref=ref
        )
        return order.ref

    def pay_path(self, order_ref: str, proof: str = "") -> str:
        """The pay link of ``order_ref`` without the host, with ``proof`` (hub-signed by default)."""
        url = urlsplit(self.hub.pay_url(self.shop, order_ref, proof))
        return f"{url.path}?{url.query}" if url.query else url.path

    def open_pay(self, order_ref: str, proof: str = "", language: str = "en") -> TestResponse:
        """What the buyer's browser gets for the pay link."""
        return self.client.get(self.pay_path(order_ref, proof), headers={"Accept-Language": language})

    def start(self, order_ref: str, proof: str = "") -> Started:
        """Open the pay link and return what the platform would receive; fails if it does not go there."""
        response = self.open_pay(order_ref, proof)
        assert response.status_code in (200, 302), (
            f"the pay link of order {order_ref} answered {response.status_code}, not a way to the platform"
        )
        action, fields = request_fields(response)
        back = fields.get("url_retour_ok") or fields.get("URL_RETOUR_OK", "")
        return Started(back.rstrip("/").split("/")[-2], fields, action)

    def confirmation(self, started: Started, **overrides: str) -> dict[str, str]:
        """The fields the platform would POST for ``started``: accepted, test card."""
        f = {k.lower(): v for k, v in started.fields.items()}
        fields = {
            "etat": "ok",
            "mode": "test",
            "id_trans": "T1000",
            "id_client": f["id_client"],
            "id_boutique": f["id_boutique"],
            "divers": f["divers"],
            "langue": f.get("langue", "FR"),
            "montant": f.get("montant_initial") or f["montant"],
            "devise": f["devise"],
        }
        fields.update(overrides)
        return fields

    def post(
        self,
        data: dict[str, str] | str | bytes,
        *,
        method: str = "POST",
        remote: str = PLATFORM_IP,
        url: str = "",
        content_type: str = "application/x-www-form-urlencoded",
    ) -> TestResponse:
        """Send a confirmation to the shop's confirmation URL, from ``remote``."""
        response = self.client.open(
            url or urlsplit(confirmation_url(self.hub, self.shop)).path,
            method=method,
            data=data,
            content_type=content_type,
            environ_base={"REMOTE_ADDR": remote},
        )
        self.sent.append(response)
        return response

    def payment(self, payment_id: str) -> Payment:
        with self.hub.db.transaction() as session:
            found = session.scalar(select(Payment).where(Payment.public_id == payment_id))
        assert found is not None, f"no payment {payment_id}"
        return found

    def payments_of(self, order_ref: str) -> list[Payment]:
        with self.hub.db.transaction() as session:
            return list(
                session.scalars(
                    select(Payment)
                    .where(Payment.shop_id == self.shop.id, Payment.order_ref == order_ref)
                    .order_by(Payment.id)
                )
            )

    def last_inbox(self) -> InboxMessage:
        with self.hub.db.transaction() as session:
            row = session.scalars(select(InboxMessage).order_by(InboxMessage.id.desc()).limit(1)).first()
        assert row is not None, "no confirmation was stored"
        return row

    def tasks(self, kind: str | None = None) -> int:
        query = select(func.count()).select_from(OutboxTask)
        if kind:
            query = query.where(OutboxTask.kind == kind)
        with self.hub.db.transaction() as session:
            return int(session.scalar(query) or 0)

    def task_rows(self, kind: str | None = None) -> list[OutboxTask]:
        query = select(OutboxTask).order_by(OutboxTask.id)
        if kind:
            query = query.where(OutboxTask.kind == kind)
        with self.hub.db.transaction() as session:
            return list(session.scalars(query))

    def run_worker(self) -> list[Outcome]:
        return Worker(self.hub).run_once()
