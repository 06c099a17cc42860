"""The CI-sized load run of issue 13: the hub on its production server (gunicorn, 2
workers), every payment confirmed twice, the two often at once, from many clients;
on SQLite and PostgreSQL. Afterwards each payment is paid once, its event written
once and its shop told once. (``benchmarks/confirmations.py`` is the full-sized run.)"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from sqlalchemy import func, select

from hub import migrate
from hub.config import HubConfig
from hub.context import Hub, build_hub
from hub.models import InboxMessage, OutboxTask, Payment, PaymentEventRow
from hub.tasks import APPLY_EVENT
from tests.hub.test_serving import confirmation_of, pay_links, serving

pytestmark = pytest.mark.slow

PAYMENTS = 40
CLIENTS = 16


@pytest.fixture
def hub(database_url: str) -> Iterator[Hub]:
    config = HubConfig(
        database_url=database_url,
        secret_key="load-secret-key-" + "k" * 16,
        public_url="http://hub.test",
        platform_url="http://platform.test",
    )
    built = build_hub(config)
    migrate.upgrade(built.db)
    yield built
    built.db.dispose()


def test_every_payment_confirmed_twice_at_once_is_paid_and_told_once(hub: Hub, tmp_path: Path) -> None:
    with serving(hub, tmp_path, "--server", "gunicorn", "--workers", "2") as served:
        confirmations = [confirmation_of(served, link) for link in pay_links(served, PAYMENTS)]
        confirm = f"{served.url}/confirm/demo/{served.shop.confirm_token}"
        # Each twice, the copies side by side: the platform retrying while the first is under way.
        posts = [body for body in confirmations for _ in range(2)]

        def post(body: dict[str, str]) -> int:
            with requests.Session() as session:
                session.trust_env = False
                return session.post(confirm, data=body, timeout=60).status_code

        with ThreadPoolExecutor(CLIENTS) as pool:
            statuses = list(pool.map(post, posts))
        assert served.stop() == 0

    assert statuses == [200] * (2 * PAYMENTS)
    with hub.db.transaction() as session:
        states = session.scalars(select(Payment.state).where(Payment.shop_id == served.shop.id)).all()
        paid_events = session.scalars(
            select(func.count()).select_from(PaymentEventRow).where(PaymentEventRow.kind == "paid")
        ).one()
        told = session.scalars(select(OutboxTask.payment_id).where(OutboxTask.kind == APPLY_EVENT)).all()
        verdicts = Counter(session.scalars(select(InboxMessage.verdict)).all())
    assert sorted(states) == ["paid"] * PAYMENTS
    assert paid_events == PAYMENTS
    assert sorted(Counter(told).values()) == [1] * PAYMENTS
    assert verdicts == {"accepted": PAYMENTS, "duplicate": PAYMENTS}
