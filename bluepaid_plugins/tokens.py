"""Access tokens a connector obtains from its shop, kept between calls and renewed.

Some shop APIs take a short-lived bearer token instead of a key: Shopware's
Admin API (OAuth client credentials, 10 minutes), Magento's admin token (4
hours). Asking for a new one before every call doubles the calls and can trip
the shop's rate limits, yet a connector instance lives for one unit of work
only. So the hub lends each connector a :class:`TokenCache`
(:attr:`ConnectorContext.tokens <bluepaid_plugins.ConnectorContext.tokens>`)
that outlives the instance, and :class:`BearerTokens` keeps the rules in one
place: a cached token is used until shortly before it expires, then renewed;
a token the shop refuses (401) is renewed once, never in a loop.

A token is a credential: it is never logged, shown or put in an error message.
A cache is per hub process; nothing is decided by it, so several processes
each holding their own token is fine.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol

import requests

from bluepaid_plugins.errors import ShopAuthFailed

#: How long before its expiry a token is renewed: a call started with it must
#: still reach the shop while it is valid.
RENEW_MARGIN = timedelta(seconds=60)


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class AccessToken:
    """A token and the moment it stops being valid."""

    value: str = field(repr=False)
    expires_at: datetime


class TokenCache(Protocol):
    """Tokens by key, shared by the connector instances of one hub process."""

    def now(self) -> datetime:
        """The current time, as the hub's clock tells it."""

    def get(self, key: str) -> AccessToken | None:
        """The token stored under ``key``, or None."""

    def put(self, key: str, token: AccessToken) -> None:
        """Store ``token`` under ``key``, replacing any other."""

    def forget(self, key: str, value: str) -> None:
        """Drop the token under ``key`` if it is still ``value`` (another
        instance may have renewed it meanwhile)."""


class MemoryTokenCache:
    """A :class:`TokenCache` in this process's memory, safe across threads.

    The hub holds one per process; a context built without a hub gets its own.
    """

    def __init__(self, clock: Callable[[], datetime] = _utcnow) -> None:
        self._clock = clock
        self._tokens: dict[str, AccessToken] = {}
        self._lock = threading.Lock()

    def now(self) -> datetime:
        return self._clock()

    def get(self, key: str) -> AccessToken | None:
        with self._lock:
            return self._tokens.get(key)

    def put(self, key: str, token: AccessToken) -> None:
        with self._lock:
            self._tokens[key] = token

    def forget(self, key: str, value: str) -> None:
        with self._lock:
            found = self._tokens.get(key)
            if found is not None and found.value == value:
                del self._tokens[key]


#: Obtains a new token from the shop: returns its value and its lifetime in
#: seconds, or raises the connector's errors (ShopAuthFailed for refused
#: credentials, ShopUnavailable...).
TokenSource = Callable[[], tuple[str, float]]


class BearerTokens:
    """The token of one set of credentials: cached, renewed before expiry and once on a 401.

    ``key`` must change when the credentials do (put the shop's slug, its URL
    and a digest of its credentials in it), so that new credentials never
    reuse a token of the old ones. ``obtain`` is called only when no valid
    token is cached.
    """

    def __init__(self, cache: TokenCache, key: str, obtain: TokenSource) -> None:
        self.cache = cache
        self.key = key
        self.obtain = obtain

    def current(self) -> str:
        """A token valid for at least :data:`RENEW_MARGIN`, from the cache or new."""
        found = self.cache.get(self.key)
        if found is not None and self.cache.now() + RENEW_MARGIN < found.expires_at:
            return found.value
        return self._renew()

    def refused(self, value: str) -> str:
        """The shop refused token ``value`` (401): drop it and return a new one.

        Call it at most once per call to the shop; a new token refused again
        means the credentials themselves are refused.
        """
        self.cache.forget(self.key, value)
        found = self.cache.get(self.key)
        if found is not None and found.value != value and self.cache.now() < found.expires_at:
            return found.value
        return self._renew()

    def call(self, send: Callable[[str], requests.Response]) -> requests.Response:
        """``send(token)`` with the current token; when the shop refuses it with a 401
        (:class:`~bluepaid_plugins.errors.ShopAuthFailed` of status 401), once more
        with a new one. Any other error, and a second 401, go to the caller."""
        token = self.current()
        try:
            return send(token)
        except ShopAuthFailed as exc:
            if exc.status != 401:
                raise
        return send(self.refused(token))

    def _renew(self) -> str:
        value, lifetime = self.obtain()
        self.cache.put(self.key, AccessToken(value, self.cache.now() + timedelta(seconds=lifetime)))
        return value
