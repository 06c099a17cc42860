"""gunicorn settings for the hub: ``gunicorn -c python:hub.gunicorn_config 'hub.wsgi:app'``.

``hub.wsgi`` redacts every log record from the moment a worker imports it. This
configuration also covers what comes before and around it: gunicorn's master
process (which never imports the app unless ``--preload``), a worker whose app
fails to import, and each access-log atom on its own, so a custom
``--access-logformat`` (``%(q)s``, ``%({referer}i)s``...) cannot print a secret
either. Command-line options still override the settings here.
``bluepaid serve`` (:mod:`hub.serving`) runs gunicorn with :class:`RedactingLogger` too.
"""

from __future__ import annotations

from typing import Any

from gunicorn.glogging import Logger  # type: ignore[import-untyped]

from hub import redaction

#: Request and response headers whose whole value is a credential.
_CREDENTIAL_HEADERS = frozenset({"{authorization}i", "{proxy-authorization}i", "{cookie}i", "{set-cookie}o"})
#: The atoms that are a bare query string.
_QUERY_STRINGS = frozenset({"q", "{query_string}e"})


class RedactingLogger(Logger):  # type: ignore[misc]
    """gunicorn's logger, with the hub's log records and access-log atoms redacted."""

    def __init__(self, cfg: Any) -> None:
        redaction.install()
        super().__init__(cfg)

    def atoms(self, resp: Any, req: Any, environ: Any, request_time: Any) -> dict[str, Any]:
        found: dict[str, Any] = super().atoms(resp, req, environ, request_time)
        return {name: _redacted(name, value) for name, value in found.items()}


def _redacted(name: str, value: Any) -> Any:
    if not isinstance(value, str):
        return value
    if name in _CREDENTIAL_HEADERS:
        return redaction.MASK
    if name in _QUERY_STRINGS:
        # The bare query string, without the "?" the patterns start from.
        return redaction.redact(f"?{value}")[1:]
    return redaction.redact(value)


logger_class = RedactingLogger
