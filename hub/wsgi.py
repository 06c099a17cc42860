"""WSGI entry point for production servers: ``gunicorn 'hub.wsgi:app'``.

Log records are redacted (:mod:`hub.redaction`) before the app is built, so
that the traceback of an app that fails to start, and every access log line
the server writes afterwards, keep the hub's secrets out. Once built, the app
and everything loaded with it are put out of the garbage collector's sight
(:func:`hub.serving.freeze_loaded_objects`).
"""

from hub import redaction
from hub.app import create_app
from hub.serving import freeze_loaded_objects

redaction.install()
app = create_app()
freeze_loaded_objects()
