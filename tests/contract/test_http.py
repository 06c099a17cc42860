"""The outbound HTTP client: timeouts, checked redirects, status mapping, safe messages."""

from __future__ import annotations

import re
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests
import responses

from bluepaid_plugins import http
from bluepaid_plugins.errors import OrderNotFound, ShopAuthFailed, ShopRefused, ShopUnavailable
from bluepaid_plugins.http import call_shop, raise_for_shop, safe_url, shop_session

SHOP = "https://shop.example"
ORDER_URL = f"{SHOP}/wp-json/wc/v3/orders/42"
SECRET_URL = (
    "https://admin:hunter2@shop.example/wp-json/wc/v3/orders/42"
    "?consumer_key=ck_secret&consumer_secret=cs_secret"
)
SECRETS = ("hunter2", "admin", "ck_secret", "cs_secret", "consumer_")


@dataclass
class FakeDNS:
    """Host names the redirect check may resolve, and the names it asked for."""

    table: dict[str, list[str]] = field(default_factory=dict)
    asked: list[str] = field(default_factory=list)


@pytest.fixture(autouse=True)
def dns(monkeypatch: pytest.MonkeyPatch) -> FakeDNS:
    """No test reaches a real DNS server: numeric hosts resolve, names come from the table."""
    fake = FakeDNS(
        table={
            "localhost": ["127.0.0.1", "::1"],
            "shop.example": ["93.184.216.34"],
            "cdn.example": ["93.184.216.35"],
            "internal.example": ["10.0.0.7"],
            "mixed.example": ["93.184.216.36", "192.168.1.20"],
        }
    )
    real_getaddrinfo = socket.getaddrinfo

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        fake.asked.append(host)
        if host in fake.table:
            return [
                (socket.AF_INET6, socket.SOCK_STREAM, 6, "", (address, port, 0, 0))
                if ":" in address
                else (socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))
                for address in fake.table[host]
            ]
        return real_getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_NUMERICHOST)

    monkeypatch.setattr(http.socket, "getaddrinfo", getaddrinfo)
    return fake


@pytest.fixture
def shop_api() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock() as mock:
        yield mock


@pytest.fixture
def session() -> Iterator[requests.Session]:
    with shop_session() as made:
        yield made


def redirect(mock: responses.RequestsMock, url: str, location: str, status: int = 302) -> None:
    mock.add(responses.GET, url, status=status, headers={"Location": location})


def call(session: requests.Session, url: str = ORDER_URL, **kwargs: Any) -> requests.Response:
    return call_shop(session, "GET", url, label="WooCommerce", what="order 42", **kwargs)


# Timeouts


def test_every_call_gets_the_default_timeout(shop_api, session):
    shop_api.add(responses.GET, ORDER_URL, json={"id": 42})

    session.get(ORDER_URL)

    assert shop_api.calls[0].request.req_kwargs["timeout"] == (5.0, 15.0)


def test_a_call_may_pass_its_own_timeout(shop_api, session):
    shop_api.add(responses.GET, ORDER_URL, json={"id": 42})

    session.get(ORDER_URL, timeout=(1, 2.5))

    assert shop_api.calls[0].request.req_kwargs["timeout"] == (1.0, 2.5)


def test_a_session_timeout_replaces_the_default(shop_api):
    shop_api.add(responses.GET, ORDER_URL, json={"id": 42})

    with shop_session(timeout=(2.0, 30.0)) as session:
        session.get(ORDER_URL, timeout=None)

    assert shop_api.calls[0].request.req_kwargs["timeout"] == (2.0, 30.0)


def test_a_prepared_request_sent_without_timeout_gets_the_default(shop_api, session):
    shop_api.add(responses.GET, ORDER_URL, json={"id": 42})

    session.send(session.prepare_request(requests.Request("GET", ORDER_URL)))

    assert shop_api.calls[0].request.req_kwargs["timeout"] == (5.0, 15.0)


