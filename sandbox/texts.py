"""The language of the buyer's pages, and the few texts built from parts.

The words themselves are in the kit's gettext catalogs (:mod:`bluepaid_locales`).

Bluepaid served its payment page in the language of ``langue``. The sandbox
speaks every protocol language that has a catalog (French and English today);
any other (``DE ES IT NL PT``, until someone translates them) falls back to
English, the language a foreign buyer is most likely to read. A request without
``langue`` gets French, the platform's own language. :func:`page_language` is
the one place that rule lives.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from bluepaid_locales import format_currency, languages, negotiate, ngettext, translations, use_language
from bluepaid_plugins.money import Money

#: Page language when the request gives no ``langue``: Bluepaid was a French platform.
DEFAULT_LANGUAGE = "FR"
#: The page language for a ``langue`` without a catalog.
FALLBACK_LANGUAGE = "en"


def page_language(langue: str) -> str:
    """The catalog language of a protocol ``langue``: French for ``FR`` or none, the
    language itself when it has a catalog, English otherwise."""
    return negotiate([langue or DEFAULT_LANGUAGE], languages()) or FALLBACK_LANGUAGE


def speak(langue: str) -> None:
    """Speak the page language of ``langue`` for the rest of the request."""
    use_language(page_language(langue))


def money(amount: Money) -> str:
    """``amount`` written for the request's language (``2,07 €``, ``€2.07``)."""
    return str(format_currency(Decimal(amount.amount), amount.currency))


def period(period_type: str, count: int) -> str:
    """``every month`` / ``every 2 weeks``: a subscription's rhythm (``PERIODE_TYPE``,
    ``PERIODE_NB``) in the request's language; an unknown type is shown as sent."""
    if period_type == "J":
        return ngettext("every day", "every %(num)s days", count)
    if period_type == "S":
        return ngettext("every week", "every %(num)s weeks", count)
    if period_type == "M":
        return ngettext("every month", "every %(num)s months", count)
    return f"{count} {period_type}"


@dataclass(frozen=True)
class Texts:
    """The texts of one language that are shown outside a Flask request."""

    language: str

    @property
    def wrong_host(self) -> str:
        """The Host check's refusal (:mod:`sandbox.hosts`), with ``{host}`` and
        ``{expected}`` for :meth:`str.format`: it is shown before any Flask request exists."""
        return str(
            translations(self.language).gettext(
                "Request refused: this sandbox answers only for the names it is served under "
                "({expected}), and this request asked for the host {host}. A web page that passes "
                "its own name off as a local address therefore cannot read the console. If you "
                "reach the sandbox by another name, give its address in BLUEPAID_SANDBOX_PUBLIC_URL."
            )
        )


FRENCH = Texts("fr")
ENGLISH = Texts("en")
