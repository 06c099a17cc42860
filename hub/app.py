"""The Flask app factory."""

from __future__ import annotations

import logging
import os
from typing import Any

from flask import Flask, Response, request
from flask.typing import ResponseReturnValue
from flask_wtf import CSRFProtect  # type: ignore[import-untyped]
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

import bluepaid_locales
from bluepaid_locales import gettext
from bluepaid_plugins.errors import ConfigurationError, PluginError, Problem
from hub import api, backoffice, inbox, redaction
from hub.config import HubConfig
from hub.confirm_door import ConfirmDoor
from hub.context import Hub, build_hub
from hub.desk import order_desks
from hub.headers import add_security_headers
from hub.hotpath import HotPath
from hub.junk import JunkLimiter
from hub.migrate import pending_revisions
from hub.routes import bp, message_page

_log = logging.getLogger(__name__)


def create_app(config: HubConfig | None = None, *, hub: Hub | None = None, recover: bool = True) -> Flask:
    """Build the hub's web app.

    ``hub`` (tests, the CLI) or ``config`` (default: from the environment)
    provides the services. Raises ConfigurationError when the settings are
    refused by a plugin or the database schema is behind the code (a PostgreSQL
    server that does not answer yet is logged, not raised: see below). With
    ``recover``, confirmations stored but never processed (a crash) are
    processed now. From here on, the process's log records are redacted
    (:mod:`hub.redaction`). A page served over https carries
    ``Strict-Transport-Security``. Pages speak through the kit's catalogs
    (:mod:`bluepaid_locales`); an HTTP error, a 404 or an unexpected exception
    included, is a page in the hub's style and the browser's language, never
    a traceback.
    """
    if hub is None:
        hub = build_hub(config or HubConfig.from_env(os.environ))
    redaction.install(hub.config.secret_values())
    check_settings(hub)
    try:
        behind = pending_revisions(hub.db)
    except OperationalError:
        if hub.db.engine.dialect.name == "sqlite":
            raise  # a file that cannot be opened: a setting to fix, not an outage to wait out
        # A database server down while this process starts (gunicorn replacing a worker
        # during a restart of the database): serve anyway, each request failing until the
        # server answers, rather than fail to boot and make gunicorn stop the whole hub.
        # `bluepaid serve` checked the schema before it started the server.
        _log.warning("the database does not answer: schema not checked, requests fail until it answers")
        behind = recover = False
    if behind:
        raise ConfigurationError("the database schema is not up to date: run `bluepaid db upgrade`")
    app = Flask(__name__)
    app.config["SECRET_KEY"] = hub.config.secret_key
    # The session travels back from the platform's redirect (a top-level GET): Lax is enough.
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    # Cookies are shared by every port of a host: the hub and a sandbox side by side on
    # localhost (the demo) would overwrite each other's session under Flask's one name.
    app.config["SESSION_COOKIE_NAME"] = "bluepaid_hub_session"
    app.extensions["bluepaid.hub"] = hub
    app.extensions["bluepaid.junk"] = JunkLimiter()
    app.extensions["bluepaid.hotpath"] = HotPath(hub)
    csrf = CSRFProtect(app)
    bluepaid_locales.init_app(app)
    app.register_blueprint(bp)
    backoffice.init_app(app, hub)
    api.init_app(app)
    csrf.exempt(api.bp)  # token-authenticated, no cookies: no cross-site request can use it
    app.register_error_handler(HTTPException, error_page)
    csrf.exempt(bp)  # its POST routes are server-to-server: the platform's confirmations, shops' webhooks

    def register_blueprint(blueprint: Any, url_prefix: str | None = None) -> None:
        if blueprint.name in app.blueprints:
            raise PluginError(f"a blueprint named {blueprint.name!r} is already registered")
        app.register_blueprint(blueprint, url_prefix=url_prefix)

    hub.plugins.hook.bluepaid_register_blueprints(register=register_blueprint, orders=order_desks(hub))
    app.wsgi_app = ConfirmDoor(app, app.wsgi_app)  # type: ignore[method-assign]
    if hub.config.trust_proxy:
        # Outside the door: it sees the source address and scheme the proxy says.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)  # type: ignore[method-assign]

    @app.after_request
    def security_headers(response: Response) -> Response:
        add_security_headers(response.headers, request.is_secure)
        return response

    if recover:
        inbox.process_pending(hub)
    return app


def error_page(error: HTTPException) -> ResponseReturnValue:
    """The page of an HTTP error (an unexpected exception arrives as a 500): what
    happened in the buyer's words, and the status. (Flask hands routing redirects,
    the only HTTP exceptions below 400, to the browser before any handler.) Under
    the JSON API's prefix, JSON: a script asked."""
    status = error.code or 500
    if request.path.startswith(api.PREFIX):
        return api.error_response(error)
    if status == 404:
        return message_page(
            404, gettext("Page not found."), gettext("Check the address, or go back to the shop's site.")
        )
    if status >= 500:
        return message_page(
            status,
            gettext("Something went wrong."),
            gettext("The payment service could not answer. Please try again in a few minutes."),
        )
    return message_page(
        status,
        gettext("This request cannot be answered."),
        gettext("HTTP error %(status)s.", status=status),
    )


def check_settings(hub: Hub) -> None:
    """Ask every plugin to validate the configuration; ConfigurationError lists problems."""
    problems: list[Problem] = []
    for found in hub.plugins.hook.bluepaid_validate_settings(config=hub.config.as_mapping()):
        problems += found or []
    if problems:
        raise ConfigurationError("; ".join(str(p) for p in problems))
