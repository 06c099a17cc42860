"""The baseline for `confirmations.py`: a bare Flask app, served exactly like the hub
(`gunicorn -w 2 'benchmarks.bare_app:create_app()'` from the repository root)."""

from __future__ import annotations

from flask import Flask


def create_app() -> Flask:
    app = Flask(__name__)

    @app.get("/hello")
    def hello() -> str:
        return "ok"

    return app
