"""The Connector base class: how the hub talks to one kind of shop software.

A connector class declares its identity and a typed settings schema; the hub
builds one instance per shop with that shop's validated settings and a
:class:`ConnectorContext`. Every method here states when the hub calls it and
which errors mean "retry" (:class:`~bluepaid_plugins.errors.ShopUnavailable`)
or "give up" (:class:`~bluepaid_plugins.errors.ShopRefused` and subclasses).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, Protocol

import requests

from bluepaid_plugins.domain import Order, OrderStatus, PaymentEvent
from bluepaid_plugins.errors import Problem, ValidationError

SettingType = Literal["str", "int", "bool", "url"]


@dataclass(frozen=True)
class SettingField:
    """One setting of a connector. ``secret`` ones are never shown or logged."""

    name: str
    label: str
    type: SettingType = "str"
    required: bool = True
    secret: bool = False
    default: str | int | bool | None = None
    help: str = ""

    def coerce(self, raw: Any) -> str | int | bool | None:
        """Return ``raw`` as this field's type; raise ValidationError if it cannot be."""
        if isinstance(raw, str):
            # Blanks typed in a form or a --setting NAME=" " are no value, not an empty one.
            raw = raw.strip()
        if raw is None or raw == "":
            if self.required and self.default is None:
                raise ValidationError(Problem(self.name, "is required"))
            return self.default
        if self.type == "bool":
            if isinstance(raw, bool):
                return raw
            text = str(raw).strip().lower()
            if text in {"1", "true", "yes", "on"}:
                return True
            if text in {"0", "false", "no", "off"}:
                return False
            raise ValidationError(Problem(self.name, f"expected yes or no, got {raw!r}"))
        if self.type == "int":
            try:
                return int(str(raw))
            except ValueError as exc:
                raise ValidationError(Problem(self.name, f"expected a number, got {raw!r}")) from exc
        text = str(raw).strip()
        if self.type == "url" and not text.startswith(("https://", "http://")):
            raise ValidationError(Problem(self.name, "expected an http:// or https:// URL"))
        return text


class OrderStore(Protocol):
    """Orders kept by the hub itself, for connectors that have no shop of their own
    (payment links, the built-in cart and form)."""

    def get(self, ref: str) -> Order | None:
        """The stored order with this ref, or None."""

    def set_status(self, ref: str, status: OrderStatus, note: str) -> None:
        """Record a new status for the order, with a note for its history."""


@dataclass(frozen=True)
class ConnectorContext:
    """What the hub lends a connector instance.

    ``http`` is a session whose calls time out and never follow a redirect to a
    private address (see :mod:`bluepaid_plugins.http`); use it for every call to
    the shop. ``orders`` is the hub's own order store for this shop.
    """

    shop: str
    http: requests.Session
    orders: OrderStore


class Connector:
    """Base class of every connector. Subclass it and register the subclass.

    Class attributes: ``id`` (unique, lower case, stored in the database: never
    change it), ``label`` (shown to merchants), ``version``, and
    ``settings_schema`` (a tuple of :class:`SettingField`).
    """

    id: ClassVar[str]
    label: ClassVar[str]
    version: ClassVar[str] = "0"
    settings_schema: ClassVar[tuple[SettingField, ...]] = ()

    def __init__(self, settings: Mapping[str, Any], context: ConnectorContext) -> None:
        self.settings = dict(settings)
        self.context = context

    @classmethod
    def validate_settings(cls, raw: Mapping[str, Any]) -> dict[str, Any]:
        """Check and coerce raw settings; raise ValidationError listing every problem.

        Unknown names are refused too, so a typo never passes silently.
        """
        problems: list[Problem] = []
        known = {f.name for f in cls.settings_schema}
        problems += [Problem(name, "unknown setting") for name in raw if name not in known]
        clean: dict[str, Any] = {}
        for spec in cls.settings_schema:
            try:
                clean[spec.name] = spec.coerce(raw.get(spec.name))
            except ValidationError as exc:
                problems += exc.problems
        if problems:
            raise ValidationError(problems, f"settings of connector {cls.id}")
        return clean

    @classmethod
    def public_settings(cls, settings: Mapping[str, Any]) -> dict[str, Any]:
        """``settings`` with every secret value masked, for display and logs."""
        secret = {f.name for f in cls.settings_schema if f.secret}
        return {k: ("********" if k in secret and v else v) for k, v in settings.items()}

    def fetch_order(self, ref: str) -> Order:
        """Return the shop's order ``ref``, with its total as the shop computes it.

        Called by the hub when a buyer starts a payment, while the buyer waits:
        keep it to one or two quick calls. Raise OrderNotFound when the shop has
        no such order, ShopUnavailable when it cannot answer now.
        """
        raise NotImplementedError

    def apply_event(self, order_ref: str, event: PaymentEvent) -> None:
        """Bring the shop's order in line with ``event`` (mark paid, refunded...).

        Called from the outbox worker, never while a buyer or the platform
        waits, and retried until it succeeds: it must be idempotent (applying
        the same event twice leaves the order as once). Put ``event.note``
        (it carries ``id_trans``) in the order's history. Raise ShopUnavailable
        to be retried with backoff, ShopRefused to stop and flag the task.
        """
        raise NotImplementedError

    def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> bool:
        """Return True if an incoming webhook from the shop is authentic.

        Optional: connectors whose shop sends webhooks override it; the default
        refuses every webhook.
        """
        return False
