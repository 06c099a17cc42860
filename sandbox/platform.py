"""The sandbox's services: settings, store, clock and geography. One per sandbox.

The schema is created with ``create_all``: the sandbox keeps test data only,
and a merchant who upgrades simply starts a fresh sandbox database.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import cached_property

from geoip2fast import GeoIP2Fast
from sqlalchemy.orm import Session

from bluepaid_plugins.db import Database
from sandbox.config import SandboxConfig
from sandbox.models import Base, ClockState


def real_now() -> datetime:
    return datetime.now(UTC)


class Platform:
    """Everything a sandbox request needs.

    The clock is real time (or ``base_clock``) plus an offset kept in the
    database, so ``bluepaid sandbox tick`` in one process moves every process's
    clock.
    """

    def __init__(self, config: SandboxConfig, base_clock: Callable[[], datetime] = real_now) -> None:
        self.config = config
        self.db = Database(config.database_url)
        self.base_clock = base_clock
        Base.metadata.create_all(self.db.engine)

    def now(self, session: Session | None = None) -> datetime:
        """The sandbox time. Inside a transaction, pass its ``session``.

        On SQLite every transaction starts with ``BEGIN IMMEDIATE``: a second
        transaction opened while the caller's holds the write lock waits for
        the caller, which waits for it, until the busy timeout fails it.
        Reading the offset through the caller's session avoids that.
        """
        if session is not None:
            return self.base_clock() + timedelta(seconds=self._offset(session))
        with self.db.transaction() as own:
            offset = self._offset(own)
        return self.base_clock() + timedelta(seconds=offset)

    @staticmethod
    def _offset(session: Session) -> float:
        state = session.get(ClockState, 1)
        return state.offset_seconds if state else 0.0

    def advance(self, delta: timedelta) -> datetime:
        """Move the sandbox clock forward by ``delta``; return the new time."""
        if delta < timedelta(0):
            raise ValueError("the sandbox clock only moves forward")
        with self.db.transaction() as session:
            state = session.get(ClockState, 1, with_for_update=True)
            if state is None:
                state = ClockState(id=1, offset_seconds=0.0)
                session.add(state)
            state.offset_seconds += delta.total_seconds()
        return self.now()

    @cached_property
    def _geo(self) -> GeoIP2Fast:
        # Loaded on first use: the offline database takes a moment to read.
        return GeoIP2Fast()

    def country_of(self, address: str) -> str:
        """ISO alpha-2 country of ``address`` ("" when unknown, private or loopback).

        The configured ``country_map`` wins; then the offline database. No
        network lookup is ever made.
        """
        if address in self.config.country_map:
            return self.config.country_map[address]
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return ""
        if not ip.is_global:
            return ""
        code = str(self._geo.lookup(address).country_code)
        return code if len(code) == 2 and code.isalpha() else ""

    def dispose(self) -> None:
        self.db.dispose()
