"""Keeping the hub's secrets out of what it writes: logs, error texts, stored requests.

The secrets and where they travel:

- a shop's confirmation and webhook tokens, in the paths ``/confirm/<shop>/<token>``
  and ``/webhooks/<shop>/<token>``;
- pay-link proofs and shops' API keys, in URL query strings (``?key=...``,
  ``?consumer_key=...``, or a bare ``?<token>``);
- passwords in URLs (``postgresql://user:password@host/db``, a proxy's URL) and
  ``Authorization`` header values;
- values the process knows are secret: ``BLUEPAID_SECRET_KEY``, the settings
  keys, the database password, and the connector secrets the hub opened
  (:meth:`Redactor.remember`), which may travel anywhere a connector puts them.

:func:`redact` masks all of these in a text. :func:`install` makes every log
record of the process redacted when it is made, whoever logs it (the hub,
Flask, werkzeug, gunicorn, SQLAlchemy, urllib3, a plugin) and whichever handler
writes it (a file, stderr, Python's last-resort handler): the one place every
record passes through is the record factory, so that is where this lives, not
in a filter that a handler added later would miss.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import quote

MASK = "***"
#: Known secret values shorter than this are not masked: a short value ("a",
#: "2026") would mask ordinary words all over the log.
MIN_KNOWN_LENGTH = 8

_DIGEST_LABEL = b"bluepaid inbox url token\x00"

#: Where a query value ends. The servers log the request line as the client sent
#: it (gunicorn's ``%(r)s`` is ``GET <raw target> HTTP/1.1``), and a target may hold
#: any printable character but a space (RFC 9112, section 3.2; gunicorn rejects the
#: rest): quotes, ``<``, ``>`` and ``#`` are the client's text, part of the value, and
#: only whitespace ends it (or ``&``, the next parameter). The closing quote of the
#: quoted request line follows `` HTTP/1.1``, never the query.
_VALUE = r"[^&\s]+"

#: What a value may end with and still not be part of it: the closing quote or
#: bracket of the text around a URL (a repr, a JSON string, gunicorn's
#: ``Invalid HTTP request line: 'GET /x?a=1'``) or a sentence's punctuation. Kept, so
#: the text keeps its shape; a generated secret (a token, an API key, base64) never
#: ends with one.
_CLOSERS = "\"'`)]}>,.;:!?"

#: A URL's query string: after a path (``/pay/A1?...``, ``https://host?...``) or
#: opening a word (gunicorn's ``%(q)s`` atom is given as ``?<query>``). A ``?`` in
#: prose ("sure?)", SQL's ``(?, ?)``) opens none: its parameters would be words.
_QUERY = re.compile(r"((?:(?<!\S)|/[^\s?/]*)\?)(\S+)")

#: A ``name=value`` parameter anywhere else: an API key may travel under any name
#: (key, ws_key, consumer_secret...), in any text that quotes part of a URL.
_PARAMETER = re.compile(rf"([?&][^=&\s#\"'<>]+=)({_VALUE})")


def _masked_value(value: str) -> str:
    """``value`` masked whole, but for the closing punctuation it ends with; an empty one kept."""
    kept = value.rstrip(_CLOSERS)
    return f"{MASK}{value[len(kept) :]}" if kept else value


def _masked_query(found: re.Match[str]) -> str:
    """The query ``found`` with every value masked, and every parameter without ``=``
    masked whole: ``/x?<token>`` carries a secret as surely as ``/x?key=<token>``."""
    query = found[2]
    kept = query.rstrip(_CLOSERS)
    parameters = []
    for parameter in kept.split("&"):
        name, equals, value = parameter.partition("=")
        if equals:
            parameters.append(f"{name}={_masked_value(value)}")
        else:
            parameters.append(_masked_value(parameter))
    return found[1] + "&".join(parameters) + query[len(kept) :]


def _masked_parameter(found: re.Match[str]) -> str:
    """The parameter ``found`` with its value masked."""
    return found[1] + _masked_value(found[2])


_PATTERNS: tuple[tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]], ...] = (
    # The token segment of the confirmation and webhook URLs.
    (re.compile(r"(/(?:confirm|webhooks)/[^/\s?#\"'<>]+/)[^/\s?#\"'<>]+"), rf"\1{MASK}"),
    (_QUERY, _masked_query),
    (_PARAMETER, _masked_parameter),
    # The password of a URL's user info.
    (re.compile(r"(://[^/\s:@\"'<>]*:)[^/\s@\"'<>]+@"), rf"\1{MASK}@"),
    # An Authorization or Proxy-Authorization header value, as a header line or in a mapping's repr.
    (
        re.compile(
            r"((?:proxy-)?authorization[\"']?\s*[:=]\s*[\"']?)(?:(?:basic|bearer|token|digest)\s+)?[^\s\"',}]+",
            re.IGNORECASE,
        ),
        rf"\1{MASK}",
    ),
)


def token_digest(token: str) -> str:
    """The hex SHA-256 digest of a URL token, as the inbox keeps it.

    A real token carries 144 random bits, so its digest cannot be turned back
    into it; the digest of what a request brought still tells, by comparison,
    whether it was the shop's token, an old one, or the same guess as before.
    Migration 0005 holds a frozen copy of this function.
    """
    return hashlib.sha256(_DIGEST_LABEL + token.encode("utf-8", "surrogatepass")).hexdigest()


class Redactor:
    """Masks secrets in text: the patterns of this module and every value it was told.

    Thread-safe: values are remembered under a lock, and a text is masked with
    the values known when it began.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        # Longest first: a value that contains another is masked whole.
        self._known: tuple[str, ...] = ()

    def remember(self, values: Iterable[str]) -> None:
        """Mask ``values`` from now on (as given and percent-encoded); short or empty ones are ignored."""
        fresh = set()
        for value in values:
            if len(value) >= MIN_KNOWN_LENGTH:
                fresh |= {value, quote(value, safe="")}
        with self._lock:
            if fresh <= set(self._known):
                return
            self._known = tuple(sorted(fresh | set(self._known), key=len, reverse=True))

    def __call__(self, text: str) -> str:
        """``text`` with every secret this redactor recognises replaced by :data:`MASK`."""
        # A substring search per value: cheaper than one regular expression of
        # them all, whose matching and compiling grow worse with their number.
        for value in self._known:
            if value in text:
                text = text.replace(value, MASK)
        for pattern, replacement in _PATTERNS:
            text = pattern.sub(replacement, text)
        return text