@pytest.mark.parametrize("timeout", [(5.0, None), (None, 5.0), 0, -1.0, float("inf"), "5", True])
def test_a_call_cannot_wait_forever(session, timeout):
    with pytest.raises(ValueError, match="timeout"):
        session.get(ORDER_URL, timeout=timeout)


def test_a_session_cannot_wait_forever():
    with pytest.raises(ValueError, match="timeout"):
        shop_session(timeout=(5.0, None))  # type: ignore[arg-type]


def test_every_redirect_hop_gets_the_timeout(shop_api, session):
    redirect(shop_api, ORDER_URL, f"{SHOP}/a")
    redirect(shop_api, f"{SHOP}/a", "https://cdn.example/b")
    shop_api.add(responses.GET, "https://cdn.example/b", json={"id": 42})

    session.get(ORDER_URL, timeout=(1.0, 2.0))

    assert [c.request.req_kwargs["timeout"] for c in shop_api.calls] == [(1.0, 2.0)] * 3


def test_the_user_agent_names_the_kit(shop_api):
    shop_api.add(responses.GET, ORDER_URL, json={"id": 42})

    with shop_session(user_agent="bluepaid-plugins/1.0 (woocommerce)") as session:
        session.get(ORDER_URL)

    assert shop_api.calls[0].request.headers["User-Agent"] == "bluepaid-plugins/1.0 (woocommerce)"


# Redirects


@pytest.mark.parametrize(
    "location",
    [
        "https://127.0.0.1/admin",
        "https://127.0.0.1:6379/",
        "https://10.1.2.3/",
        "https://192.168.0.1/",
        "https://169.254.169.254/latest/meta-data/",
        "https://[::1]/",
        "https://[::ffff:127.0.0.1]/",
        "https://[::ffff:a01:203]/",
        "https://[fe80::1]/",
        "https://[fc00::1]/",
        "https://0.0.0.0/",
        "https://[::]/",
        "https://224.0.0.1/",
        "https://240.0.0.1/",
        "https://100.64.0.1/",
        "https://[2002:7f00:1::]/",
        "https://[64:ff9b::a00:1]/",
        "https://2130706433/",
        "https://0177.0.0.1/",
        "https://localhost/",
        "https://api.localhost/",
    ],
)
def test_a_redirect_to_a_private_address_is_refused(shop_api, session, location):
    redirect(shop_api, ORDER_URL, location)

    with pytest.raises(ShopRefused) as refused:
        call(session)

    assert refused.type is ShopRefused
    assert "private or local address" in str(refused.value)
    assert len(shop_api.calls) == 1


@pytest.mark.parametrize(
    "location",
    [
        "https://cdn.example/orders/42",
        "https://93.184.216.34/orders/42",
        "https://[2606:2800:220:1:248:1893:25c8:1946]/orders/42",
    ],
)
def test_a_redirect_to_a_public_address_is_followed(shop_api, session, location):
    redirect(shop_api, ORDER_URL, location)
    shop_api.add(responses.GET, location, json={"id": 42})

    response = call(session)

    assert response.json() == {"id": 42}
    assert response.url == location
    assert [r.status_code for r in response.history] == [302]


def test_a_redirect_target_that_does_not_resolve_is_unavailable(shop_api, session):
    redirect(shop_api, ORDER_URL, "https://nowhere.example/orders/42")
    shop_api.add_passthru("https://nowhere.example")

    with pytest.raises(ShopUnavailable, match="could not be reached"):
        call(session)

    assert len(shop_api.calls) == 1


def test_private_redirects_are_followed_when_allowed(shop_api):
    redirect(shop_api, ORDER_URL, "https://10.1.2.3/orders/42")
    shop_api.add(responses.GET, "https://10.1.2.3/orders/42", json={"id": 42})

    with shop_session(allow_private_redirects=True) as session:
        response = call(session)

    assert response.json() == {"id": 42}


@pytest.mark.parametrize("allow_private_redirects", [False, True])
def test_a_redirect_from_https_to_http_is_refused(shop_api, allow_private_redirects):
    redirect(shop_api, ORDER_URL, "http://shop.example/wp-json/wc/v3/orders/42")

    with (
        shop_session(allow_private_redirects=allow_private_redirects) as session,
        pytest.raises(ShopRefused, match="from https down to http"),
    ):
        call(session)

    assert len(shop_api.calls) == 1


