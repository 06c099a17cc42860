"""What a shop's webhook brings, and what a connector makes of it.

The hub stores every request to ``/webhooks/<shop>/<token>`` before anything
else, then asks the shop's connector, in this order:

1. :meth:`~bluepaid_plugins.connector.Connector.handshake`: is this the
   shop's "are you there?" call when a webhook is created? If so the hub sends
   back the :class:`WebhookReply` the connector built, and stops there;
2. :meth:`~bluepaid_plugins.connector.Connector.verify_webhook`: is it
   authentic (a signature over the raw body)? If not it is refused and recorded;
3. :meth:`~bluepaid_plugins.connector.Connector.read_webhook`: what changed,
   as a list of :class:`ShopChange`, which the hub applies.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from urllib.parse import parse_qsl


@dataclass(frozen=True)
class WebhookRequest:
    """One request a shop sent to the hub's webhook URL, as received.

    ``headers`` keys are lower case. ``body`` is the raw bytes: verify a
    signature over these, never over a re-serialised form. ``query`` is the
    raw query string of the URL (without ``?``), as received, for a shop that
    signs it. ``url`` is the hub's public webhook URL of the shop the request
    came to, without the query (it carries the URL's secret token: never log
    it), for an answer that must name where the shop calls next. (``query``
    and ``url``: contract 1.3.)
    """

    method: str
    headers: Mapping[str, str]
    body: bytes
    remote_addr: str = ""
    query: str = ""
    url: str = ""

    def header(self, name: str) -> str:
        """The value of header ``name`` (any case), or empty."""
        return self.headers.get(name.lower(), "")

    def form(self) -> dict[str, str]:
        """The body read as a form (``a=1&b=2``); empty when it is not one."""
        if "application/x-www-form-urlencoded" not in self.header("content-type"):
            return {}
        try:
            return dict(parse_qsl(self.body.decode("utf-8"), keep_blank_values=True))
        except (UnicodeDecodeError, ValueError):
            return {}

    def query_params(self) -> dict[str, str]:
        """The query string read as ``a=1&b=2`` (values decoded; of a repeated name, the last)."""
        try:
            return dict(parse_qsl(self.query, keep_blank_values=True))
        except ValueError:
            return {}


@dataclass(frozen=True)
class WebhookReply:
    """The answer the hub sends back to a shop's handshake.

    ``settings``: connector settings the hub stores for the shop before it
    answers, as a merchant's change would be (the other settings are kept; an
    empty value removes an optional one; validated by the connector's
    ``validate_settings``, secret ones sealed). It lets a connector keep what a
    shop hands over itself, such as API credentials at an app's registration.
    When they do not validate, the hub answers 500 and changes nothing.
    (Contract 1.3.)
    """

    status: int = 200
    body: str = ""
    content_type: str = "text/plain; charset=utf-8"
    headers: Mapping[str, str] = field(default_factory=dict)
    settings: Mapping[str, str] = field(default_factory=dict)


class ShopChangeKind(StrEnum):
    """What a shop says happened to an order outside the hub.

    ``cancelled``, ``paid_elsewhere``, ``deleted`` and ``refunded`` close the
    order: its pay link stops working, and a payment confirmed later is flagged
    for a refund. ``refunded``: refunded in the shop's own admin, which moves no
    money at Bluepaid; a paid payment of the order not refunded there is flagged
    ``refunded_in_shop`` for the merchant to refund it at Bluepaid if the buyer
    is to be paid back. ``reopened`` makes it payable again (a merchant who
    reverted a cancel).
    """

    CANCELLED = "cancelled"
    PAID_ELSEWHERE = "paid_elsewhere"
    DELETED = "deleted"
    REFUNDED = "refunded"
    REOPENED = "reopened"


@dataclass(frozen=True)
class ShopChange:
    """One change to one order, read from a webhook by the connector."""

    kind: ShopChangeKind
    order_ref: str
    note: str = ""
