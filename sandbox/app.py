"""The sandbox's Flask app factory."""

from __future__ import annotations

import os

from flask import Flask, Response
from flask_wtf import CSRFProtect  # type: ignore[import-untyped]
from werkzeug.middleware.proxy_fix import ProxyFix

import bluepaid_locales
from sandbox.config import SandboxConfig
from sandbox.console import bp as console_bp
from sandbox.console import buyer_bp
from sandbox.forms import field_aria
from sandbox.hosts import HostCheck
from sandbox.pages import bp as pages_bp
from sandbox.platform import Platform


def create_sandbox_app(config: SandboxConfig | None = None, *, platform: Platform | None = None) -> Flask:
    """Build the sandbox platform's web app from ``platform`` or ``config``
    (default: the ``BLUEPAID_SANDBOX_*`` environment).

    It answers only requests whose ``Host`` is the public URL's host and port
    or a loopback name (:mod:`sandbox.hosts`); any other gets a 400. Its pages
    speak through the kit's catalogs (:mod:`bluepaid_locales`), each in the
    language its rule gives (:mod:`sandbox.texts`, :mod:`sandbox.console`).
    """
    if platform is None:
        platform = Platform(config or SandboxConfig.from_env(os.environ))
    app = Flask(__name__)
    app.config["SECRET_KEY"] = platform.config.secret_key
    # Not Flask's default name: a hub on another port of the same host keeps its own session.
    app.config["SESSION_COOKIE_NAME"] = "bluepaid_sandbox_session"
    app.extensions["bluepaid.sandbox"] = platform
    csrf = CSRFProtect(app)
    bluepaid_locales.init_app(app)
    app.add_template_global(field_aria)
    app.register_blueprint(pages_bp)
    app.register_blueprint(console_bp, url_prefix="/console")
    app.register_blueprint(buyer_bp)
    # /in.php receives the shop's form POST: it comes from another site by design.
    csrf.exempt("sandbox.pages.payment_request")
    csrf.exempt("sandbox.pages.subscription_request")
    if platform.config.trust_proxy:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1)  # type: ignore[method-assign]
    # Outermost: a request for an unexpected host reaches nothing of the app (DNS rebinding).
    app.wsgi_app = HostCheck(app.wsgi_app, platform.config.public_url)  # type: ignore[method-assign]

    @app.after_request
    def security_headers(response: Response) -> Response:
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        return response

    return app
