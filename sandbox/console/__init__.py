"""The sandbox console: what Bluepaid's merchant area showed, for the sandbox's merchants.

``bp`` (mounted at ``/console``) lists transactions with filters (FAQ 19, 21),
shows each one with every confirmation sent and the shop's answer, refunds
(full or partial), keeps the mailbox, ends subscriptions ("fini",
"supprimer"), manages accounts (the production lock of FAQ 12 and 28 shown as
an error) and advances the sandbox clock. ``buyer_bp`` (mounted at ``/``)
serves only the buyer's subscription cancel link.

One module per area: :mod:`.home` (counts, test cards, the clock),
:mod:`.transactions` (list, detail, refunds), :mod:`.mails`,
:mod:`.subscriptions`, :mod:`.accounts`, :mod:`.cancel` (the buyer's link);
:mod:`.blueprint` holds both blueprints and what their pages share,
:mod:`.texts` the names of stored values (states, kinds, outcomes) in the
page's language; the words are in the kit's catalogs (:mod:`bluepaid_locales`).

Rules of the pages:

- Every language that has a catalog (French and English today): ``?lang=fr``
  or ``?lang=en`` chooses (and is remembered in the session), otherwise the
  browser's ``Accept-Language``, otherwise English. The buyer's cancel page
  speaks the subscription's ``LANGUE`` as its payment page did
  (:func:`sandbox.texts.page_language`) unless ``?lang=`` says otherwise.
  Amounts and times are written the language's way, times in UTC.
- Every form is a Flask-WTF form with a CSRF token; every change is a POST
  answered by a redirect (or the page again with the errors, status 400).
- Lists show the newest
  :data:`~sandbox.console.blueprint.LIST_LIMIT` rows and
  say when there are more.
- The console has no login: the sandbox holds test data only, listens on
  loopback unless the operator says otherwise (:mod:`sandbox.serving`), answers
  only requests for its own host names (:mod:`sandbox.hosts`), and shows
  confirmation URLs masked, wherever they appear (:mod:`sandbox.masking`).
"""

from __future__ import annotations

# Importing the area modules registers their views on ``bp`` and ``buyer_bp``.
from sandbox.console import (  # noqa: F401
    accounts,
    cancel,
    home,
    mails,
    subscriptions,
    transactions,
)
from sandbox.console.blueprint import bp, buyer_bp

__all__ = ["bp", "buyer_bp"]
