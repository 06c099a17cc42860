"""The sandbox answers only for its own host names: a page that rebinds its DNS name to
127.0.0.1 reads nothing, neither the console nor the payment pages."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
import requests
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.serving import make_server

from sandbox.app import create_sandbox_app
from sandbox.hosts import host_is_expected
from sandbox.models import Account, Transaction
from sandbox.platform import Platform
from tests.sandbox.conftest import ID_BOUTIQUE, open_payment, payment_fields

#: The name a DNS-rebinding page gives the sandbox: its own, resolved to 127.0.0.1.
REBOUND = "rebind.attacker.example:5001"


def transaction_count(platform: Platform) -> int:
    with platform.db.transaction() as session:
        return session.scalar(select(func.count()).select_from(Transaction)) or 0


@pytest.mark.parametrize(
    "path",
    ["/console/", f"/console/accounts/{ID_BOUTIQUE}", "/console/transactions", "/console/mails"],
)
def test_a_console_page_asked_for_another_host_is_refused_with_nothing_of_it(
    client: FlaskClient, account: Account, path: str
) -> None:
    answer = client.get(path, headers={"Host": REBOUND})

    text = answer.get_data(as_text=True)
    assert answer.status_code == 400
    assert answer.content_type == "text/plain; charset=utf-8"
    assert account.url_confirmation not in text and "csrf_token" not in text
    assert "Requête refusée" in text and "Request refused" in text
    assert "'rebind.attacker.example:5001'" in text


def test_a_payment_request_for_another_host_opens_no_transaction(
    client: FlaskClient, platform: Platform, account: Account
) -> None:
    answer = client.get("/in.php", query_string=payment_fields(), headers={"Host": REBOUND})

    assert answer.status_code == 400
    assert transaction_count(platform) == 0


def test_a_payment_page_asked_for_another_host_is_refused(client: FlaskClient, account: Account) -> None:
    token = open_payment(client)

    answer = client.get(f"/p/{token}", headers={"Host": REBOUND})

    assert answer.status_code == 400
    assert token not in answer.get_data(as_text=True)


@pytest.mark.parametrize(
    "host", ["localhost", "localhost:5001", "127.0.0.1:5001", "127.0.0.2:8080", "[::1]:5001", "LOCALHOST"]
)
def test_loopback_names_are_answered_on_any_port(client: FlaskClient, account: Account, host: str) -> None:
    assert client.get("/console/", headers={"Host": host}).status_code == 200


def test_the_public_url_host_is_answered(client: FlaskClient, platform: Platform, account: Account) -> None:
    assert platform.config.public_url == "http://sandbox.test"

    assert client.get("/console/", headers={"Host": "sandbox.test"}).status_code == 200
    assert client.get("/console/", headers={"Host": "Sandbox.Test:80"}).status_code == 200


@pytest.mark.parametrize(
    "host",
    [
        "sandbox.test:8080",
        "sandbox.test.attacker.example",
        "127.0.0.1.attacker.example",
        "localhost.attacker.example",
        "",
        "sandbox.test/console",
        "user@sandbox.test",
        "sandbox test",
        "[::1",
        "sandbox.test:http",
    ],
)
def test_a_host_that_is_not_the_public_one_nor_loopback_is_refused(
    client: FlaskClient, account: Account, host: str
) -> None:
    answer = client.get("/console/", environ_overrides={"HTTP_HOST": host})

    assert answer.status_code == 400


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("sandbox.example", True),
        ("sandbox.example:443", True),
        ("sandbox.example:80", False),
        ("sandbox.example:5001", False),
        ("localhost:443", True),
    ],
)
def test_a_public_url_without_port_means_its_scheme_s_port(host: str, expected: bool) -> None:
    assert host_is_expected(host, "https://sandbox.example") is expected


@pytest.fixture
def served(platform: Platform) -> Iterator[str]:
    """The sandbox on a real socket on loopback, as ``bluepaid sandbox`` serves it; its base URL."""
    server = make_server("127.0.0.1", 0, create_sandbox_app(platform=platform), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True, name="sandbox-under-test")
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def test_a_rebound_request_on_the_real_server_reads_nothing_while_a_direct_one_does(
    served: str, account: Account
) -> None:
    page = f"{served}/console/accounts/{ID_BOUTIQUE}"

    rebound = requests.get(page, headers={"Host": REBOUND}, timeout=10)
    direct = requests.get(page, timeout=10)

    assert rebound.status_code == 400
    assert ID_BOUTIQUE not in rebound.text
    assert direct.status_code == 200
    assert ID_BOUTIQUE in direct.text
