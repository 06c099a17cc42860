"""The raw floor for `confirmations.py`: the hub's two transactions, by hand.

Served exactly like the hub (`gunicorn -w 2 'benchmarks.floor_app:create_app()'` from the
repository root), on a store `prepare_hub()` prepared, with the stdlib `sqlite3` or raw
`psycopg` and no ORM, no SQLAlchemy, no plugin: what one confirmation costs at least on
this machine with this design.

1. Commit the raw request to the inbox.
2. In one transaction: read the shop, check the URL token, the source address,
   `id_boutique`, lock the order's payments, find the one whose `divers` this is (HMAC),
   check amount and currency, move it to paid, write its event row and one outbox task,
   write the inbox row's verdict.

It checks what the benchmark's confirmations need and no more (a single payment, `etat=ok`):
it is a floor to divide by, not a second hub.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

from flask import Flask, request

from bluepaid_plugins.money import Money
from bluepaid_plugins.protocol import check_divers
from hub.redaction import token_digest

MAX_BODY = 16 * 1024

# The same statements as the hub's, in each driver's parameter style.
_SQL = {
    "inbox": (
        "INSERT INTO inbox (received_at, method, path, headers, body, remote_addr, shop_slug, "
        "url_token_digest, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, '') RETURNING id"
    ),
    "shop": "SELECT id, id_boutique, secret, confirm_token, allowed_ips FROM shops WHERE slug = ?",
    "payments": (
        "SELECT id, public_id, order_ref, amount_minor, currency, state FROM payments "
        "WHERE shop_id = ? AND order_ref = ? ORDER BY id"
    ),
    "event": (
        "INSERT INTO payment_events (public_id, payment_id, inbox_id, dedupe_key, kind, from_state, "
        "to_state, id_trans, amount_minor, detail, parked, created_at) "
        "VALUES (?, ?, ?, ?, 'paid', ?, 'paid', ?, ?, '', ?, ?)"
    ),
    "pay": (
        "UPDATE payments SET state = 'paid', paid_minor = amount_minor, id_trans = ?, updated_at = ? "
        "WHERE id = ?"
    ),
    "outbox": (
        "INSERT INTO outbox (kind, payload, shop_id, payment_id, state, attempts, created_at, retry_from, "
        "next_attempt_at, last_error, detail) VALUES ('apply_event', ?, ?, ?, 'pending', 0, ?, ?, ?, '', '')"
    ),
    "verdict": (
        "UPDATE inbox SET shop_id = ?, payment_id = ?, verdict = ?, reason = ?, processed_at = ? WHERE id = ?"
    ),
}


class _Store:
    """One connection per worker process, and what differs between the drivers."""

    def __init__(self, url: str) -> None:
        self.sqlite = url.startswith("sqlite")
        if self.sqlite:
            connection = sqlite3.connect(url.split(":///", 1)[1], isolation_level=None, timeout=60)
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")
            connection.execute("PRAGMA foreign_keys=ON")
            self.connection: Any = connection
            self.sql = _SQL
            self.begin = "BEGIN IMMEDIATE"
            self.for_update = ""
            self.true: Any = 0
        else:
            import psycopg

            self.connection = psycopg.connect(
                url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True
            )
            self.sql = {k: v.replace("?", "%s") for k, v in _SQL.items()}
            self.begin = "BEGIN"
            self.for_update = " FOR UPDATE"
            self.true = False

    def now(self) -> Any:
        naive = datetime.now(UTC).replace(tzinfo=None)
        return naive.isoformat(" ", "microseconds") if self.sqlite else naive

    def transaction(self, work: Callable[[Any], Any]) -> Any:
        cursor = self.connection.cursor()
        cursor.execute(self.begin)
        try:
            result = work(cursor)
        except BaseException:
            cursor.execute("ROLLBACK")
            raise
        cursor.execute("COMMIT")
        return result


def create_app() -> Flask:
    app = Flask(__name__)
    url = os.environ["BLUEPAID_DATABASE_URL"]
    stores: dict[int, _Store] = {}

    def store() -> _Store:
        # gunicorn forks after import: each worker opens its own connection.
        pid = os.getpid()
        if pid not in stores:
            stores[pid] = _Store(url)
        return stores[pid]

    @app.post("/confirm/<shop>/<token>")
    def confirm(shop: str, token: str) -> tuple[str, int]:
        db = store()
        body = request.stream.read(MAX_BODY + 1)
        headers = json.dumps({k: v for k, v in request.headers.items() if k.lower() == "content-type"})
        received = db.now()

        def keep(cursor: Any) -> int:
            cursor.execute(
                db.sql["inbox"],
                (
                    received,
                    "POST",
                    request.path,
                    headers,
                    body,
                    request.remote_addr or "",
                    shop,
                    token_digest(token),
                ),
            )
            inbox_id: int = cursor.fetchone()[0]
            return inbox_id

        inbox_id = db.transaction(keep)

        def apply(cursor: Any) -> tuple[str, int]:
            cursor.execute(db.sql["shop"], (shop,))
            shop_row = cursor.fetchone()
            if shop_row is None or not hmac.compare_digest(token_digest(token), token_digest(shop_row[3])):
                return "rejected", 404
            shop_id, id_boutique, secret, _token, allowed = shop_row
            if (request.remote_addr or "") not in (
                json.loads(allowed) if isinstance(allowed, str) else allowed
            ):
                return "rejected", 403
            fields = dict(parse_qsl(body.decode(), keep_blank_values=True))
            if fields.get("id_boutique") != id_boutique or fields.get("etat") != "ok":
                return "rejected", 403
            amount = Money.parse(fields["montant"].replace(",", "."), fields["devise"])
            cursor.execute(db.sql["payments"] + db.for_update, (shop_id, fields["id_client"]))
            payment = next(
                (
                    p
                    for p in cursor.fetchall()
                    if check_divers(fields["divers"], secret, id_boutique, p[2], amount, p[1])
                ),
                None,
            )
            if payment is None or payment[3] != amount.minor or payment[4] != amount.currency:
                return "rejected", 403
            now = db.now()
            key = hashlib.sha256(
                "\x1f".join([fields["id_trans"], "ok", fields.get("mode", "")]).encode()
            ).hexdigest()
            event_id = f"ev_{secrets.token_hex(12)}"
            cursor.execute(
                db.sql["event"],
                (
                    event_id,
                    payment[0],
                    inbox_id,
                    key,
                    payment[5],
                    fields["id_trans"],
                    amount.minor,
                    db.true,
                    now,
                ),
            )
            cursor.execute(db.sql["pay"], (fields["id_trans"], now, payment[0]))
            payload = json.dumps(
                {"id": event_id, "payment": payment[1], "kind": "paid", "amount": str(amount)}
            )
            cursor.execute(db.sql["outbox"], (payload, shop_id, payment[0], now, now, now))
            cursor.execute(
                db.sql["verdict"], (shop_id, payment[0], "accepted", "created -> paid", now, inbox_id)
            )
            return "OK", 200

        return db.transaction(apply)

    return app
