"""The development server, whose access log never shows a secret of a URL (the
confirmation and webhook tokens, a pay link's proof, any query value): see
:mod:`hub.redaction`. Production: :mod:`hub.gunicorn_config`.
"""

from __future__ import annotations

import threading
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from hub.redaction import redact


class RedactingHandler(WSGIRequestHandler):
    """werkzeug's request handler, its log lines redacted even where the process
    did not install :mod:`hub.redaction` (an app served without the hub's factory)."""

    def log(self, type: str, message: str, *args: Any) -> None:
        super().log(type, "%s", redact(message % args if args else message))


def start_server(app: Any, host: str, port: int) -> tuple[BaseWSGIServer, threading.Thread]:
    """Serve ``app`` on a thread (threaded server, redacted log); return the server and thread."""
    server = make_server(host, port, app, threaded=True, request_handler=RedactingHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True, name=f"http-{port}")
    thread.start()
    return server, thread
