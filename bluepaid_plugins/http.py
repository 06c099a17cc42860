"""The outbound HTTP client connectors use to call shop APIs.

A shop's URL comes from the merchant, but where its answers redirect us does
not, nor what its name resolves to: a compromised or misconfigured shop could
bounce the hub to a cloud metadata service or an admin port on the private
network, by a redirect or by a DNS answer that changes between a check and the
connection (DNS rebinding). So every call made through :func:`shop_session`:

- connects only to public addresses: each connection resolves the host once,
  refuses it if any address it resolves to is private, loopback, link-local,
  multicast, reserved or unspecified, and connects to the address it checked,
  while the ``Host`` header, the TLS server name and the certificate check keep
  the host name. ``allow_private_addresses`` lifts this, for tests, the
  offline demo and a shop on the merchant's own network;
- has a timeout, follows at most :data:`MAX_REDIRECTS` redirects, never goes
  from https back to http, and refuses a redirect to a private address written
  as an address (or ``localhost``) before following it, unless it stays on the
  merchant's own host and port;
- ignores the environment's proxy variables and ``~/.netrc``: a proxy is used
  only when the shop's settings name one (``proxy``), and then the connection
  goes to that proxy, which reaches the shop (the proxy, chosen by the
  operator, decides which addresses it reaches).

:func:`call_shop` turns what can go wrong into our errors, with messages that
name the method and the URL without its query string or credentials, where API
keys usually travel, and never an address a name resolved to.
"""

from __future__ import annotations

import inspect
import ipaddress
import math
import os
import socket
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import SplitResult, urlsplit, urlunsplit

import requests
from requests.adapters import DEFAULT_POOLBLOCK, HTTPAdapter
from requests.models import PreparedRequest
from requests.utils import resolve_proxies
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError
from urllib3.poolmanager import PoolManager
from urllib3.util.connection import allowed_gai_family, create_connection

from bluepaid_plugins.errors import OrderNotFound, ShopAuthFailed, ShopRefused, ShopUnavailable

Timeout = tuple[float, float]
#: Reads a shop's own error message out of its answer ("" when there is none).
Explain = Callable[[requests.Response], str]

DEFAULT_TIMEOUT: Timeout = (5.0, 15.0)
MAX_REDIRECTS = 3
EXCERPT_LENGTH = 200

_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class RedirectRefused(requests.exceptions.RequestException):
    """A redirect a :class:`ShopSession` will not follow.

    ``target`` is the redirect URL without query string or credentials;
    ``reason`` says why, in words a merchant can act on.
    """

    def __init__(self, target: str, reason: str, *, response: requests.Response) -> None:
        self.target = safe_url(target)
        self.reason = reason
        super().__init__(f"redirect to {self.target} refused: {reason}", response=response)


class AddressRefused(requests.exceptions.RequestException):
    """A call a :class:`ShopSession` will not make: its host is a private address.

    ``target`` is the URL of the refused request without query string or
    credentials; ``reason`` names the host, never the address it resolved to.
    """

    def __init__(self, target: str, reason: str) -> None:
        self.target = safe_url(target)
        self.reason = reason
        super().__init__(f"call to {self.target} refused: {reason}")