@pytest.mark.parametrize("location", ["ftp://cdn.example/orders/42", "file:///etc/passwd"])
def test_a_redirect_out_of_http_is_refused(shop_api, session, location):
    redirect(shop_api, ORDER_URL, location)

    with pytest.raises(ShopRefused, match=r"not an http\(s\) URL"):
        call(session)


def test_a_redirect_to_an_unparseable_location_is_refused(shop_api, session):
    redirect(shop_api, ORDER_URL, "http://[::1/orders")

    with pytest.raises(ShopRefused, match="not a valid URL"):
        call(session)


def test_three_redirects_are_followed(shop_api, session):
    redirect(shop_api, ORDER_URL, f"{SHOP}/1")
    redirect(shop_api, f"{SHOP}/1", f"{SHOP}/2")
    redirect(shop_api, f"{SHOP}/2", f"{SHOP}/3")
    shop_api.add(responses.GET, f"{SHOP}/3", json={"id": 42})

    response = call(session)

    assert response.json() == {"id": 42}
    assert len(response.history) == 3


def test_a_fourth_redirect_is_not_followed(shop_api, session):
    redirect(shop_api, ORDER_URL, f"{SHOP}/1")
    redirect(shop_api, f"{SHOP}/1", f"{SHOP}/2")
    redirect(shop_api, f"{SHOP}/2", f"{SHOP}/3")
    redirect(shop_api, f"{SHOP}/3", f"{SHOP}/4")
    shop_api.add(responses.GET, f"{SHOP}/4", json={"id": 42})
    shop_api.assert_all_requests_are_fired = False

    with pytest.raises(ShopUnavailable, match="more than 3 times"):
        call(session)

    assert len(shop_api.calls) == 4


def test_a_redirect_loop_is_not_followed_forever(shop_api, session):
    redirect(shop_api, ORDER_URL, ORDER_URL)

    with pytest.raises(ShopUnavailable, match="more than 3 times"):
        call(session)


def test_authorization_is_not_sent_to_another_host(shop_api, session):
    redirect(shop_api, ORDER_URL, "https://cdn.example/orders/42")
    shop_api.add(responses.GET, "https://cdn.example/orders/42", json={"id": 42})

    call(session, headers={"Authorization": "Bearer s3cret"})

    assert shop_api.calls[0].request.headers["Authorization"] == "Bearer s3cret"
    assert "Authorization" not in shop_api.calls[1].request.headers


def test_authorization_is_kept_on_the_same_host(shop_api, session):
    redirect(shop_api, ORDER_URL, f"{ORDER_URL}/")
    shop_api.add(responses.GET, f"{ORDER_URL}/", json={"id": 42})

    call(session, headers={"Authorization": "Bearer s3cret"})

    assert shop_api.calls[1].request.headers["Authorization"] == "Bearer s3cret"


def test_a_post_answered_with_303_is_followed_with_a_get(shop_api, session):
    shop_api.add(responses.POST, ORDER_URL, status=303, headers={"Location": f"{SHOP}/done"})
    shop_api.add(responses.GET, f"{SHOP}/done", json={"status": "processing"})

    response = call_shop(
        session, "POST", ORDER_URL, label="WooCommerce", what="order 42", json={"paid": True}
    )

    assert response.json() == {"status": "processing"}
    assert shop_api.calls[1].request.method == "GET"
    assert shop_api.calls[1].request.body is None


def test_a_redirect_not_followed_is_returned_unchecked(shop_api, session):
    redirect(shop_api, ORDER_URL, "https://10.1.2.3/orders/42")

    response = call(session, allow_redirects=False)

    assert response.status_code == 302
    assert response.headers["Location"] == "https://10.1.2.3/orders/42"


