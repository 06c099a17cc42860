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
    signature over these, never over a re-serialised form.
    """

    method: str
    headers: Mapping[str, str]
    body: bytes
    remote_addr: str = ""

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


@dataclass(frozen=True)
class WebhookReply:
    """The answer the hub sends back to a shop's handshake."""

    status: int = 200
    body: str = ""
    content_type: str = "text/plain; charset=utf-8"
    headers: Mapping[str, str] = field(default_factory=dict)


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
