"""What the console shows of a confirmation URL: enough to recognise it, never its secret.

Whoever knows a shop's confirmation URL can post confirmations to it, so the
URL is a secret. The sandbox keeps it whole and posts to it whole; its pages
show it masked (:func:`mask_url`), and mask it too where it may be quoted in
other text, such as an HTTP client's error or the shop's answer
(:func:`mask_in`). The secret parts of a URL (:func:`secret_parts`):

- the segment after ``/confirm/<shop>/`` (the hub's token, wherever the hub is
  mounted), whatever its length;
- the password of ``user:password@``;
- every query-string value longer than :data:`SHORT` characters (other shop
  modules carry their key there); shorter ones (``?step=3``) stay readable.

A secret part keeps its first :data:`SHOWN` characters followed by ``…`` when
it is longer than :data:`SHORT`, and is only ``…`` otherwise:
``/confirm/demo/abcd…``.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlsplit

#: How many leading characters of a secret part stay visible.
SHOWN = 4
#: A secret part of at most this many characters is masked whole: four of them would be half of it.
#: A query value this short is no secret (``?step=3``) and is shown as it is.
SHORT = 8

_TOKEN_PATH = re.compile(r"(/confirm/[^/?#]+/)([^/?#]+)")
_QUERY_VALUE = re.compile(r"(=)([^&#]*)")


def mask(part: str) -> str:
    """``"abcdefghijk"`` -> ``"abcd…"``; a part of at most :data:`SHORT` characters -> ``"…"``."""
    return f"{part[:SHOWN]}…" if len(part) > SHORT else "…"


def secret_parts(url: str) -> list[str]:
    """The secret parts of ``url`` as written in it (rules in the module docstring)."""
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        # An unreadable URL (an account may hold one) still has its path token found.
        parts, password = urlsplit(""), None
    found = [match.group(2) for match in _TOKEN_PATH.finditer(url)]
    if password:
        found.append(password)
    found += [value for _, value in parse_qsl(parts.query, keep_blank_values=True) if len(value) > SHORT]
    # parse_qsl decodes; the URL and the texts quoting it hold the raw values.
    found += [match.group(2) for match in _QUERY_VALUE.finditer(parts.query) if len(match.group(2)) > SHORT]
    return sorted(set(found), key=len, reverse=True)


def mask_url(url: str) -> str:
    """``url`` with each secret part masked; a URL without one is returned unchanged."""
    masked = _mask_token_paths(url)
    try:
        parts = urlsplit(masked)
        password = parts.password
    except ValueError:
        return masked
    if password:
        user = parts.username or ""
        masked = masked.replace(f"{user}:{password}@", f"{user}:{mask(password)}@", 1)
        parts = urlsplit(masked)
    if parts.query:
        masked = parts._replace(query=_QUERY_VALUE.sub(_mask_long, parts.query)).geturl()
    return masked


def mask_in(text: str, url: str) -> str:
    """``text`` with every secret part of ``url`` replaced by its masked form.

    Parts shorter than :data:`SHOWN` characters are left: they cannot be told
    from ordinary words. ``/confirm/<shop>/<token>`` paths are masked wherever
    they appear, whatever ``url`` is.
    """
    # Paths first: a token masked there is no longer found whole by the loop below,
    # and a masked part is never masked again.
    text = _mask_token_paths(text)
    for part in secret_parts(url):
        if len(part) >= SHOWN:
            text = text.replace(part, mask(part))
    return text


def _mask_token_paths(text: str) -> str:
    return _TOKEN_PATH.sub(lambda match: match.group(1) + mask(match.group(2)), text)


def _mask_long(match: re.Match[str]) -> str:
    value = match.group(2)
    return match.group(1) + (mask(value) if len(value) > SHORT else value)