class _Refused(Exception):
    """Raised where a connection is made; not an OSError, so that urllib3 and
    requests let it through instead of retrying or wrapping it."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


class ShopSession(requests.Session):
    """A :class:`requests.Session` that keeps shop calls inside this module's rules.

    Redirects are followed here, one checked hop at a time, with the next
    request built by requests itself (method rewriting, body dropping, and the
    ``Authorization`` header removed when the host changes). Connections are
    checked below :meth:`requests.adapters.HTTPAdapter.send`, where they are
    made, so an HTTP double that replaces ``send`` (``responses``) still sees
    every call.
    """

    def __init__(
        self,
        *,
        timeout: Timeout = DEFAULT_TIMEOUT,
        allow_private_addresses: bool = False,
        proxy: str | None = None,
        user_agent: str = "bluepaid-plugins",
    ) -> None:
        super().__init__()
        self.default_timeout = _checked_timeout(timeout)
        self.allow_private_addresses = allow_private_addresses
        self.max_redirects = MAX_REDIRECTS
        self.headers["User-Agent"] = user_agent
        # The process's environment does not steer shop calls: no proxy variables,
        # no ~/.netrc credentials sent to whatever host a shop redirects to.
        self.trust_env = False
        # Only the trust store is still read from it, as requests would: an
        # operator behind TLS inspection must be able to name the CA bundle.
        self.verify = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
        if proxy:
            self.proxies = {"http": proxy, "https": proxy}
        # Calls through a proxy connect to it with requests' own proxy manager:
        # the proxy, not the hub, reaches the shop.
        for prefix in ("http://", "https://"):
            self.mount(prefix, _CheckedAdapter(allow_private_addresses=allow_private_addresses))

    def send(self, request: PreparedRequest, **kwargs: Any) -> requests.Response:
        # A None timeout (requests' default) means ours, never "wait forever".
        timeout = kwargs.get("timeout")
        kwargs["timeout"] = _checked_timeout(self.default_timeout if timeout is None else timeout)
        follow = kwargs.pop("allow_redirects", True)
        response = self._send_checked(request, **kwargs)
        if not follow:
            return response

        origin = _origin(urlsplit(request.url or ""))
        history: list[requests.Response] = []
        while (next_request := response.next) is not None:
            if len(history) >= MAX_REDIRECTS:
                raise requests.TooManyRedirects(f"Exceeded {MAX_REDIRECTS} redirects.", response=response)
            self._check_redirect(response, next_request.url or "", origin)
            history.append(response)
            # requests already set Proxy-Authorization on next_request; only the
            # proxies for the new URL are missing.
            proxies = resolve_proxies(next_request, kwargs.get("proxies"), self.trust_env)
            hop_kwargs = {**kwargs, "proxies": proxies}
            response = self._send_checked(next_request, **hop_kwargs)
        response.history = history
        return response

    def _send_checked(self, request: PreparedRequest, **kwargs: Any) -> requests.Response:
        try:
            return super().send(request, allow_redirects=False, **kwargs)
        except _Refused as exc:
            raise AddressRefused(request.url or "", exc.reason) from None

    def get_redirect_target(self, resp: requests.Response) -> str | None:
        # requests would raise a bare ValueError on a Location it cannot parse.
        target = super().get_redirect_target(resp)
        if target is not None:
            try:
                urlsplit(target)
            except ValueError:
                raise RedirectRefused(target, "it is not a valid URL", response=resp) from None
        return target

    def _check_redirect(
        self, response: requests.Response, target: str, origin: tuple[str, str, int] | None
    ) -> None:
        parts = urlsplit(target)
        scheme = parts.scheme.lower()
        if scheme not in ("http", "https"):
            raise RedirectRefused(target, "it is not an http(s) URL", response=response)
        if urlsplit(response.url).scheme.lower() == "https" and scheme == "http":
            raise RedirectRefused(target, "it goes from https down to http", response=response)
        try:
            target_origin = _origin(parts)
        except ValueError:
            target_origin = None
        if target_origin is None:
            raise RedirectRefused(target, "it has no valid host and port", response=response)
        if self.allow_private_addresses or target_origin == origin:
            return
        # Only what is known without asking the DNS: a name is checked where the
        # connection is made, on the one answer the connection uses.
        address = _literal_address(target_origin[1])
        if address is not None and not _is_public(address):
            host = target_origin[1]
            raise RedirectRefused(target, f"{host} is a private or local address", response=response)


class _CheckedAdapter(HTTPAdapter):
    """An adapter whose connections go only to the addresses they checked."""

    def __init__(self, *, allow_private_addresses: bool) -> None:
        # Read by init_poolmanager, which HTTPAdapter.__init__ calls.
        self.allow_private_addresses = allow_private_addresses
        super().__init__()

    def init_poolmanager(
        self, connections: int, maxsize: int, block: bool = DEFAULT_POOLBLOCK, **pool_kwargs: Any
    ) -> None:
        self._pool_connections = connections
        self._pool_maxsize = maxsize
        self._pool_block = block
        self.poolmanager = _CheckedPoolManager(
            num_pools=connections,
            maxsize=maxsize,
            block=block,
            allow_private_addresses=self.allow_private_addresses,
            **pool_kwargs,
        )


class _CheckedPoolManager(PoolManager):
    """A pool manager whose pools make checked connections."""

    def __init__(self, *, allow_private_addresses: bool, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.allow_private_addresses = allow_private_addresses
        self.pool_classes_by_scheme = {"http": _CheckedHTTPPool, "https": _CheckedHTTPSPool}

    def _new_pool(
        self, scheme: str, host: str, port: int, request_context: dict[str, Any] | None = None
    ) -> HTTPConnectionPool:
        # Given to each connection the pool makes (not part of the pool's key, which
        # would refuse a name it does not know).
        context = dict(self.connection_pool_kw if request_context is None else request_context)
        context["allow_private_addresses"] = self.allow_private_addresses
        return super()._new_pool(scheme, host, port, context)


def _checked_socket(connection: HTTPConnection, allow_private_addresses: bool) -> socket.socket:
    """A socket connected to an address of ``connection``'s host, resolved once and
    checked to be public unless ``allow_private_addresses``.

    The errors are urllib3's own, as its ``_new_conn`` raises them, so requests
    reports a failure to resolve, a timeout and a refusal as it always does.
    """
    host = connection._dns_host.strip("[]")
    try:
        found = socket.getaddrinfo(host, connection.port, allowed_gai_family(), socket.SOCK_STREAM)
        addresses = list(dict.fromkeys(str(sockaddr[0]) for *_, sockaddr in found))
        if not allow_private_addresses and not all(_is_public(address) for address in addresses):
            literal = _literal_address(host) is not None
            raise _Refused(f"{host} {'is' if literal else 'resolves to'} a private or local address")
        return _connect_first(addresses, connection)
    except socket.gaierror as exc:
        raise NameResolutionError(connection.host, connection, exc) from exc
    except TimeoutError as exc:
        raise ConnectTimeoutError(
            connection, f"Connection to {connection.host} timed out. (connect timeout={connection.timeout})"
        ) from exc
    except OSError as exc:
        raise NewConnectionError(connection, f"Failed to establish a new connection: {exc}") from exc


def _connect_first(addresses: list[str], connection: HTTPConnection) -> socket.socket:
    """Connect to the first of ``addresses`` that answers, as urllib3 would to the
    addresses of a name; raise the last failure."""
    failure: OSError | None = None
    for address in addresses:
        try:
            sock = create_connection(
                (address, connection.port),
                connection.timeout,
                source_address=connection.source_address,
                socket_options=connection.socket_options,
            )
        except OSError as exc:
            failure = exc
            continue
        sys.audit("http.client.connect", connection, connection.host, connection.port)
        return sock
    raise failure or OSError("getaddrinfo returned no address")


class _CheckedHTTPConnection(HTTPConnection):
    def __init__(self, *args: Any, allow_private_addresses: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.allow_private_addresses = allow_private_addresses

    def _new_conn(self) -> socket.socket:
        return _checked_socket(self, self.allow_private_addresses)


class _CheckedHTTPSConnection(HTTPSConnection):
    # Only the socket changes: TLS is set up on it by HTTPSConnection.connect with
    # self.host, the name, as the server name and for the certificate check.
    def __init__(self, *args: Any, allow_private_addresses: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.allow_private_addresses = allow_private_addresses

    def _new_conn(self) -> socket.socket:
        return _checked_socket(self, self.allow_private_addresses)


class _CheckedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _CheckedHTTPConnection


class _CheckedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _CheckedHTTPSConnection


def shop_session(
    *,
    timeout: Timeout = DEFAULT_TIMEOUT,
    allow_private_addresses: bool = False,
    allow_private_redirects: bool = False,
    proxy: str | None = None,
    user_agent: str = "bluepaid-plugins",
) -> ShopSession:
    """Return a session for calling one shop's API.

    ``timeout`` is the default (connect, read) timeout in seconds for every
    call; a call may pass its own, never none. ``allow_private_addresses``
    lets calls and redirects reach private and loopback addresses, for tests,
    the offline demo and a shop on the merchant's own network only;
    ``allow_private_redirects`` is its name before every connection was
    checked, kept for callers of contract v1. ``proxy`` (an ``http://`` or
    ``https://`` URL) is the proxy every call goes through; without it, no
    proxy is used, whatever the environment says.
    """
    return ShopSession(
        timeout=timeout,
        allow_private_addresses=allow_private_addresses or allow_private_redirects,
        proxy=proxy,
        user_agent=user_agent,
    )


def call_shop(
    session: requests.Session,
    method: str,
    url: str,
    *,
    label: str,
    what: str,
    explain: Explain | None = None,
    refusal: Explain | None = None,
    **kwargs: Any,
) -> requests.Response:
    """Make one call to a shop and return its answer, or raise one of our errors.

    ``label`` names the shop software ("WooCommerce"), ``what`` the thing asked
    for ("order 1042"); both go into error messages. ``kwargs`` are those of
    :meth:`requests.Session.request`. Timeouts, connection failures and
    redirect loops raise :class:`ShopUnavailable`; a refused redirect, an
    unusable URL, a host on a private address or any other error while
    sending raises :class:`ShopRefused`;
    statuses are mapped by :func:`raise_for_shop` (``explain`` reads the shop's
    own error message out of an answer, ``refusal`` a permanent refusal behind
    a status that says "try later": see there). Arguments :meth:`~requests.Session.request`
    does not take, and a timeout that is not a positive, finite duration, raise
    TypeError and ValueError before anything is sent.
    """
    if not isinstance(session, ShopSession):
        raise TypeError("call_shop needs a session made by shop_session()")
    # A caller's mistake stays a TypeError or ValueError, not the shop's fault.
    inspect.signature(session.request).bind(method, url, **kwargs)
    if kwargs.get("timeout") is not None:
        _checked_timeout(kwargs["timeout"])
    endpoint = f"{method.upper()} {safe_url(url)}"
    try:
        response = session.request(method, url, **kwargs)
    except RedirectRefused as exc:
        raise ShopRefused(
            f"{label} redirected {what} ({endpoint}) to {exc.target}, which is not followed "
            f"because {exc.reason}"
        ) from None
    except AddressRefused as exc:
        hop = "" if exc.target == safe_url(url) else f" (redirected to {exc.target})"
        raise ShopRefused(
            f"{label} was not called for {what} ({endpoint}){hop}: {exc.reason}, which shop calls "
            "may not reach; check the shop URL in its settings"
        ) from None
    except requests.TooManyRedirects:
        raise ShopUnavailable(
            f"{label} redirected {what} more than {MAX_REDIRECTS} times ({endpoint}); will retry"
        ) from None
    except requests.Timeout:
        raise ShopUnavailable(f"{label} did not answer {what} in time ({endpoint}); will retry") from None
    except requests.ConnectionError as exc:
        raise ShopUnavailable(
            f"{label} could not be reached for {what} ({endpoint}): {_os_reason(exc)}; will retry"
        ) from None
    except (requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError):
        raise ShopUnavailable(f"{label} broke off its answer to {what} ({endpoint}); will retry") from None
    except Exception as exc:
        # requests' own (InvalidURL, MissingSchema) and what escapes it, such as
        # urllib3's LocationParseError for a host like 'shop..example': a bad URL
        # will not mend itself. Only the type is kept: the text may repeat the query.
        raise ShopRefused(
            f"{label} cannot be called for {what} ({endpoint}): {type(exc).__name__}; "
            "check the shop URL in its settings"
        ) from None
    raise_for_shop(response, label, what, explain, refusal)
    return response


def raise_for_shop(
    response: requests.Response,
    label: str,
    what: str,
    explain: Explain | None = None,
    refusal: Explain | None = None,
) -> None:
    """Raise the error a shop's HTTP status means; return for 1xx, 2xx and 3xx.

    429 and 5xx raise :class:`ShopUnavailable` (retryable, with the shop's
    Retry-After in the message), 401 and 403 :class:`ShopAuthFailed`, 404 and
    410 :class:`OrderNotFound`, any other 4xx :class:`ShopRefused`; each carries
    the ``status``. Every message quotes an excerpt of the shop's own
    explanation when it gave one: "Consumer secret is invalid." tells the
    merchant more than the status does. ``explain(response)`` finds it in the
    shop's own format (PrestaShop's ``<error><message>`` in XML, say); without
    it, or when it returns "", the ``message`` of a JSON body, else the start of
    the text. ``refusal(response)``, asked of a 429 or 5xx only, returns the
    reason when the shop meant a permanent refusal all the same (WooCommerce
    answers 500 to a refund it will never accept): then ShopRefused, since
    trying again would be refused again; "" leaves it retryable.
    """
    status = response.status_code
    if status < 400:
        return
    request = response.request
    endpoint = f"{(request.method or '').upper()} {safe_url(request.url or response.url)}"
    excerpt = _one_line((explain(response) if explain else "") or _explanation(response))
    said = f', saying "{excerpt}"' if excerpt else ""
    if status == 429 or status >= 500:
        refused = _one_line(refusal(response)) if refusal else ""
        if refused:
            raise ShopRefused(f"{label} refused {what} with {status} ({endpoint}): {refused}", status=status)
        wait = _retry_after(response)
        advice = "will retry" if wait is None else f"will retry (Retry-After: {wait:.0f} s)"
        raise ShopUnavailable(
            f"{label} answered {status} for {what} ({endpoint}){said}; {advice}",
            retry_after=wait,
            status=status,
        )
    if status in (401, 403):
        raise ShopAuthFailed(
            f"{label} refused the credentials for {what} with {status} ({endpoint}){said}; "
            "check the API keys and their permissions in the shop settings",
            status=status,
        )
    if status in (404, 410):
        raise OrderNotFound(
            f"{label} answered {status} for {what} ({endpoint}): not found{said}; "
            "check the reference and the shop URL",
            status=status,
        )
    raise ShopRefused(
        f"{label} refused {what} with {status} ({endpoint})" + (f": {excerpt}" if excerpt else ""),
        status=status,
    )


def safe_url(url: str) -> str:
    """Return ``url`` fit for a message or a log: no credentials, query or fragment."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
        port = parts.port
    except ValueError:
        return "<invalid URL>"
    if parts.scheme.lower() not in ("http", "https") or not host:
        return "<invalid URL>"
    netloc = f"[{host}]" if ":" in host else host
    if port is not None:
        netloc = f"{netloc}:{port}"
    return urlunsplit((parts.scheme.lower(), netloc, parts.path, "", ""))


