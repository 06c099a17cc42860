"""The security headers every answer of the hub carries."""

from __future__ import annotations

from werkzeug.datastructures import Headers

#: How long a browser keeps to https for the hub's host after an https page: a year.
HSTS_MAX_AGE = 365 * 24 * 3600


def security_headers(https: bool) -> list[tuple[str, str]]:
    """The hub's security headers, for an answer over https or not."""
    headers = [
        ("X-Content-Type-Options", "nosniff"),
        ("X-Frame-Options", "DENY"),
        ("Referrer-Policy", "strict-origin-when-cross-origin"),
        ("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'"),
    ]
    if https:
        # Over https (behind a trusted proxy: as X-Forwarded-Proto says), the
        # browser is told to come back over https only, so nobody on the way can
        # turn a later visit into plain http.
        headers.insert(0, ("Strict-Transport-Security", f"max-age={HSTS_MAX_AGE}"))
    return headers


def add_security_headers(headers: Headers, https: bool) -> None:
    """Add the hub's security headers to a page's ``headers``, keeping any the
    view set itself. Called by Flask's ``after_request`` for every answer of the
    app (:class:`hub.confirm_door.ConfirmDoor` adds them to its own)."""
    for name, value in security_headers(https):
        headers.setdefault(name, value)