#: The redactor of this process. Logging is process-wide, so what the log records
#: are checked against is too.
REDACTOR = Redactor()


def redact(text: str) -> str:
    """``text`` with the secrets :data:`REDACTOR` recognises masked."""
    return REDACTOR(text)


def redact_record(record: logging.LogRecord) -> None:
    """Mask the secrets of ``record`` in place: its message with its arguments
    merged in, its exception text and its stack.

    The exception is formatted now (standard formatters write the cached text),
    so a handler's formatter never prints the exception's own, unmasked text.
    """
    try:
        message = record.getMessage()
    except Exception:
        # A format that does not fit its arguments must not break the caller of
        # log.info(), and its arguments cannot be told apart to be masked.
        message = f"{record.msg} [arguments not shown: they do not fit this format]"
    record.msg, record.args = redact(message), ()
    if record.exc_info and record.exc_info[0] is not None and not record.exc_text:
        record.exc_text = logging.Formatter().formatException(record.exc_info)
    if record.exc_text:
        record.exc_text = redact(record.exc_text)
    if record.stack_info:
        record.stack_info = redact(record.stack_info)


class _RedactingFactory:
    """A log record factory that redacts every record the factory before it made."""

    def __init__(self, previous: Callable[..., logging.LogRecord]) -> None:
        self.previous = previous

    def __call__(self, *args: Any, **kwargs: Any) -> logging.LogRecord:
        record = self.previous(*args, **kwargs)
        redact_record(record)
        return record


def install(secrets: Iterable[str] = ()) -> None:
    """Make every log record of this process redacted, and mask ``secrets`` too.

    Idempotent: called by everything the hub runs under (the app factory, the
    WSGI module, the CLI, the gunicorn logger class), whichever comes first.
    """
    REDACTOR.remember(secrets)
    current = logging.getLogRecordFactory()
    if not isinstance(current, _RedactingFactory):
        logging.setLogRecordFactory(_RedactingFactory(current))
