"""Keeping anonymous junk at the confirmation URL cheap.

Anyone can POST to ``/confirm/<shop>/<token>``. A request that may be a real
confirmation (its shop exists and its token is right, or it comes from an
address the shop allows, where a platform with a stale URL would send from) is
stored whole before it is checked, as the design promises. The rest can never
be a confirmation of ours: it is recorded as one short inbox row (no body, no
headers), at most :data:`RECORDED_PER_MINUTE` per source address and minute and
:data:`RECORDED_IN_ALL_PER_MINUTE` in all (a flood from many addresses); past
that it is answered without being written at all, and counted in the log,
so a flood neither grows the database nor takes the write lock from real
confirmations.

The limiter is per hub process, in memory: it decides only how much of the
junk is written down, never anything about a payment.
"""

from __future__ import annotations

import hmac
import logging
import threading
from dataclasses import dataclass, field

from sqlalchemy import select

from hub.apply import Result
from hub.context import Hub
from hub.inbox import ip_allowed
from hub.models import InboxMessage, Shop, Verdict
from hub.redaction import redact, token_digest

log = logging.getLogger(__name__)

RECORDED_PER_MINUTE = 30
RECORDED_IN_ALL_PER_MINUTE = 300
#: The most source addresses the limiter remembers; the oldest windows go first.
SOURCES = 10_000


@dataclass
class _Window:
    minute: int
    recorded: int = 0
    dropped: int = 0


@dataclass
class JunkLimiter:
    """How many junk requests of each source were written down this minute."""

    per_minute: int = RECORDED_PER_MINUTE
    in_all_per_minute: int = RECORDED_IN_ALL_PER_MINUTE
    _windows: dict[str, _Window] = field(default_factory=dict)
    _all: _Window = field(default_factory=lambda: _Window(-1))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def admit(self, source: str, minute: int) -> bool:
        """Whether one more junk request from ``source`` may be written down."""
        with self._lock:
            if self._all.minute != minute:
                if self._all.dropped:
                    log.warning("dropped %d junk confirmation requests in a minute", self._all.dropped)
                self._all = _Window(minute)
            window = self._windows.get(source)
            if window is None or window.minute != minute:
                if window is not None and window.dropped:
                    log.warning("dropped %d junk confirmation requests from %s", window.dropped, source)
                if len(self._windows) >= SOURCES:
                    self._windows.pop(next(iter(self._windows)))
                window = self._windows[source] = _Window(minute)
            if window.recorded < self.per_minute and self._all.recorded < self.in_all_per_minute:
                window.recorded += 1
                self._all.recorded += 1
                return True
            window.dropped += 1
            self._all.dropped += 1
            return False


def may_be_real(hub: Hub, shop_slug: str, token: str, remote_addr: str) -> bool:
    """Whether a request to this URL may be a real confirmation (one read, no write)."""
    if "\x00" in shop_slug:
        return False  # no shop is named so, and PostgreSQL refuses NUL in a query
    with hub.db.transaction() as session:
        shop = session.scalar(select(Shop).where(Shop.slug == shop_slug[:64]))
    if shop is None:
        return False
    return looks_real(shop.confirm_token, shop.allowed_ips, token, remote_addr)


def looks_real(confirm_token: str, allowed_ips: list[str], token: str, remote_addr: str) -> bool:
    """Whether a request to an existing shop's URL may be a real confirmation: the
    right token, or a source the shop allows. Pure."""
    if hmac.compare_digest(token_digest(token), token_digest(confirm_token)):
        return True
    # A platform still sending to an old URL: kept whole, to be replayed once fixed.
    return ip_allowed(remote_addr, allowed_ips)


def record(
    hub: Hub, limiter: JunkLimiter, *, method: str, path: str, remote_addr: str, shop_slug: str, size: int
) -> Result:
    """Write down one junk request as a short row (when the limiter admits it); the answer."""
    reason = "unknown shop or wrong token"
    now = hub.clock()
    if not limiter.admit(remote_addr, int(now.timestamp()) // 60):
        return Result(0, Verdict.REJECTED, f"{reason}: not recorded (too many from {remote_addr})", 404)
    with hub.db.transaction() as session:
        row = InboxMessage(
            received_at=now,
            method=method[:16],
            path=redact(path).replace("\x00", "\ufffd")[:512],
            headers={},
            body=b"",
            remote_addr=remote_addr[:64],
            shop_slug=shop_slug.replace("\x00", "\ufffd")[:64],
            url_token_digest="",
            processed_at=now,
            verdict=Verdict.REJECTED.value,
            reason=f"{reason}; {size} bytes not kept",
        )
        session.add(row)
        session.flush()
        return Result(row.id, Verdict.REJECTED, row.reason, 404)