# Status mapping


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (200, None),
        (201, None),
        (400, ShopRefused),
        (401, ShopAuthFailed),
        (403, ShopAuthFailed),
        (404, OrderNotFound),
        (409, ShopRefused),
        (410, OrderNotFound),
        (422, ShopRefused),
        (429, ShopUnavailable),
        (500, ShopUnavailable),
        (503, ShopUnavailable),
    ],
)
def test_a_status_maps_to_its_error(shop_api, session, status, error):
    shop_api.add(responses.GET, ORDER_URL, status=status, json={"message": "whatever"})

    if error is None:
        assert call(session).status_code == status
    else:
        with pytest.raises(error) as raised:
            call(session)
        assert raised.type is error
        assert raised.value.status == status


def test_an_unavailable_shop_is_retried(shop_api, session):
    shop_api.add(responses.GET, ORDER_URL, status=503)

    with pytest.raises(ShopUnavailable) as raised:
        call(session)

    assert raised.value.retryable is True
    assert str(raised.value) == f"WooCommerce answered 503 for order 42 (GET {ORDER_URL}); will retry"


def test_retry_after_in_seconds_is_mentioned(shop_api, session):
    shop_api.add(responses.GET, ORDER_URL, status=429, headers={"Retry-After": "120"})

    with pytest.raises(ShopUnavailable, match=r"will retry \(Retry-After: 120 s\)"):
        call(session)


def test_retry_after_as_a_date_is_mentioned_in_seconds(shop_api, session):
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=90), usegmt=True)
    shop_api.add(responses.GET, ORDER_URL, status=503, headers={"Retry-After": when})

    with pytest.raises(ShopUnavailable) as raised:
        call(session)

    seconds = re.search(r"Retry-After: (\d+) s", str(raised.value))
    assert seconds is not None
    assert 80 <= int(seconds.group(1)) <= 90


def test_a_refusal_quotes_the_shops_json_message_on_one_line(shop_api, session):
    shop_api.add(
        responses.GET,
        ORDER_URL,
        status=422,
        json={"code": "invalid_status", "message": "Cannot move order\r\nfrom completed\tto paid"},
    )

    with pytest.raises(ShopRefused) as raised:
        call(session)

    assert str(raised.value) == (
        f"WooCommerce refused order 42 with 422 (GET {ORDER_URL}): Cannot move order from completed to paid"
    )


def test_a_refusal_quotes_a_short_excerpt_of_a_text_body(shop_api, session):
    shop_api.add(responses.GET, ORDER_URL, status=409, body="<h1>Conflict</h1>\n" + "x" * 500)

    with pytest.raises(ShopRefused) as raised:
        call(session)

    excerpt = str(raised.value).split("): ", 1)[1]
    assert excerpt.startswith("<h1>Conflict</h1> xxx")
    assert excerpt.endswith("…")
    assert len(excerpt) == 200


XML_ERROR = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<prestashop><errors><error><code><![CDATA[90]]></code>'
    "<message><![CDATA[Validation error: id_order_state is required]]></message>"
    "</error></errors></prestashop>"
)


def _xml_message(response: requests.Response) -> str:
    found = re.search(r"<message><!\[CDATA\[(.*?)\]\]></message>", response.text)
    return found.group(1) if found else ""


@pytest.mark.parametrize(
    ("status", "error"),
    [(400, ShopRefused), (401, ShopAuthFailed), (404, OrderNotFound), (500, ShopUnavailable)],
)
def test_a_connector_reads_its_shops_own_error_format(shop_api, session, status, error):
    shop_api.add(responses.GET, ORDER_URL, status=status, body=XML_ERROR, content_type="text/xml")

    with pytest.raises(error) as raised:
        call(session, explain=_xml_message)

    assert "Validation error: id_order_state is required" in str(raised.value)
    assert "<?xml" not in str(raised.value)
    assert raised.value.status == status


def test_an_explanation_not_found_falls_back_to_the_body(shop_api, session):
    shop_api.add(responses.GET, ORDER_URL, status=409, body="plain words")

    with pytest.raises(ShopRefused, match=r": plain words$"):
        call(session, explain=_xml_message)


