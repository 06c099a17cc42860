"""The Host header check: the sandbox answers only for the names it is served under.

The console has no login and holds each merchant's confirmation URL, a secret.
A web page open in the developer's browser cannot read it across origins, but
by DNS rebinding it can: its own host name is made to resolve to 127.0.0.1,
and the browser then sends the page's requests to the sandbox as same-origin
ones, with the page's own name in ``Host``. Answering only expected names
defeats that: such a request gets a 400 and nothing of the app runs.

Expected names (:func:`host_is_expected`):

- the host and port of the sandbox's public URL (``BLUEPAID_SANDBOX_PUBLIC_URL``),
  the port defaulting to the URL scheme's (80 or 443) on both sides;
- loopback names on any port: ``localhost``, an address of ``127.0.0.0/8`` and
  ``[::1]``; a rebinding page cannot put them in ``Host``, since its requests
  carry its own name.

A missing or unreadable ``Host`` is refused too: every browser sends one.
The check covers every page (payment page, ``/in.php``, console), since one
app serves them all.
"""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from sandbox.texts import ENGLISH, FRENCH

if TYPE_CHECKING:
    from collections.abc import Iterable

    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

#: The loopback names shown in the refusal, as a client writes them in ``Host``.
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "[::1]")

_DEFAULT_PORTS = {"http": 80, "https": 443}


def is_loopback_name(host: str) -> bool:
    """Whether ``host`` (no port, no brackets) names this machine's loopback only."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _host_and_port(value: str, default_port: int) -> tuple[str, int] | None:
    """``"Sandbox.example:5001"`` -> ``("sandbox.example", 5001)``; None if it is not a host[:port]."""
    if not value or any(char in value for char in "/?#@\\") or any(char.isspace() for char in value):
        return None
    try:
        parts = urlsplit(f"//{value}")
        port = parts.port
    except ValueError:
        return None
    if not parts.hostname:
        return None
    return parts.hostname, default_port if port is None else port


def host_is_expected(host_header: str, public_url: str) -> bool:
    """Whether a request whose ``Host`` is ``host_header`` may be answered (rules in the module docstring)."""
    public = urlsplit(public_url)
    default_port = _DEFAULT_PORTS.get(public.scheme.lower(), 80)
    found = _host_and_port(host_header, default_port)
    if found is None:
        return False
    name, port = found
    if is_loopback_name(name):
        return True
    expected = _host_and_port(public.netloc.rpartition("@")[2], default_port)
    return expected is not None and (name, port) == expected


class HostCheck:
    """WSGI middleware answering 400, in French and English, to a request for an unexpected host.

    ``public_url`` is the sandbox's public base URL; the refusal names it so
    that an operator reaching the sandbox by another name knows what to set.
    """

    def __init__(self, app: WSGIApplication, public_url: str) -> None:
        self.app = app
        self.public_url = public_url

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        host = str(environ.get("HTTP_HOST", ""))
        if host_is_expected(host, self.public_url):
            return self.app(environ, start_response)
        expected = ", ".join((urlsplit(self.public_url).netloc, *LOOPBACK_NAMES))
        # The header is the sender's; cut and quoted, it cannot pass for our own words.
        shown = repr(host[:80])
        body = "\n\n".join(
            texts.wrong_host.format(host=shown, expected=expected) for texts in (FRENCH, ENGLISH)
        ).encode()
        start_response(
            "400 Bad Request",
            [
                ("Content-Type", "text/plain; charset=utf-8"),
                ("Content-Length", str(len(body))),
                ("X-Content-Type-Options", "nosniff"),
                ("Cache-Control", "no-store"),
            ],
        )
        return [body]
