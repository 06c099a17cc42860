"""The console's two blueprints and what their pages share: the platform, the
language, formatting, the error box."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from flask import Blueprint, current_app, request, session
from flask_wtf import FlaskForm  # type: ignore[import-untyped]

from bluepaid_locales import (
    SOURCE_LANGUAGE,
    buyer_languages,
    format_currency,
    format_datetime,
    language_name,
    languages,
    negotiate,
    use_language,
)
from bluepaid_plugins.errors import ValidationError
from bluepaid_plugins.money import Money
from sandbox.console import texts
from sandbox.masking import mask_in, mask_url
from sandbox.platform import Platform

bp = Blueprint("console", __name__)
buyer_bp = Blueprint("buyer", __name__)

#: Rows shown per list page.
LIST_LIMIT = 200


def current_platform() -> Platform:
    """The sandbox platform of the app serving the request."""
    platform: Platform = current_app.extensions["bluepaid.sandbox"]
    return platform


def console_lang() -> str:
    """``?lang=`` (remembered), else the session's choice, else Accept-Language, else English;
    each among the languages that have a catalog."""
    offered = languages()
    chosen = request.args.get("lang", "").lower()
    if chosen in offered:
        session["console_lang"] = chosen
        return chosen
    stored = session.get("console_lang")
    if stored in offered:
        return str(stored)
    return negotiate(buyer_languages(), offered) or SOURCE_LANGUAGE


@bp.before_request
def _speak() -> None:
    # Before the view: its flash messages are written in the page's language too.
    use_language(console_lang())


def money_text(minor: int | None, currency: str) -> str:
    """``1250, "EUR"`` -> ``12,50 €`` (in French); empty for no amount."""
    if minor is None:
        return ""
    return str(format_currency(Decimal(Money.from_minor(minor, currency).amount), currency))


def time_text(moment: datetime | None) -> str:
    """A moment in the page's language, in UTC to the second; empty for none."""
    return "" if moment is None else f"{format_datetime(moment, 'medium')} UTC"


@bp.context_processor
def _console_context() -> dict[str, Any]:
    lang = console_lang()
    return {
        "other_languages": [(code, language_name(code)) for code in languages() if code != lang],
        "money": money_text,
        "when": time_text,
        "status_name": texts.status_name,
        "kind_name": texts.kind_name,
        "delivery_state_name": texts.delivery_state_name,
        "subscription_state_name": texts.subscription_state_name,
        "mode_name": texts.mode_name,
        "smtp_result_text": texts.smtp_result_text,
        "card_outcome": texts.card_outcome,
        # Every console page shows confirmation URLs through these: never their secret.
        "mask_url": mask_url,
        "mask_in": mask_in,
    }


def form_problems(errors: ValidationError, form: FlaskForm) -> list[str]:
    """Every problem as a line for the page's error box, each also shown at its form field."""
    for problem in errors.problems:
        field = form._fields.get(problem.field)
        if field is not None:
            field.errors = [*field.errors, problem.message]
    return [str(problem) for problem in errors.problems]
