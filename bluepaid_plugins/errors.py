"""The one exception hierarchy of bluepaid-plugins.

Every error a person can meet derives from :class:`BluepaidError` and carries a
message they can act on. The CLI prints it on one line, a page shows it, the
JSON API answers ``{"error": code, "reason": text}`` with :attr:`BluepaidError.code`.

Connector errors say whether trying again can help: :class:`ShopUnavailable` is
retryable (timeouts, 5xx, 429); :class:`ShopRefused` and its subclasses are not
(the order is gone, credentials are wrong, the shop refused the transition).
"""

from __future__ import annotations

from dataclasses import dataclass


class BluepaidError(Exception):
    """Root of every error this project raises on purpose."""

    code = "error"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one named input (a protocol variable, a setting...)."""

    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


class ValidationError(BluepaidError):
    """Input that breaks a rule; ``problems`` names each field at fault."""

    code = "invalid"

    def __init__(self, problems: list[Problem] | Problem, summary: str = "") -> None:
        self.problems = [problems] if isinstance(problems, Problem) else list(problems)
        text = "; ".join(str(p) for p in self.problems)
        super().__init__(": ".join(part for part in (summary, text) if part))


class ConfirmationError(ValidationError):
    """A confirmation POST that cannot be read as the protocol says."""

    code = "bad_confirmation"


class ConfigurationError(BluepaidError):
    """Settings (environment, shop, connector) that cannot work."""

    code = "configuration"


class PluginError(BluepaidError):
    """A plugin that could not be loaded or registered something invalid."""

    code = "plugin"


class PluginBug(PluginError):
    """A plugin's code raised an exception the contract does not allow (a bug).

    The hub raises it in place of the original, whose traceback it keeps in
    ``traceback`` for the merchant and the plugin's author; it is never
    retried, since the same code would fail the same way.
    """

    code = "plugin_bug"

    def __init__(self, message: str, traceback: str = "") -> None:
        super().__init__(message)
        self.traceback = traceback


class NotFound(BluepaidError):
    """A shop, payment, order or task that does not exist."""

    code = "not_found"


class RateLimited(BluepaidError):
    """Too many requests of one client in a short time (orders from one address); try later."""

    code = "rate_limited"


class PaymentVetoed(BluepaidError):
    """A plugin refused to let a payment request leave; the message says why."""

    code = "vetoed"


class ConnectorError(BluepaidError):
    """A shop's software failed to answer as the connector needs.

    ``status`` is the HTTP status the shop answered, when the error comes from
    one (None for a timeout, a refused address, a connector's own check): a
    connector tells "webservice disabled" (503) from "shop down" by it, never
    by the message's words.
    """

    code = "connector"
    retryable = False

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class ShopUnavailable(ConnectorError):
    """Temporary: timeout, connection error, 5xx or 429. The hub retries later.

    ``retry_after`` (seconds) is the shop's own ``Retry-After``, when it gave
    one: the hub does not try again sooner.
    """

    code = "shop_unavailable"
    retryable = True

    def __init__(self, message: str, retry_after: float | None = None, *, status: int | None = None) -> None:
        super().__init__(message, status=status)
        self.retry_after = retry_after


class ShopRefused(ConnectorError):
    """Permanent: the shop refused the call (422 refused transition, other 4xx)."""

    code = "shop_refused"


class OrderNotFound(ShopRefused):
    """Permanent: the shop has no such order (404)."""

    code = "order_not_found"


class ShopAuthFailed(ShopRefused):
    """Permanent until the merchant fixes the credentials (401, 403)."""

    code = "shop_auth_failed"
