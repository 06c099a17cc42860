"""A hub process killed between storing a confirmation and applying it, on PostgreSQL.

The test holds the payment's row lock, so the hub process stores the
confirmation (committed) and then waits inside processing; it is killed there
with SIGKILL. A restarted hub processes what was stored: the payment is applied
once, and a further restart changes nothing.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from sqlalchemy import func, select, text

from bluepaid_plugins.money import Money
from hub.context import Hub
from hub.models import InboxMessage, OutboxTask, Payment, PaymentEventRow, Shop, Verdict
from hub.orders import create_link_order
from hub.pay import Redirect, start_payment
from hub.tasks import APPLY_EVENT
from hub.urls import confirmation_url
from tests.hub.conftest import PUBLIC
from tests.hub.shop_stub import HubProcess, hub_process, wait_until

pytestmark = pytest.mark.slow


@pytest.fixture
def database_url(postgres_db: str) -> str:
    """A second process shares the database, and the test holds row locks: PostgreSQL only."""
    return postgres_db


@pytest.fixture
def hub_env(postgres_db: str) -> dict[str, str]:
    return {
        "BLUEPAID_DATABASE_URL": postgres_db,
        "BLUEPAID_PUBLIC_URL": PUBLIC,
        "BLUEPAID_SECRET_KEY": "k" * 32,
    }


def started_payment(hub: Hub, shop: Shop) -> tuple[Payment, dict[str, str]]:
    """A payment started through the hub's API, and the body the platform will confirm it with."""
    order = create_link_order(hub.db, shop, Money.parse("36.60", "EUR"), now=hub.clock())
    proof = parse_qs(urlsplit(hub.pay_url(shop, order.ref)).query)["key"][0]
    redirect = start_payment(hub, shop.slug, order.ref, proof)
    assert isinstance(redirect, Redirect), redirect
    with hub.db.transaction() as session:
        payment = session.scalars(select(Payment).where(Payment.public_id == redirect.payment_id)).one()
    fields = redirect.fields
    confirmation = {
        "etat": "ok",
        "mode": "test",
        "id_trans": "T1000",
        "id_client": fields["id_client"],
        "id_boutique": fields["id_boutique"],
        "divers": fields["divers"],
        "langue": fields.get("langue", "FR"),
        "montant": fields["montant"],
        "devise": fields["devise"],
    }
    return payment, confirmation


def snapshot(hub: Hub, payment_id: int) -> dict[str, Any]:
    """What the database says about the payment, its inbox rows and its effects."""
    with hub.db.transaction() as session:
        inbox = session.execute(select(InboxMessage.verdict, InboxMessage.processed_at)).all()
        payment = session.get(Payment, payment_id)
        assert payment is not None
        tasks = session.scalars(select(OutboxTask.kind).order_by(OutboxTask.id)).all()
        paid_events = session.scalar(
            select(func.count()).select_from(PaymentEventRow).where(PaymentEventRow.to_state == "paid")
        )
    return {
        "inbox": [tuple(row) for row in inbox],
        "state": payment.state,
        "tasks": tasks,
        "paid_events": paid_events,
    }


def sessions_blocked_by(hub: Hub, pid: int) -> list[int]:
    with hub.db.transaction() as session:
        rows = session.scalars(
            text("select pid from pg_stat_activity where :pid = any(pg_blocking_pids(pid))"), {"pid": pid}
        )
        return list(rows)


def sessions_alive(hub: Hub, pids: list[int]) -> list[int]:
    with hub.db.transaction() as session:
        return list(
            session.scalars(text("select pid from pg_stat_activity where pid = any(:pids)"), {"pids": pids})
        )


def answers(process: HubProcess, payment: Payment) -> None:
    with requests.Session() as http:
        http.trust_env = False
        response = http.get(f"{process.url}/return/demo/{payment.public_id}/ok", timeout=30)
    assert response.status_code == 200, f"{response.status_code}\n{process.output()}"


def test_confirmation_stored_before_a_crash_is_applied_once_at_restart(
    hub: Hub, shop: Shop, hub_env: dict[str, str], tmp_path: Path
) -> None:
    payment, confirmation = started_payment(hub, shop)
    path = urlsplit(confirmation_url(hub, shop)).path
    log = tmp_path / "hub.log"
    answered: list[object] = []

    def post_confirmation(url: str) -> None:
        try:
            with requests.Session() as http:
                http.trust_env = False
                answered.append(http.post(url, data=confirmation, timeout=60))
        except requests.RequestException as exc:
            answered.append(exc)

    with hub_process(hub_env, log) as first, hub.db.engine.connect() as locker:
        transaction = locker.begin()
        locker.execute(text("select id from payments where id = :id for update"), {"id": payment.id})
        locker_pid = locker.execute(text("select pg_backend_pid()")).scalar_one()
        poster = threading.Thread(target=post_confirmation, args=(first.url + path,), daemon=True)
        poster.start()
        try:
            wait_until(
                lambda: snapshot(hub, payment.id)["inbox"], "the confirmation to be stored in the inbox"
            )
            waiting = wait_until(
                lambda: sessions_blocked_by(hub, locker_pid), "the hub to wait for the payment's row lock"
            )
            first.process.kill()
            first.process.wait(timeout=10)
        finally:
            transaction.rollback()
            poster.join(timeout=60)
    wait_until(lambda: not sessions_alive(hub, waiting), "the killed hub's database session to end")

    assert len(answered) == 1 and isinstance(answered[0], requests.ConnectionError), answered
    assert snapshot(hub, payment.id) == {
        "inbox": [(None, None)],
        "state": "created",
        "tasks": [],
        "paid_events": 0,
    }

    with hub_process(hub_env, log) as second:
        answers(second, payment)
        after_restart = snapshot(hub, payment.id)

    [(verdict, processed_at)] = after_restart["inbox"]
    assert verdict == Verdict.ACCEPTED, log.read_text()
    assert processed_at is not None
    assert after_restart["state"] == "paid"
    assert after_restart["tasks"] == [APPLY_EVENT]
    assert after_restart["paid_events"] == 1

    with hub_process(hub_env, log) as third:
        answers(third, payment)
        assert snapshot(hub, payment.id) == after_restart