def _checked_timeout(timeout: object) -> Timeout:
    values = timeout if isinstance(timeout, tuple) else (timeout, timeout)
    if len(values) == 2 and all(_is_duration(value) for value in values):
        return float(values[0]), float(values[1])
    raise ValueError(
        f"a shop call needs a positive, finite (connect, read) timeout in seconds, not {timeout!r}"
    )


def _is_duration(value: object) -> bool:
    return (
        isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value) and value > 0
    )


def _origin(parts: SplitResult) -> tuple[str, str, int] | None:
    """Scheme, host and effective port; raises ValueError on a bad port."""
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        return None
    return scheme, parts.hostname, parts.port or (443 if scheme == "https" else 80)


def _literal_address(host: str) -> str | None:
    """The address ``host`` is written as, in the forms a connection accepts
    (``127.1``, ``0177.0.0.1``, ``2130706433``, ``[::1]``), or ``localhost``'s
    (RFC 6761: it is always loopback); None for any other name."""
    if host.lower().rstrip(".") == "localhost" or host.lower().rstrip(".").endswith(".localhost"):
        return "127.0.0.1"
    try:
        return str(ipaddress.ip_address(host.strip("[]")))
    except ValueError:
        pass
    try:
        return socket.inet_ntoa(socket.inet_aton(host))
    except OSError:
        return None


