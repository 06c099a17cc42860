"""The confirmation URL's answer, and the door that serves it without Flask's
request machinery.

A confirmation is the hub's one hot request: the platform POSTs it, nobody's
browser does, and it needs no session, no language, no CSRF token, no URL map
beyond its own two segments. :class:`ConfirmDoor` answers exactly these requests
before Flask builds a request context, with the same body limit, the same
headers, the same log lines and, when something fails, the same 500 page as the
route in :mod:`hub.routes`, which keeps every other method of the URL.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING

from flask import Flask
from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.wrappers import Request, Response

from hub import inbox, junk
from hub.headers import security_headers
from hub.hotpath import HotPath

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

log = logging.getLogger("hub.routes")  # the route's logger: the same lines, whichever door they come through

CONTENT_TYPE = "text/plain; charset=utf-8"


def answer(app: Flask, request: Request, shop_slug: str, url_token: str) -> tuple[str, int]:
    """Store, check and apply one request to ``/confirm/<shop>/<token>``; the
    text and status to answer. Called once per request, by the route or the
    door, with the app's hub extensions set; raises what the store raises."""
    # Read one byte more than we keep: a huge body must not fill the memory first,
    # and a body past the limit is refused whole, never read cut.
    body = request.stream.read(inbox.MAX_BODY + 1)
    remote = request.remote_addr or ""
    hot: HotPath = app.extensions["bluepaid.hotpath"]
    result = hot.confirm(
        method=request.method,
        path=request.path,
        headers=dict(request.headers),
        body=body,
        remote_addr=remote,
        shop_slug=shop_slug,
        url_token=url_token,
    )
    if result is None:
        result = junk.record(
            app.extensions["bluepaid.hub"],
            app.extensions["bluepaid.junk"],
            method=request.method,
            path=request.path,
            remote_addr=remote,
            shop_slug=shop_slug,
            size=len(body),
        )
        return result.verdict.value, result.status
    if result.verdict.value != "accepted":
        log.info("confirmation %s: %s (%s)", result.inbox_id, result.verdict.value, result.reason)
    return ("OK" if result.status == 200 else result.verdict.value), result.status


class ConfirmDoor:
    """WSGI middleware in front of the Flask app: a POST to ``/confirm/<shop>/<token>``
    is answered here, anything else goes on to ``inner`` (Flask's own ``wsgi_app``).

    The request is werkzeug's, as Flask's is, so the path, the headers, the body
    stream (bounded by ``Content-Length``) and the source address (after a
    trusted proxy's fix, which wraps this door) read the same. An exception is
    handed to Flask inside a request context: it is logged and answered with the
    hub's 500 page, as the route would have been.
    """

    def __init__(self, app: Flask, inner: WSGIApplication) -> None:
        self.app = app
        self.inner = inner

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") != "POST":
            return self.inner(environ, start_response)
        request = Request(environ)
        parts = request.path.split("/")
        # Flask's default converter: one non-empty segment each, no trailing slash.
        if len(parts) != 4 or parts[1] != "confirm" or not parts[2] or not parts[3]:
            return self.inner(environ, start_response)
        try:
            text, status = answer(self.app, request, parts[2], parts[3])
        except Exception as exc:  # answered as Flask answers any exception
            return self._failed(exc, environ, start_response)
        data = text.encode()
        headers = [("Content-Type", CONTENT_TYPE), ("Content-Length", str(len(data)))]
        headers += security_headers(request.is_secure)
        # The status line werkzeug's Response would send, without building one.
        start_response(f"{status} {HTTP_STATUS_CODES[status].upper()}", headers)
        return [data]

    def _failed(
        self, exc: Exception, environ: WSGIEnvironment, start_response: StartResponse
    ) -> Iterable[bytes]:
        with self.app.request_context(environ):
            response: Response = self.app.handle_exception(exc)
            return response(environ, start_response)
