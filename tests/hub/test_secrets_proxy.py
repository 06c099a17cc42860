"""A shop's calls go through a proxy only when its settings name one
(``bluepaid shop add/set --proxy``), never through the environment's."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from bluepaid_plugins import EventKind, Money, PaymentEvent
from bluepaid_plugins.errors import ShopUnavailable
from hub import migrate
from hub.cli import main
from hub.config import HubConfig
from hub.context import Hub, build_hub
from hub.shops import add_shop, get_shop
from tests.hub.conftest import PUBLIC
from tests.hub.shop_stub import StubShopPlugin


class Proxy:
    """A forward proxy on 127.0.0.1 that answers every request itself and records its line."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                proxy.lines.append(self.requestline)
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet."""

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


@pytest.fixture
def proxy() -> Iterator[Proxy]:
    server = Proxy()
    yield server
    server.close()


@pytest.fixture
def hub(database_url: str) -> Iterator[Hub]:
    built = build_hub(
        HubConfig(database_url=database_url, secret_key="k" * 32, public_url=PUBLIC),
        extra_plugins=[StubShopPlugin()],
    )
    migrate.upgrade(built.db)
    yield built
    built.db.dispose()


EVENT = PaymentEvent(
    id="ev_proxy",
    payment_id="p" * 32,
    kind=EventKind.PAID,
    order_ref="1042",
    amount=Money.parse("36.60", "EUR"),
    paid_total=Money.parse("36.60", "EUR"),
    refunded_total=Money.parse("0", "EUR"),
    id_trans="T1",
    occurred_at=datetime(2026, 12, 1, tzinfo=UTC),
    test=True,
)


def test_a_shops_calls_go_through_its_proxy(hub: Hub, proxy: Proxy) -> None:
    shop = add_shop(
        hub,
        slug="proxied",
        id_boutique="21573www",
        connector="stub_shop",
        settings={"url": "http://shop.invalid"},
        proxy_url=proxy.url,
    )

    with hub.connector(shop) as connector:
        connector.apply_event(EVENT)

    assert proxy.lines == ["POST http://shop.invalid/orders/1042/payments HTTP/1.1"]


def test_a_shop_without_a_proxy_ignores_the_environments(
    hub: Hub, proxy: Proxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    monkeypatch.setenv("http_proxy", proxy.url)
    shop = add_shop(
        hub,
        slug="direct",
        id_boutique="21573www",
        connector="stub_shop",
        settings={"url": "http://shop.invalid"},
    )

    with hub.connector(shop) as connector, pytest.raises(ShopUnavailable, match="could not be reached"):
        connector.apply_event(EVENT)

    assert proxy.lines == []


# The command line


@pytest.fixture
def bluepaid(database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Any:
    for name in list(os.environ):
        if name.startswith("BLUEPAID_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("BLUEPAID_DATABASE_URL", database_url)
    monkeypatch.setenv("BLUEPAID_SECRET_KEY", "s" * 32)

    def run(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        code = main(list(args))
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    assert run("db", "upgrade")[0] == 0
    return run


def test_shop_add_and_set_keep_the_proxy_and_show_it_without_its_password(bluepaid: Any) -> None:
    code, out, err = bluepaid(
        "shop",
        "add",
        "s1",
        "--id-boutique",
        "21573www",
        "--proxy",
        "http://hub:pr0xy-pass@proxy.internal:3128",
        "--json",
    )
    assert (code, err) == (0, "")
    assert json.loads(out)["proxy"] == "http://hub:***@proxy.internal:3128"
    assert "pr0xy-pass" not in out

    code, out, _ = bluepaid("shop", "set", "s1", "--proxy", "", "--json")
    assert code == 0
    assert "proxy" not in json.loads(out)


@pytest.mark.parametrize("url", ["socks5://proxy.internal:1080", "proxy.internal:3128", "http://proxy/path"])
def test_shop_set_refuses_what_is_not_an_http_proxy_url(bluepaid: Any, database_url: str, url: str) -> None:
    assert bluepaid("shop", "add", "s1", "--id-boutique", "21573www")[0] == 0

    code, out, err = bluepaid("shop", "set", "s1", "--proxy", url)

    assert (code, out) == (1, "")
    assert err.startswith("error: ") and "proxy" in err
    hub = build_hub(HubConfig(database_url=database_url, secret_key="s" * 32))
    try:
        assert get_shop(hub, "s1").proxy_url == ""
    finally:
        hub.db.dispose()