def _is_public(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour
        if embedded is None and ip in _NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None and not _is_public(str(embedded)):
            return False
    return ip.is_global and not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
    )


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After", "").strip()
    if value.isascii() and value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _explanation(response: requests.Response) -> str:
    """The ``message`` of a JSON body, else the body's text."""
    try:
        data = response.json()
    except ValueError:
        data = None
    has_message = isinstance(data, dict) and data.get("message")
    return str(data["message"]) if has_message else response.text


def _one_line(text: str) -> str:
    """``text`` on one line and short enough for a message."""
    printable = "".join(c if c.isprintable() else " " for c in text[: EXCERPT_LENGTH * 5])
    line = " ".join(printable.split())
    return line if len(line) <= EXCERPT_LENGTH else line[: EXCERPT_LENGTH - 1] + "…"


def _os_reason(exc: BaseException) -> str:
    """The operating system's word for a failed connection ("Connection refused").

    The exceptions requests and urllib3 raise around it repeat the full URL,
    query string included, so only this innermost reason is kept.
    """
    seen: set[int] = set()
    pending: list[BaseException] = [exc]
    while pending:
        current = pending.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, OSError) and isinstance(current.strerror, str):
            return " ".join(current.strerror.split())[:EXCERPT_LENGTH]
        linked = (*current.args, getattr(current, "reason", None))
        linked += (current.__cause__, current.__context__)
        pending.extend(item for item in linked if isinstance(item, BaseException))
    return "connection failed"