def _refused_for_good(response: requests.Response) -> str:
    return "Invalid refund amount." if response.json().get("code") == "cannot_refund" else ""


def test_a_permanent_refusal_behind_a_500_is_not_retried(shop_api, session):
    shop_api.add(responses.GET, ORDER_URL, status=500, json={"code": "cannot_refund", "message": "x"})

    with pytest.raises(ShopRefused) as raised:
        call(session, refusal=_refused_for_good)

    assert raised.value.retryable is False
    assert raised.value.status == 500
    assert (
        str(raised.value)
        == f"WooCommerce refused order 42 with 500 (GET {ORDER_URL}): Invalid refund amount."
    )


def test_a_500_the_refusal_reader_does_not_recognise_stays_retryable(shop_api, session):
    shop_api.add(responses.GET, ORDER_URL, status=500, json={"code": "db_error", "message": "try again"})

    with pytest.raises(ShopUnavailable, match="try again"):
        call(session, refusal=_refused_for_good)


def test_a_failure_without_an_answer_has_no_status(shop_api, session):
    shop_api.add(responses.GET, ORDER_URL, body=requests.ConnectTimeout("slow"))

    with pytest.raises(ShopUnavailable) as raised:
        call(session)

    assert raised.value.status is None


def test_a_redirect_status_is_not_an_error():
    response = requests.Response()
    response.status_code = 304
    response.request = requests.Request("GET", ORDER_URL).prepare()

    assert raise_for_shop(response, "WooCommerce", "order 42") is None


# Transport failures


@pytest.mark.parametrize(
    "failure",
    [
        requests.ConnectTimeout("connect timed out"),
        requests.ReadTimeout("read timed out"),
        requests.ConnectionError("connection reset"),
        requests.exceptions.ChunkedEncodingError("connection broken"),
    ],
)
def test_a_transport_failure_is_unavailable(shop_api, session, failure):
    shop_api.add(responses.GET, ORDER_URL, body=failure)

    with pytest.raises(ShopUnavailable) as raised:
        call(session)

    assert raised.value.retryable is True


def test_a_url_without_scheme_is_refused(session):
    with pytest.raises(ShopRefused, match="check the shop URL"):
        call(session, "shop.example/wp-json/wc/v3/orders/42")


@pytest.mark.parametrize(
    "url",
    [
        "https://shop..example/wp-json/wc/v3/orders/42?consumer_key=ck_secret",
        "https://.shop.example/wp-json/wc/v3/orders/42?consumer_key=ck_secret",
    ],
)
def test_a_url_requests_cannot_connect_to_is_refused_with_the_safe_url(session, url):
    with pytest.raises(ShopRefused, match="check the shop URL") as raised:
        call(session, url)

    message = str(raised.value)
    assert f"GET {safe_url(url)}" in message
    assert "ck_secret" not in message
    assert raised.value.__cause__ is None and raised.value.__suppress_context__


def test_a_bad_timeout_stays_a_programming_error_in_call_shop(session):
    with pytest.raises(ValueError, match="timeout"):
        call(session, timeout=0)


def test_call_shop_needs_a_shop_session():
    with requests.Session() as plain, pytest.raises(TypeError, match="shop_session"):
        call(plain)


# Messages keep secrets out


@pytest.mark.parametrize("status", [401, 404, 422, 503])
def test_a_status_error_names_the_call_without_secrets(shop_api, session, status):
    shop_api.add(responses.GET, SECRET_URL.split("?")[0], status=status, body="nope")

    with pytest.raises((ShopRefused, ShopUnavailable)) as raised:
        call(session, SECRET_URL)

    message = str(raised.value)
    assert f"GET {ORDER_URL}" in message
    assert not [secret for secret in SECRETS if secret in message]


def test_a_transport_error_names_the_call_without_secrets(shop_api, session):
    shop_api.add(
        responses.GET,
        SECRET_URL.split("?")[0],
        body=requests.ConnectionError(f"Max retries exceeded with url: {SECRET_URL}"),
    )

    with pytest.raises(ShopUnavailable) as raised:
        call(session, SECRET_URL)

    message = str(raised.value)
    assert f"GET {ORDER_URL}" in message
    assert not [secret for secret in SECRETS if secret in message]


