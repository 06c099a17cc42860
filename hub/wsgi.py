"""WSGI entry point for production servers: ``gunicorn 'hub.wsgi:app'``.

Log records are redacted (:mod:`hub.redaction`) before the app is built, so
that the traceback of an app that fails to start, and every access log line
the server writes afterwards, keep the hub's secrets out.
"""

from hub import redaction
from hub.app import create_app

redaction.install()
app = create_app()
