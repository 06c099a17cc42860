"""A development server whose access log never shows the confirmation URL's secret."""

from __future__ import annotations

import re
import threading
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

_SECRET_PATH = re.compile(r"(/confirm/[^/\s]+/)[^\s?]+")


def redact(line: str) -> str:
    """Replace the token of ``/confirm/<shop>/<token>`` paths with ``***``."""
    return _SECRET_PATH.sub(r"\1***", line)


class RedactingHandler(WSGIRequestHandler):
    def log(self, type: str, message: str, *args: Any) -> None:
        super().log(type, redact(message % args) if args else redact(message))


def start_server(app: Any, host: str, port: int) -> tuple[BaseWSGIServer, threading.Thread]:
    """Serve ``app`` on a thread (threaded server, redacted log); return the server and thread."""
    server = make_server(host, port, app, threaded=True, request_handler=RedactingHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True, name=f"http-{port}")
    thread.start()
    return server, thread
