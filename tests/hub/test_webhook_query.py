"""The webhook inbox keeps each request's query string: every parameter's name, no value.

A shop may put a credential in the query under any name, so the values are
masked before the row is written; the connector still checks the query it was
sent while the request lasts. Migration 0012 adds the column, empty for the
rows stored before it.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from urllib.parse import parse_qsl

import pytest
import sqlalchemy as sa
from alembic import command

from bluepaid_plugins.db import Database
from hub import migrate
from hub.redaction import MASK
from hub.webhooks import MAX_QUERY, kept_query
from tests.hub.conftest import MakeDriver
from tests.hub.test_contract_webhooks import change, hook_shop, send, stored

SECRET = "s3cr3t-in-the-query-0123"


def names_and_values(query: str) -> list[tuple[str, str]]:
    return parse_qsl(query, keep_blank_values=True)


# What is kept


def test_each_name_is_kept_and_each_value_masked() -> None:
    query = f"shop-id=Zx9b4s7mQ2&shop-url=https%3A%2F%2Fshop.example&timestamp=1733580000&key={SECRET}"

    kept = kept_query(query)

    assert [name for name, _ in names_and_values(kept)] == [name for name, _ in names_and_values(query)]
    assert {value for _, value in names_and_values(kept)} == {MASK}


def test_an_empty_value_stays_empty() -> None:
    kept = kept_query(f"debug=&key={SECRET}")

    assert names_and_values(kept) == [("debug", ""), ("key", MASK)]


@pytest.mark.parametrize(
    "query",
    [SECRET, f"a=1&{SECRET}", f'key=ab"{SECRET}', f"key=ab<{SECRET}>", f"key=a'{SECRET}"],
    ids=["bare", "bare-after-another", "quote", "angle-brackets", "apostrophe"],
)
def test_a_value_is_masked_whole_whatever_it_holds(query: str) -> None:
    assert SECRET not in kept_query(query)


def test_a_nul_is_replaced_and_a_long_query_cut() -> None:
    kept = kept_query("a\x00b=1&" * MAX_QUERY)

    assert "\x00" not in kept
    assert len(kept) == MAX_QUERY


# Through the webhook URL


def test_a_stored_webhook_keeps_its_query_names_without_their_values(make_driver: MakeDriver) -> None:
    driver, _ = hook_shop(make_driver)
    path = f"/webhooks/demo/{driver.shop.webhook_token}?secret={SECRET}&order=A1"

    response = send(driver, change("cancelled"), path=path)

    assert response.status_code == 200
    (row,) = stored(driver)
    assert names_and_values(row.query) == [("secret", MASK), ("order", MASK)]
    assert SECRET not in repr(row.query)


def test_a_webhook_without_a_query_keeps_an_empty_one(make_driver: MakeDriver) -> None:
    driver, _ = hook_shop(make_driver)

    send(driver, change("cancelled"))

    assert [row.query for row in stored(driver)] == [""]


# Migration 0012

ROW = """
insert into webhook_inbox (id, received_at, method, headers, body, remote_addr, shop_slug, shop_id,
    processed_at, verdict, reason)
values (1, :received, 'POST', '{}', :body, '127.0.0.1', 'demo', null, null, null, '')
"""


@pytest.fixture
def at_0011(database_url: str) -> Iterator[Database]:
    """A database at revision 0011 with one stored webhook."""
    db = Database(database_url)
    migrate.upgrade(db, "0011")
    with db.engine.begin() as connection:
        connection.execute(sa.text(ROW), {"received": datetime(2026, 12, 1, 9, 30), "body": b"{}"})
    yield db
    db.dispose()


def webhook_inbox(db: Database) -> tuple[set[str], list[dict[str, object]]]:
    with db.engine.connect() as connection:
        columns = {column["name"] for column in sa.inspect(connection).get_columns("webhook_inbox")}
        rows = connection.execute(sa.text("select * from webhook_inbox")).mappings().all()
    return columns, [dict(row) for row in rows]


def test_migration_0012_gives_the_rows_before_it_an_empty_query(at_0011: Database) -> None:
    migrate.upgrade(at_0011, "0012")

    columns, rows = webhook_inbox(at_0011)

    assert "query" in columns
    assert [(row["id"], row["query"]) for row in rows] == [(1, "")]


def test_migration_0012_downgraded_drops_the_query_and_keeps_the_rows(at_0011: Database) -> None:
    before = webhook_inbox(at_0011)
    migrate.upgrade(at_0011, "0012")

    config = migrate.alembic_config()
    with at_0011.engine.connect() as connection, connection.begin():
        config.attributes["connection"] = connection
        command.downgrade(config, "0011")

    assert webhook_inbox(at_0011) == before


# The reason


def test_a_reason_quoting_a_url_with_its_key_is_stored_masked(make_driver: MakeDriver) -> None:
    driver, book = hook_shop(make_driver)
    book.fail("read_webhook", ConnectionError(f"cannot reach https://shop.test/api/orders?key={SECRET}"))

    response = send(driver, change("cancelled"))

    assert response.status_code == 500
    (row,) = stored(driver)
    assert row.verdict == "error" and "shop.test/api/orders?key=" in row.reason
    assert SECRET not in row.reason
