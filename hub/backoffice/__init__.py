"""The merchant's back office: users and logins, payments and their timeline, the
dashboard, subscriptions, reconciliation (see ``docs/back-office.md``).

:func:`init_app` adds it to the hub's app: Flask-Login's sessions and the
blueprints (``/backoffice/...``, and the buyer's ``/subscriptions/cancel/...``).
"""

from __future__ import annotations

from flask import Flask
from flask_login import LoginManager

from hub.backoffice.session import SessionUser
from hub.backoffice.users import load_account
from hub.backoffice.views import bp, public
from hub.context import Hub


def init_app(app: Flask, hub: Hub) -> None:
    """Log back-office users in with Flask-Login and serve the back office.

    A session names the user and a digest of their password hash: changing the
    password ends every session made before. The session cookie is ``Secure``
    when the hub's public URL is https.
    """
    app.config["SESSION_COOKIE_SECURE"] = hub.config.public_url.startswith("https://")
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    manager = LoginManager(app)
    manager.login_view = "backoffice.login"
    # The login page says itself what to do: no flashed message in one language only.
    manager.login_message = ""
    manager.session_protection = "strong"

    def load_user(session_id: str) -> SessionUser | None:
        user_id, _, fingerprint = session_id.partition(".")
        if not user_id.isdigit():
            return None
        account = load_account(hub, int(user_id))
        if account is None or account.fingerprint != fingerprint:
            return None
        return SessionUser(account)

    manager.user_loader(load_user)

    app.register_blueprint(bp)
    app.register_blueprint(public)
