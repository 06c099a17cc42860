"""Signed, expiring tokens for links sent by mail (password resets, a buyer's
subscription cancel link).

Signed with the hub's secret key under a purpose of their own (``salt``), so a
token made for one purpose never opens another. The expiry is inside the signed
data and read against the hub's clock. Single use is the caller's: each token
names a state it must still find (a password hash's digest, a subscription
still running).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer

from hub.context import Hub


def sign(hub: Hub, salt: str, data: dict[str, Any], valid: timedelta) -> str:
    """A token for ``data``, valid for ``valid`` from now."""
    expires = (hub.clock() + valid).timestamp()
    return str(URLSafeSerializer(hub.config.secret_key, salt=salt).dumps({**data, "exp": expires}))


def verify(hub: Hub, salt: str, token: str) -> dict[str, Any] | None:
    """The data of a token signed for ``salt`` and not expired; None otherwise."""
    try:
        data = URLSafeSerializer(hub.config.secret_key, salt=salt).loads(token)
    except BadSignature:
        return None
    if not isinstance(data, dict) or float(data.get("exp", 0)) < hub.clock().timestamp():
        return None
    return data
