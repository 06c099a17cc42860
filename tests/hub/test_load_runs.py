"""The CI-sized runs of ``benchmarks/load.py`` (issue 13): the hub under ``bluepaid serve``
(gunicorn, 2 workers) and 2 outbox workers on PostgreSQL (the chaos run on a
server of its own, which it restarts), the fake shop on loopback,
every payment confirmed twice. Each asserts the run's invariants (every payment paid
once in the hub, exactly one "paid" call per order at the shop, the outbox drained),
never its timings: those are the full-sized runs' business."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.load import Options, Result, load_database, run
from benchmarks.private_postgres import PrivatePostgres

pytestmark = pytest.mark.slow


def held(result: Result, payments: int) -> None:
    assert result.problems == []
    assert result.confirmations == 2 * payments
    assert result.unanswered == 0


def test_load_pays_each_order_once_at_the_shop(postgres_db: str, tmp_path: Path) -> None:
    result = run("plain", postgres_db, Options(payments=40, clients=16, drain_timeout=60), tmp_path)
    held(result, 40)


def test_a_slow_shop_holds_up_no_confirmation_and_the_outbox_drains(postgres_db: str, tmp_path: Path) -> None:
    # Each paid call takes 1 s at the shop: longer than the whole run of confirmations.
    options = Options(payments=20, clients=8, shop_delay=1.0, drain_timeout=120)
    held(run("slow-shop", postgres_db, options, tmp_path), 20)


def test_a_junk_flood_loses_no_confirmation(postgres_db: str, tmp_path: Path) -> None:
    result = run(
        "junk", postgres_db, Options(payments=30, clients=8, junk_clients=2, drain_timeout=60), tmp_path
    )
    held(result, 30)
    assert result.junk_answered > 0


def test_killed_workers_and_a_database_restart_lose_nothing_and_repeat_nothing(tmp_path: Path) -> None:
    # On a server of the test's own: restarting the shared one would break the tests
    # running beside this one. A short lease lets the tasks a killed outbox worker
    # held run again within the test.
    with PrivatePostgres() as server, load_database(server.url) as url:
        options = Options(
            payments=60,
            clients=8,
            hub_kills=5,
            outbox_kills=5,
            restart_postgres=server.restart,
            chaos_gap=0.3,
            lease=2.0,
            drain_timeout=120,
        )
        result = run("chaos", url, options, tmp_path)
    held(result, 60)
    assert sum(event.startswith("SIGKILL") for event in result.chaos) == 10
    assert "PostgreSQL restarted (exit 0)" in result.chaos
