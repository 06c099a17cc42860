"""Texts for people: one gettext catalog per language, shared by every app of the kit.

The hub, the sandbox (and the payment form, the cart and the back office when
they get pages) speak through one catalog per language, in one domain
(:data:`DOMAIN`), kept here as package data::

    bluepaid_locales/messages.pot              the template: every message of the code
    bluepaid_locales/<lang>/LC_MESSAGES/messages.po   its translation, edited by translators
    bluepaid_locales/<lang>/LC_MESSAGES/messages.mo   compiled from the .po, committed

Why a package of its own: the contract (:mod:`bluepaid_plugins`) must not
import Flask, and the sandbox must never import the hub, yet both apps, and
the rooms to come, read the same catalogs. This package imports only the
standard library, Babel, Flask and Flask-Babel, and no room of the kit, so
every room may use it. The ``.mo`` files are committed rather than built, so
an editable install, a wheel and a source checkout all find them as they are;
a test checks each one says what its ``.po`` says (``docs/translating.md``
tells how to rebuild them).

Messages are written in English in the code (``gettext("Amount")``,
``{{ _("Amount") }}`` in templates); the English catalog repeats them, so that
a test can check that every message exists in every language. Placeholders are
``%(name)s``; :func:`gettext` and the templates' ``_`` fill them. The functions
here are Flask-Babel's, typed: :func:`gettext`, :func:`ngettext` (plurals),
:func:`pgettext` (a context tells apart one English word with two meanings),
:func:`format_currency` and :func:`format_datetime`, all in the request's
language.

Which language a page speaks is each app's rule (the hub: the order's, then
the browser's, then the shop's; the sandbox: the request's ``langue``); it
tells it with :func:`use_language` before rendering. Without that, the
browser's ``Accept-Language`` decides among :func:`languages`, else English.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import flask_babel
from babel import Locale
from babel.support import Translations
from flask import Flask, g, has_request_context, request
from flask_babel import Babel, get_locale, refresh

#: Where the catalogs are: ``<lang>/LC_MESSAGES/messages.mo`` below it.
CATALOGS = Path(__file__).resolve().parent
#: The gettext domain of every message of the kit.
DOMAIN = "messages"
#: The language the messages are written in, and the one spoken when nothing else fits.
SOURCE_LANGUAGE = "en"

# Where a view's choice of language waits for Flask-Babel's locale selector.
_CHOSEN = "bluepaid_language"


@functools.cache
def languages() -> tuple[str, ...]:
    """The languages that have a compiled catalog (``("en", "fr")``), sorted.

    Read once per process: catalogs are package data, they do not change while it runs.
    """
    return tuple(
        sorted(
            folder.name
            for folder in CATALOGS.iterdir()
            if (folder / "LC_MESSAGES" / f"{DOMAIN}.mo").is_file()
        )
    )


def negotiate(candidates: Iterable[str], offered: Iterable[str]) -> str | None:
    """The first of ``candidates`` that one of ``offered`` speaks, in ``offered``'s spelling.

    Languages are compared by their primary subtag, case-insensitively:
    ``"en-GB"``, ``"EN"`` and ``"en"`` are one language. Empty candidates are
    skipped; None when nothing matches.
    """
    by_primary = {_primary(code): code for code in offered}
    for candidate in candidates:
        found = by_primary.get(_primary(candidate))
        if candidate and found is not None:
            return found
    return None


def _primary(code: str) -> str:
    return code.replace("_", "-").split("-", 1)[0].strip().lower()


def buyer_languages() -> tuple[str, ...]:
    """The languages of the current request's ``Accept-Language``, best first; none outside a request."""
    if not has_request_context():
        return ()
    return tuple(request.accept_languages.values())


def language_name(language: str) -> str:
    """``"fr"`` -> ``"Français"``: a language named in itself, for a language switch."""
    name = Locale.parse(language).get_display_name(language) or language
    return name[:1].upper() + name[1:]


def translations(language: str) -> Translations:
    """The catalog of ``language``, for texts shown outside a Flask request (the
    sandbox's Host check runs before the app). Raises OSError if there is none."""
    found = Translations.load(str(CATALOGS), [language], DOMAIN)
    if not isinstance(found, Translations):
        raise OSError(f"no {DOMAIN} catalog for {language!r} in {CATALOGS}")
    return found


def init_app(app: Flask) -> Babel:
    """Let ``app`` speak through the catalogs (Flask-Babel: ``gettext`` in the
    code, ``_`` in the templates, ``format_currency`` and ``format_datetime``
    in the page's language).

    The language of a request is the one given to :func:`use_language`, else
    the browser's best among :func:`languages`, else :data:`SOURCE_LANGUAGE`.
    Times are shown in UTC, as everything is stored. Every template gets
    ``lang``, the request's language, for its ``<html lang>``.
    """
    babel = Babel(
        app,
        locale_selector=_select,
        default_locale=SOURCE_LANGUAGE,
        default_domain=DOMAIN,
        default_translation_directories=str(CATALOGS),
        default_timezone="UTC",
    )
    app.context_processor(lambda: {"lang": current_language()})
    return babel


def use_language(language: str) -> None:
    """Speak ``language`` (one of :func:`languages`) for the rest of the current request."""
    setattr(g, _CHOSEN, language)
    # Flask-Babel keeps the locale of the request once asked: forget it.
    refresh()


def current_language() -> str:
    """The language the current request speaks (as :func:`init_app` chooses it)."""
    return str(get_locale() or SOURCE_LANGUAGE)


def _select() -> str:
    chosen = g.get(_CHOSEN)
    if isinstance(chosen, str):
        return chosen
    return negotiate(buyer_languages(), languages()) or SOURCE_LANGUAGE


def gettext(message: str, **variables: object) -> str:
    """``message`` in the request's language, its ``%(name)s`` placeholders filled."""
    return str(flask_babel.gettext(message, **variables))


def ngettext(singular: str, plural: str, num: int, **variables: object) -> str:
    """The form of ``singular`` / ``plural`` for ``num`` (also ``%(num)s``), translated."""
    return str(flask_babel.ngettext(singular, plural, num, **variables))


def pgettext(context: str, message: str, **variables: object) -> str:
    """``message`` as meant in ``context`` (``"transaction status"``), translated."""
    return str(flask_babel.pgettext(context, message, **variables))


def format_currency(number: Decimal, currency: str) -> str:
    """An amount the request's language's way: ``2,07 €`` in French, ``€2.07`` in English."""
    return str(flask_babel.format_currency(number, currency))


def format_number(number: Decimal) -> str:
    """A number the request's language's way: ``5,5`` in French, ``5.5`` in English."""
    return str(flask_babel.format_decimal(number))


def format_datetime(moment: datetime, format: str = "medium") -> str:
    """A moment the request's language's way, in UTC (a naive one is taken as UTC)."""
    return str(flask_babel.format_datetime(moment, format))
