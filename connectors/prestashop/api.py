"""One PrestaShop shop's webservice (``/api/``), called through the hub's safe session.

The webservice key travels as the HTTP Basic user with an empty password, never
in the URL (PrestaShop also takes ``ws_key=`` in the query, which would end up in
access logs). Errors are those of :func:`bluepaid_plugins.http.call_shop`,
quoting PrestaShop's own ``<error><message>``.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping
from typing import Any

import requests

from bluepaid_plugins.errors import ShopRefused
from bluepaid_plugins.http import ShopSession, call_shop
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
        """One call; our errors, quoting PrestaShop's own ``<error><message>`` (not its XML prologue)."""
        return call_shop(
            self.http,
            method,
            self.root + path,
            label=LABEL,
            what=what,
            explain=_said,
            auth=(self._key.reveal(), ""),
            timeout=self.timeout,
            verify=self.verify_tls,
            **kwargs,
        )


def _said(response: requests.Response) -> str:
    return error_message(response.content)
