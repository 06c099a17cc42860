"""A hub process started while its PostgreSQL server is down (gunicorn replacing a
worker during a restart of the database) boots, fails requests, then serves once the
server answers: it never takes the whole hub down by failing to boot."""

from __future__ import annotations

import contextlib
import logging
import socket
import socketserver
import threading
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from hub import migrate
from hub.app import create_app
from hub.config import HubConfig
from hub.context import build_hub
from hub.shops import add_shop
from hub.testing.databases import fresh_schema, postgres_url
from hub.testing.stack import free_port

SERVER = postgres_url()
pytestmark = pytest.mark.skipif(SERVER is None, reason="no PostgreSQL server answers")


class Door:
    """A TCP port in front of the PostgreSQL server: shut (nothing listens) until opened."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.port = free_port()
        self.target = target
        self._server: socketserver.ThreadingTCPServer | None = None

    def open(self) -> None:
        target = self.target

        class Pipe(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                with socket.create_connection(target) as upstream:
                    back = threading.Thread(target=_copy, args=(upstream, self.request), daemon=True)
                    back.start()
                    _copy(self.request, upstream)
                    back.join(5)

        socketserver.ThreadingTCPServer.allow_reuse_address = True
        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", self.port), Pipe)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()


def _copy(source: socket.socket, sink: socket.socket) -> None:
    with contextlib.suppress(OSError):
        while chunk := source.recv(65536):
            sink.sendall(chunk)
    with contextlib.suppress(OSError):
        sink.shutdown(socket.SHUT_WR)


@pytest.fixture
def schema_url() -> Iterator[str]:
    assert SERVER is not None
    with fresh_schema(SERVER) as url:
        yield url


@pytest.fixture
def door(schema_url: str) -> Iterator[Door]:
    parsed = sa.make_url(schema_url)
    opened = Door((parsed.host or "127.0.0.1", parsed.port or 5432))
    yield opened
    opened.close()


def test_a_hub_started_while_the_database_is_down_serves_once_it_answers(
    schema_url: str, door: Door, caplog: pytest.LogCaptureFixture
) -> None:
    ready = build_hub(HubConfig(database_url=schema_url, secret_key="k" * 32))
    migrate.upgrade(ready.db)
    shop = add_shop(ready, slug="demo", id_boutique="21573www", test_mode=True, allowed_ips=["127.0.0.1"])
    ready.db.dispose()
    behind_the_door = sa.make_url(schema_url).set(port=door.port).render_as_string(hide_password=False)
    config = HubConfig(database_url=behind_the_door, secret_key="k" * 32)

    with caplog.at_level(logging.WARNING, logger="hub.app"):
        app = create_app(config)
    client = app.test_client()
    confirm = f"/confirm/demo/{shop.confirm_token}"
    env = {"REMOTE_ADDR": "127.0.0.1"}
    while_down = client.post(confirm, data={"etat": "ok"}, environ_base=env)
    door.open()
    once_back = client.post(confirm, data={"etat": "ok"}, environ_base=env)
    app.extensions["bluepaid.hub"].db.dispose()

    assert "the database does not answer" in caplog.text
    assert while_down.status_code >= 500
    assert once_back.status_code < 500
    checker = build_hub(HubConfig(database_url=schema_url, secret_key="k" * 32))
    with checker.db.engine.connect() as db:
        stored = db.execute(sa.text("select count(*) from inbox")).scalar_one()
    checker.db.dispose()
    assert stored == 1


def test_a_sqlite_file_that_cannot_be_opened_still_stops_the_start() -> None:
    config = HubConfig(database_url="sqlite:////nonexistent-folder/hub.db", secret_key="k" * 32)

    with pytest.raises(sa.exc.OperationalError):
        create_app(config)
