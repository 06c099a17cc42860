"""The shop HTTP client where connections are made: one DNS answer, checked and
used; TLS on the name; nothing taken from the environment.

Real sockets throughout: shop APIs on 127.0.0.1 (plain and TLS, with a
certificate made here for a name), a proxy on 127.0.0.1, and a resolver that
answers from a table (``socket.getaddrinfo`` replaced, as a local DNS would).
"""

from __future__ import annotations

import datetime as dt
import socket
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests
import responses
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from bluepaid_plugins.errors import ShopRefused, ShopUnavailable
from bluepaid_plugins.http import call_shop, shop_session

PUBLIC = "93.184.216.34"


@dataclass
class Resolver:
    """A DNS whose answers come from ``table``: a name's answers are given in turn,
    the last one for good. Addresses resolve to themselves, other names fail."""

    table: dict[str, list[list[str]]] = field(default_factory=dict)
    asked: list[str] = field(default_factory=list)

    def answer(self, host: str, port: Any) -> list[Any]:
        self.asked.append(host)
        answers = self.table.get(host)
        if answers is None:
            return _REAL_GETADDRINFO(host, port, type=socket.SOCK_STREAM, flags=socket.AI_NUMERICHOST)
        addresses = answers.pop(0) if len(answers) > 1 else answers[0]
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port)) for address in addresses]


_REAL_GETADDRINFO = socket.getaddrinfo


@pytest.fixture
def dns(monkeypatch: pytest.MonkeyPatch) -> Resolver:
    resolver = Resolver()
    monkeypatch.setattr(socket, "getaddrinfo", lambda host, port, *a, **k: resolver.answer(host, port))
    return resolver


@dataclass
class Seen:
    """One request a local server received."""

    line: str
    headers: dict[str, str]
    server_name: str | None = None


