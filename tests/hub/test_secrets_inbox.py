"""The confirmation inbox keeps what identifying a request needs, never the URL's token.

Each row holds the digest of the token the request brought and its path with
the token masked; a row stored before a crash is still checked against the
shop's token, and migration 0005 turns the tokens of rows stored before it into
digests.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy import select

from bluepaid_plugins.db import Database
from hub import inbox, migrate
from hub.config import HubConfig
from hub.context import build_hub
from hub.models import InboxMessage, Verdict
from hub.redaction import token_digest
from hub.testing.driver import HubDriver
from tests.hub.conftest import PUBLIC

WRONG_TOKEN = "not-the-token-0123456789abcdef"


def stored_text(driver: HubDriver) -> list[str]:
    """Every inbox row as text, column by column."""
    with driver.hub.db.transaction() as session:
        rows = session.scalars(select(InboxMessage).order_by(InboxMessage.id)).all()
        return [repr({c.key: getattr(row, c.key) for c in InboxMessage.__table__.columns}) for row in rows]


def test_the_inbox_keeps_no_confirmation_token(driver: HubDriver) -> None:
    started = driver.start(driver.new_order())

    assert driver.post(driver.confirmation(started)).status_code == 200
    assert driver.post(driver.confirmation(started), url=f"/confirm/demo/{WRONG_TOKEN}").status_code == 404

    texts = stored_text(driver)
    assert len(texts) == 2
    assert [text for text in texts if driver.shop.confirm_token in text or WRONG_TOKEN in text] == []


def test_the_inbox_keeps_the_tokens_digest_and_the_masked_path(driver: HubDriver) -> None:
    driver.post({"etat": "ok"}, url=f"/confirm/demo/{WRONG_TOKEN}")

    with driver.hub.db.transaction() as session:
        row = session.scalars(select(InboxMessage)).one()

    assert row.url_token_digest == token_digest(WRONG_TOKEN)
    assert row.path == "/confirm/demo/***"


def test_a_confirmation_stored_before_a_crash_is_checked_against_the_shops_token(driver: HubDriver) -> None:
    started = driver.start(driver.new_order())
    common: dict[str, Any] = {
        "method": "POST",
        "path": "/confirm/demo/…",
        "headers": {"Content-Type": "application/x-www-form-urlencoded"},
        "remote_addr": "127.0.0.1",
        "shop_slug": "demo",
    }
    body = "&".join(f"{k}={v}" for k, v in driver.confirmation(started).items()).encode()
    right = inbox.store(driver.hub, body=body, url_token=driver.shop.confirm_token, **common)
    wrong = inbox.store(driver.hub, body=body, url_token=WRONG_TOKEN, **common)

    assert inbox.process_pending(driver.hub) == 2

    with driver.hub.db.transaction() as session:
        verdicts = {row.id: row.verdict for row in session.scalars(select(InboxMessage))}
    assert verdicts == {right: Verdict.ACCEPTED.value, wrong: Verdict.REJECTED.value}
    assert driver.payment(started.payment_id).state == "paid"


# Migration 0005 on rows stored before it

SHOP = """
insert into shops (id, slug, name, id_boutique, secret, confirm_token, test_mode, accept_test,
    allowed_ips, connector, connector_settings, platform_url, redirect_method, return_url,
    language, notify_email, created_at, send_confirmation_url, connector_secrets, status_mapping,
    webhook_token)
values (1, 'demo', 'demo', '21573www', 'secret-of-the-shop', :token, true, true, '["127.0.0.1"]',
    'payment_link', '{}', 'http://platform.test', 'get', '', 'FR', '', :created, false, '', '{}',
    'webhook-token-of-the-shop')
"""
INBOX = """
insert into inbox (id, received_at, method, path, headers, body, remote_addr, shop_slug, url_token,
    shop_id, payment_id, processed_at, verdict, reason)
values (:id, :created, 'POST', :path, '{}', :body, '127.0.0.1', 'demo', :token, null, null, null, null, '')
"""
SHOP_TOKEN = "the-shops-confirmation-token-0001"
CREATED = datetime(2026, 11, 30, 9, 30)


@pytest.fixture
def at_0004(database_url: str) -> Iterator[Database]:
    """A database at revision 0004 with one shop and two unprocessed confirmations:
    one with the shop's token, one with another."""
    db = Database(database_url)
    migrate.upgrade(db, "0004")
    with db.engine.begin() as connection:
        connection.execute(sa.text(SHOP), {"token": SHOP_TOKEN, "created": CREATED})
        for row_id, token in ((1, SHOP_TOKEN), (2, WRONG_TOKEN)):
            connection.execute(
                sa.text(INBOX),
                {
                    "id": row_id,
                    "created": CREATED,
                    "path": f"/confirm/demo/{token}",
                    "body": b"etat=ok",
                    "token": token,
                },
            )
    yield db
    db.dispose()


def test_migration_0005_keeps_only_digests_and_masked_paths(at_0004: Database) -> None:
    migrate.upgrade(at_0004, "0005")

    with at_0004.engine.connect() as connection:
        rows = connection.execute(sa.text("select * from inbox order by id")).mappings().all()

    assert [(row["url_token_digest"], row["path"]) for row in rows] == [
        (token_digest(SHOP_TOKEN), "/confirm/demo/***"),
        (token_digest(WRONG_TOKEN), "/confirm/demo/***"),
    ]
    assert "url_token" not in rows[0]
    assert [row for row in rows if SHOP_TOKEN in repr(dict(row)) or WRONG_TOKEN in repr(dict(row))] == []


def test_confirmations_stored_before_migration_0005_are_checked_after_it(at_0004: Database) -> None:
    migrate.upgrade(at_0004)
    hub = build_hub(
        HubConfig(database_url=at_0004.url, secret_key="k" * 32, public_url=PUBLIC),
        clock=lambda: datetime(2026, 12, 1, tzinfo=UTC),
    )
    try:
        inbox.process_pending(hub)
        with hub.db.transaction() as session:
            reasons = {row.id: row.reason for row in session.scalars(select(InboxMessage))}
    finally:
        hub.db.dispose()

    # The shop's token passes the token check and stops at the body; the other stops at the token.
    assert "token" not in reasons[1]
    assert "token" in reasons[2]


def test_migration_0005_downgraded_gives_back_no_token(at_0004: Database) -> None:
    migrate.upgrade(at_0004, "0005")

    config = migrate.alembic_config()
    with at_0004.engine.connect() as connection, connection.begin():
        config.attributes["connection"] = connection
        command.downgrade(config, "0004")

    with at_0004.engine.connect() as connection:
        tokens = connection.execute(sa.text("select url_token from inbox order by id")).scalars().all()
        shop_columns = {column["name"] for column in sa.inspect(connection).get_columns("shops")}
    assert tokens == [token_digest(SHOP_TOKEN), token_digest(WRONG_TOKEN)]
    assert "proxy_url" not in shop_columns