def test_a_refused_redirect_names_both_urls_without_secrets(shop_api, session):
    redirect(shop_api, SECRET_URL.split("?")[0], "https://root:toor@10.0.0.1/internal?token=t0ken")

    with pytest.raises(ShopRefused) as raised:
        call(session, SECRET_URL)

    message = str(raised.value)
    assert f"GET {ORDER_URL}" in message
    assert "https://10.0.0.1/internal" in message
    assert "private or local address" in message
    assert not [s for s in (*SECRETS, "root", "toor", "t0ken") if s in message]


@pytest.mark.parametrize(
    ("url", "safe"),
    [
        (SECRET_URL, ORDER_URL),
        ("HTTP://Shop.Example:8080/a#frag", "http://shop.example:8080/a"),
        ("http://u:p@[::1]:8080/a?x=1", "http://[::1]:8080/a"),
        ("user:password@shop.example/a", "<invalid URL>"),
        ("http://[::1/a", "<invalid URL>"),
    ],
)
def test_safe_url_drops_credentials_query_and_fragment(url, safe):
    assert safe_url(url) == safe


# Real sockets


@dataclass
class Route:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b'{"id": 42}'
    delay: float = 0.0


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that gave up (read timeout) is expected here."""


class LocalShop:
    """A shop API on 127.0.0.1 serving fixed routes and recording the paths asked."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.paths: list[str] = []
        self.release = threading.Event()
        shop = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                shop.paths.append(self.path)
                route = shop.routes.get(self.path, Route(status=404, body=b""))
                shop.release.wait(route.delay)
                self.send_response(route.status)
                for name, value in route.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(route.body)))
                self.end_headers()
                self.wfile.write(route.body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = QuietServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


@pytest.fixture
def local_shops() -> Iterator[list[LocalShop]]:
    shops = [LocalShop(), LocalShop()]
    yield shops
    for shop in shops:
        shop.close()


@pytest.fixture
def local_session() -> Iterator[requests.Session]:
    """A session that may call the shops on 127.0.0.1."""
    with shop_session(allow_private_addresses=True) as made:
        yield made


def test_a_shop_slower_than_the_read_timeout_is_unavailable(local_shops, local_session):
    shop = local_shops[0]
    shop.routes["/orders/42"] = Route(delay=5.0)

    with pytest.raises(ShopUnavailable, match="did not answer order 42 in time"):
        call(local_session, f"{shop.url}/orders/42", timeout=(2.0, 0.2))


def test_a_redirect_on_the_merchants_own_host_is_followed(local_shops, local_session):
    shop = local_shops[0]
    shop.routes["/orders/42"] = Route(status=301, headers={"Location": "/orders/42/"})
    shop.routes["/orders/42/"] = Route()

    response = call(local_session, f"{shop.url}/orders/42")

    assert response.json() == {"id": 42}
    assert shop.paths == ["/orders/42", "/orders/42/"]


def test_a_redirect_to_another_loopback_port_is_followed_when_allowed_by_the_v1_name(local_shops):
    shop, other = local_shops
    shop.routes["/orders/42"] = Route(status=302, headers={"Location": f"{other.url}/orders/42"})
    other.routes["/orders/42"] = Route(body=b'{"id": 43}')

    with shop_session(allow_private_redirects=True) as session:
        response = call(session, f"{shop.url}/orders/42")

    assert response.json() == {"id": 43}
    assert other.paths == ["/orders/42"]


def test_a_closed_port_is_unavailable_without_secrets_in_the_message(local_session):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://admin:hunter2@127.0.0.1:{port}/orders/42?consumer_secret=cs_secret"

    with pytest.raises(ShopUnavailable) as raised:
        call(local_session, url)

    message = str(raised.value)
    assert message == (
        f"WooCommerce could not be reached for order 42 (GET http://127.0.0.1:{port}/orders/42): "
        "Connection refused; will retry"
    )
