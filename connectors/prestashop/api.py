"""One PrestaShop shop's webservice (``/api/``), called through the hub's safe session.

The webservice key travels as the HTTP Basic user with an empty password, never
in the URL (PrestaShop also takes ``ws_key=`` in the query, which would end up in
access logs). Errors are those of :func:`bluepaid_plugins.http.call_shop`, with
PrestaShop's own ``<error><message>`` in place of the raw XML excerpt the generic
client would quote.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping
from typing import Any

import requests

from bluepaid_plugins.errors import (
    ConnectorError,
    OrderNotFound,
    ShopAuthFailed,
    ShopRefused,
    ShopUnavailable,
)
from bluepaid_plugins.http import ShopSession, call_shop, safe_url
from bluepaid_plugins.settings import Secret
from connectors.prestashop.xml import XmlRefused, error_message, parse

LABEL = "PrestaShop"
#: The connect timeout; the read timeout is the merchant's ``timeout`` setting.
CONNECT_TIMEOUT = 5.0


class Webservice:
    """Calls to ``<base_url>/api/<path>`` with the key, the timeout and the TLS choice of one shop."""

    def __init__(
        self, http: ShopSession, base_url: str, key: Secret, *, timeout: float, verify_tls: bool
    ) -> None:
        self.http = http
        self.root = base_url.rstrip("/") + "/api/"
        self._key = key
        self.timeout = (CONNECT_TIMEOUT, float(timeout))
        self.verify_tls = verify_tls

    def get(self, path: str, what: str, params: Mapping[str, str] | None = None) -> ET.Element:
        """GET ``path`` and return the root of its XML answer."""
        return self.request("GET", path, what, params=params)

    def send(
        self, method: str, path: str, what: str, body: bytes, params: Mapping[str, str] | None = None
    ) -> ET.Element:
        """POST or PUT the XML ``body`` to ``path``; return the root of the answer."""
        headers = {"Content-Type": "text/xml; charset=utf-8"}
        return self.request(method, path, what, params=params, data=body, headers=headers)

    def request(self, method: str, path: str, what: str, **kwargs: Any) -> ET.Element:
        response = self.call(method, path, what, **kwargs)
        try:
            return parse(response.content)
        except XmlRefused as exc:
            raise ShopRefused(f"{LABEL} answered {what} with something unreadable: {exc}") from None

    def call(self, method: str, path: str, what: str, **kwargs: Any) -> requests.Response:
        """One call; our errors, with the shop's own error message when it gave one."""
        answered: list[requests.Response] = []

        def keep(response: requests.Response, *args: Any, **unused: Any) -> None:
            answered.append(response)

        try:
            return call_shop(
                self.http,
                method,
                self.root + path,
                label=LABEL,
                what=what,
                auth=(self._key.reveal(), ""),
                timeout=self.timeout,
                verify=self.verify_tls,
                hooks={"response": keep},
                **kwargs,
            )
        except ConnectorError as exc:
            said = error_message(answered[-1].content) if answered else ""
            if not said or answered[-1].status_code < 400:
                raise
            raise _restated(exc, answered[-1], what, said) from None


def _restated(exc: ConnectorError, response: requests.Response, what: str, said: str) -> ConnectorError:
    """``exc`` again, of the same class, quoting PrestaShop's message instead of its XML.

    The generic client quotes the start of the body, which for PrestaShop is the
    XML prologue; the message inside is what tells the merchant what to fix.
    """
    status = response.status_code
    endpoint = f"{(response.request.method or '').upper()} {safe_url(response.request.url or '')}"
    head = f'{LABEL} answered {status} for {what} ({endpoint}), saying "{said[:300]}"'
    if isinstance(exc, ShopUnavailable):
        advice = (
            "will retry" if exc.retry_after is None else f"will retry (Retry-After: {exc.retry_after:.0f} s)"
        )
        return ShopUnavailable(f"{head}; {advice}", retry_after=exc.retry_after)
    if isinstance(exc, ShopAuthFailed):
        return ShopAuthFailed(
            f"{head}; check the webservice key and its permissions in Advanced Parameters > Webservice"
        )
    if isinstance(exc, OrderNotFound):
        return OrderNotFound(f"{head}; check the reference and the shop URL")
    return ShopRefused(head)