class LocalServer:
    """An HTTP (or, with ``context``, HTTPS) server on 127.0.0.1 answering 200 with
    a small JSON body to every request, and recording each."""

    def __init__(self, context: ssl.SSLContext | None = None, body: bytes = b'{"id": 42}') -> None:
        self.seen: list[Seen] = []
        self.names: list[str | None] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                name = server.names[-1] if server.names else None
                server.seen.append(Seen(self.requestline, dict(self.headers), name))
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet."""

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        if context is not None:
            context.sni_callback = lambda sock, name, ctx: self.names.append(name)
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


@pytest.fixture
def local() -> Iterator[LocalServer]:
    server = LocalServer()
    yield server
    server.close()


def call(session: requests.Session, url: str, **kwargs: Any) -> requests.Response:
    return call_shop(session, "GET", url, label="WooCommerce", what="order 42", **kwargs)


# Every connection is checked, not only redirects


def test_a_call_to_a_loopback_address_is_refused_before_connecting(local: LocalServer) -> None:
    with shop_session() as session, pytest.raises(ShopRefused) as refused:
        call(session, f"http://127.0.0.1:{local.port}/orders/42")

    assert "127.0.0.1 is a private or local address" in str(refused.value)
    assert local.seen == []


def test_a_name_that_resolves_to_loopback_is_refused_without_naming_the_address(
    dns: Resolver, local: LocalServer
) -> None:
    dns.table["shop.example"] = [["127.0.0.1"]]

    with shop_session() as session, pytest.raises(ShopRefused) as refused:
        call(session, f"http://shop.example:{local.port}/orders/42")

    message = str(refused.value)
    assert "shop.example resolves to a private or local address" in message
    assert "127.0.0.1" not in message
    assert local.seen == []


@pytest.mark.parametrize("addresses", [["10.0.0.7"], [PUBLIC, "192.168.1.20"], ["169.254.169.254"]])
def test_a_name_with_any_private_address_is_refused(dns: Resolver, addresses: list[str]) -> None:
    dns.table["internal.example"] = [addresses]

    with shop_session() as session, pytest.raises(ShopRefused) as refused:
        call(session, "https://internal.example/orders/42")

    assert not [address for address in addresses if address in str(refused.value)]


def test_a_redirect_to_a_name_on_loopback_is_refused_without_naming_the_address(
    dns: Resolver, local: LocalServer
) -> None:
    dns.table["intranet.example"] = [["127.0.0.1"]]
    target = f"http://intranet.example:{local.port}/admin"

    with responses.RequestsMock() as shop_api, shop_session() as session:
        shop_api.add(responses.GET, "http://shop.example/orders/42", status=302, headers={"Location": target})
        shop_api.add_passthru("http://intranet.example")
        with pytest.raises(ShopRefused) as refused:
            call(session, "http://shop.example/orders/42")

    message = str(refused.value)
    assert "redirected to http://intranet.example" in message
    assert "intranet.example resolves to a private or local address" in message
    assert "127.0.0.1" not in message
    assert local.seen == []


def test_a_name_that_rebinds_to_loopback_is_connected_to_at_the_address_checked(
    dns: Resolver, local: LocalServer
) -> None:
    # The attack: a public answer for the check, then loopback for the connection.
    dns.table["rebind.example"] = [[PUBLIC], ["127.0.0.1"]]
    target = f"http://rebind.example:{local.port}/admin"

    with responses.RequestsMock() as shop_api, shop_session() as session:
        shop_api.add(responses.GET, "http://shop.example/orders/42", status=302, headers={"Location": target})
        shop_api.add_passthru("http://rebind.example")
        # The public address is not this test's to reach: whether it refuses or
        # stays silent, the call fails there, never on loopback.
        with pytest.raises(ShopUnavailable):
            call(session, "http://shop.example/orders/42", timeout=(1.0, 1.0))

    assert dns.asked.count("rebind.example") == 1
    assert local.seen == []


def test_private_addresses_are_called_when_allowed(dns: Resolver, local: LocalServer) -> None:
    dns.table["shop.internal"] = [["127.0.0.1"]]

    with shop_session(allow_private_addresses=True) as session:
        response = call(session, f"http://shop.internal:{local.port}/orders/42")

    assert response.json() == {"id": 42}
    assert [seen.headers["Host"] for seen in local.seen] == [f"shop.internal:{local.port}"]
    assert dns.asked.count("shop.internal") == 1


# TLS on the name, at the address


@dataclass(frozen=True)
class Certificates:
    ca: Path
    server: ssl.SSLContext


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    """A certificate authority of this test, and a server certificate for ``shop.test`` it signed."""
    folder = tmp_path_factory.mktemp("tls")
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "bluepaid test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "shop.test")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("shop.test")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    (folder / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    (folder / "server.pem").write_bytes(
        leaf.public_bytes(serialization.Encoding.PEM)
        + key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(folder / "server.pem")
    return Certificates(folder / "ca.pem", context)


@pytest.fixture
def tls_shop(certificates: Certificates) -> Iterator[LocalServer]:
    server = LocalServer(certificates.server)
    yield server
    server.close()


def test_tls_names_the_host_and_checks_its_certificate_at_the_checked_address(
    dns: Resolver, tls_shop: LocalServer, certificates: Certificates
) -> None:
    dns.table["shop.test"] = [["127.0.0.1"]]

    with shop_session(allow_private_addresses=True) as session:
        session.verify = str(certificates.ca)
        response = call(session, f"https://shop.test:{tls_shop.port}/orders/42")

    assert response.json() == {"id": 42}
    assert [(seen.server_name, seen.headers["Host"]) for seen in tls_shop.seen] == [
        ("shop.test", f"shop.test:{tls_shop.port}")
    ]


def test_a_certificate_for_another_name_is_refused(
    dns: Resolver, tls_shop: LocalServer, certificates: Certificates
) -> None:
    dns.table["other.test"] = [["127.0.0.1"]]

    with shop_session(allow_private_addresses=True) as session:
        session.verify = str(certificates.ca)
        with pytest.raises(ShopUnavailable, match="could not be reached"):
            call(session, f"https://other.test:{tls_shop.port}/orders/42")

    assert tls_shop.names == ["other.test"]
    assert tls_shop.seen == []


# The environment does not steer shop calls


@pytest.fixture
def proxy() -> Iterator[LocalServer]:
    """A forward proxy that answers every request itself."""
    server = LocalServer(body=b'{"via": "proxy"}')
    yield server
    server.close()


def test_proxy_variables_of_the_environment_are_ignored(
    monkeypatch: pytest.MonkeyPatch, local: LocalServer, proxy: LocalServer
) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.setenv(name, f"http://127.0.0.1:{proxy.port}")
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)

    with shop_session(allow_private_addresses=True) as session:
        response = call(session, f"http://127.0.0.1:{local.port}/orders/42")

    assert response.json() == {"id": 42}
    assert proxy.seen == []


def test_a_netrc_in_the_home_folder_is_ignored(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, local: LocalServer
) -> None:
    netrc = tmp_path / ".netrc"
    netrc.write_text("machine 127.0.0.1 login merchant password netrc-secret-1\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("NETRC", raising=False)

    with shop_session(allow_private_addresses=True) as session:
        call(session, f"http://127.0.0.1:{local.port}/orders/42")

    assert [seen.headers.get("Authorization") for seen in local.seen] == [None]


def test_the_proxy_a_shop_names_is_used(proxy: LocalServer) -> None:
    with shop_session(proxy=f"http://127.0.0.1:{proxy.port}") as session:
        response = call(session, "http://shop.example/orders/42")

    assert response.json() == {"via": "proxy"}
    assert [seen.line for seen in proxy.seen] == ["GET http://shop.example/orders/42 HTTP/1.1"]
