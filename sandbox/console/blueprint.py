"""The console's two blueprints and what their pages share: the platform, the
language, formatting, the error box."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, current_app, request, session
from flask_wtf import FlaskForm  # type: ignore[import-untyped]

from bluepaid_plugins.errors import ValidationError
from bluepaid_plugins.money import Money
from sandbox.console.texts import LANGS, TEXTS
from sandbox.masking import mask_in, mask_url
from sandbox.models import Subscription
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
    """``?lang=`` (remembered), else the session's choice, else Accept-Language, else English."""
    chosen = request.args.get("lang", "").lower()
    if chosen in LANGS:
        session["console_lang"] = chosen
        return chosen
    stored = session.get("console_lang")
    if stored in LANGS:
        return str(stored)
    return request.accept_languages.best_match(LANGS) or "en"


def money_text(minor: int | None, currency: str) -> str:
    """``1250, "EUR"`` -> ``12.50``; empty for no amount."""
    return "" if minor is None else str(Money.from_minor(minor, currency))


def time_text(moment: datetime | None) -> str:
    """A moment as the pages show it, in UTC to the second; empty for none."""
    return "" if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def period_text(subscription: Subscription, texts: dict[str, str]) -> str:
    """``every 1 month(s)``: the schedule's period in the page's language."""
    unit = texts.get(f"units_{subscription.period_type}", subscription.period_type)
    return texts["every"].format(n=subscription.period_nb, unit=unit)


@bp.context_processor
def _console_context() -> dict[str, Any]:
    lang = console_lang()
    return {
        "lang": lang,
        "t": TEXTS[lang],
        "other_lang": "fr" if lang == "en" else "en",
        "money": money_text,
        "when": time_text,
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
