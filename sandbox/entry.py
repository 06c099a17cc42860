"""The shop's request: what ``/in.php`` and ``/ABOv2/in.php`` do before the payment page.

:func:`open_transaction` reads and validates the request, looks the merchant
account up, runs the referrer and country checks and opens the transaction;
the views in :mod:`~sandbox.pages` call it. A valid request
sends the browser (303) to the transaction's page; an invalid one gets a 400
page listing every problem by variable name (FAQ 24).

Rules the record leaves open, defined here (the README repeats them):

- **Reading the request.** GET reads the query string; POST reads the form body
  and the query string together. A variable given twice (twice in one, or in
  both) is a problem: the platform cannot know which value the shop meant. An
  empty value counts as not given.
- **Defaults.** Without ``langue`` the page is French. A return or
  confirmation URL given in the request overrides the account's; its scheme is
  https when ``set_secure_return`` / ``set_secure_conf`` is ``1``, http when the
  flag is ``0`` or absent. The account's own URLs are used as registered (with
  their scheme): the flags concern the URLs of the request only.
- **Referrer check** (FAQ 23): when the account has a referrer URL, the origin
  (scheme, host, port; default ports implied) of the ``Referer`` header of the
  request that opened the payment must equal the referrer URL's origin. Only
  origins are compared because browsers send only the origin to another site
  by default. A **missing** ``Referer`` counts as a mismatch: privacy settings
  and ``Referrer-Policy: no-referrer`` strip it, and a check that a header's
  absence passes would check nothing. In test mode a mismatch shows a warning
  on the page and the buyer can pay; in production the payment is blocked
  with an explanation. No referrer URL: no check.
- **Country ban** (FAQ 15): the buyer's address is the connection's
  (``X-Forwarded-For`` only when the sandbox trusts a proxy), mapped offline to
  a country. If the merchant bans that country, the payment is blocked and the
  page says "IP bannie" and asks the buyer to contact the merchant, in test and
  in production mode alike. The address that opens the payment and the one
  that loads or posts the page are both checked, so changing address midway
  does not get round the ban.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

from flask import redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from bluepaid_plugins.errors import Problem
from bluepaid_plugins.money import Money
from bluepaid_plugins.protocol import (
    LANGUAGES,
    PAYMENT_FIELDS,
    SUBSCRIPTION_FIELDS,
    join_url,
    validate_payment_fields,
    validate_subscription_fields,
)
from bluepaid_plugins.protocol.fields import origin
from sandbox.models import Account, Mode, Transaction, TxKind, TxStatus
from sandbox.numbers import new_id_trans, new_token
from sandbox.platform import Platform
from sandbox.texts import DEFAULT_LANGUAGE, speak

#: Start of ``Transaction.reason`` for a payment blocked by a country ban.
BANNED_REASON = "IP bannie"
#: Start of ``Transaction.reason`` for a payment blocked by the referrer check.
REFERRER_REASON = "referrer check"


@dataclass(frozen=True)
class Endpoint:
    """What differs between ``in.php`` and ``ABOv2/in.php``: spelling, rules, kind."""

    kind: TxKind
    upper: bool
    order: tuple[str, ...]
    validate: Callable[[Mapping[str, str]], list[Problem]]

    def name(self, variable: str) -> str:
        """The endpoint's spelling of a lower-case ``in.php`` variable name."""
        return variable.upper() if self.upper else variable


#: ``/in.php``: a single payment, lower-case variables.
PAYMENT = Endpoint(TxKind.PAYMENT, False, PAYMENT_FIELDS, validate_payment_fields)
#: ``/ABOv2/in.php``: a subscription's first debit, upper-case variables.
SUBSCRIPTION = Endpoint(TxKind.DEBIT, True, SUBSCRIPTION_FIELDS, validate_subscription_fields)


def _read_fields(endpoint: Endpoint) -> tuple[dict[str, str], list[Problem]]:
    """The request's variables (first value of each) and a problem per variable given twice."""
    pairs: list[tuple[str, str]] = list(request.args.items(multi=True))
    if request.method == "POST":
        pairs += list(request.form.items(multi=True))
    fields: dict[str, str] = {}
    for name, value in pairs:
        fields.setdefault(name, value)
    problems = [
        # Long names are cut as the validators cut unknown ones: the sender may be anyone.
        Problem(
            name if len(name) <= 40 else name[:40] + "...",
            f"given {count} times; give each variable once, the platform cannot choose",
        )
        for name, count in Counter(name for name, _ in pairs).items()
        if count > 1
    ]
    return fields, problems


def open_transaction(platform: Platform, endpoint: Endpoint) -> ResponseReturnValue:
    """Answer the current request to ``endpoint``: the error page (400), or a new
    transaction (open, or blocked by a check) and a redirect (303) to its page."""
    fields, problems = _read_fields(endpoint)
    problems += endpoint.validate(fields)
    id_boutique = fields.get(endpoint.name("id_boutique"), "")
    langue = fields.get(endpoint.name("langue"), "")
    speak(langue if langue in LANGUAGES else "")
    if not any(p.field == endpoint.name("id_boutique") for p in problems):
        with platform.db.transaction() as session:
            known = session.get(Account, id_boutique) is not None
        if not known:
            problems.append(
                Problem(
                    endpoint.name("id_boutique"),
                    f"no merchant account {id_boutique!r} on this platform; create it with "
                    "`bluepaid sandbox account add` or fix the id the shop sends",
                )
            )
    if problems:
        order = {name: index for index, name in enumerate(endpoint.order)}
        problems.sort(key=lambda p: order.get(p.field, len(order)))
        return render_template("pay_request_error.html", problems=problems), 400

    now = platform.now()
    remote_addr = request.remote_addr or ""
    country = platform.country_of(remote_addr)
    referer = request.headers.get("Referer", "")
    with platform.db.transaction() as session:
        account = session.get(Account, id_boutique)
        assert account is not None  # accounts are never deleted
        tx = Transaction(
            id_trans=new_id_trans(session),
            page_token=new_token(),
            id_boutique=id_boutique,
            kind=endpoint.kind.value,
            status=TxStatus.OPEN.value,
            test=True,
            amount_minor=_first_amount(endpoint, fields).minor,
            currency=fields[endpoint.name("devise")],
            langue=langue or DEFAULT_LANGUAGE,
            id_client=fields.get(endpoint.name("id_client"), ""),
            divers=fields.get(endpoint.name("divers"), ""),
            email_client=fields.get(endpoint.name("email_client"), ""),
            url_ok=_url(endpoint, fields, "url_retour_ok", "set_secure_return", account.url_retour_ok),
            url_stop=_url(endpoint, fields, "url_retour_stop", "set_secure_return", account.url_retour_stop),
            url_confirm=_url(endpoint, fields, "url_retour_bo", "set_secure_conf", account.url_confirmation),
            request={name: value for name, value in fields.items() if value},
            referrer=referer[:600],
            remote_addr=remote_addr[:64],
            country=country,
            created_at=now,
            updated_at=now,
        )
        verdict = check_referrer(account.referrer_url, referer)
        if verdict != "ok":
            if account.mode == Mode.TEST.value:
                tx.referrer_warning = True
            else:
                tx.status = TxStatus.BLOCKED.value
                tx.reason = _referrer_reason(account.referrer_url, referer)
        if country and country in account.banned_countries:
            tx.status = TxStatus.BLOCKED.value
            tx.reason = banned_reason(remote_addr, country)
        session.add(tx)
        token = tx.page_token
    return redirect(url_for("pages.payment_page", token=token), 303)


def _first_amount(endpoint: Endpoint, fields: Mapping[str, str]) -> Money:
    """What the page charges now: ``montant``, or for ABOv2 ``MONTANT_INITIAL`` when given."""
    currency = fields[endpoint.name("devise")]
    initial = fields.get("MONTANT_INITIAL", "") if endpoint.upper else ""
    return Money.parse(initial or fields[endpoint.name("montant")], currency)


def _url(endpoint: Endpoint, fields: Mapping[str, str], name: str, flag: str, default: str) -> str:
    value = fields.get(endpoint.name(name), "")
    if not value:
        return default
    return join_url(value, fields.get(endpoint.name(flag), "") == "1")


def check_referrer(referrer_url: str, referer: str) -> Literal["ok", "missing", "mismatch"]:
    """The referrer check of FAQ 23 (rules in the module docstring).

    ``ok`` when the account has no referrer URL or the origins match;
    ``missing`` without a ``Referer``; ``mismatch`` otherwise (an unreadable
    ``Referer`` included).
    """
    if not referrer_url:
        return "ok"
    if not referer:
        return "missing"
    found = origin(referer)
    return "ok" if found is not None and found == origin(referrer_url) else "mismatch"


def shown_origin(referer: str) -> str:
    """The origin of ``referer`` as a page or a reason shows it (the raw value, cut, if unreadable)."""
    return origin(referer) or repr(referer[:80])


def _referrer_reason(referrer_url: str, referer: str) -> str:
    expected = origin(referrer_url) or referrer_url
    if not referer:
        return f"{REFERRER_REASON}: no Referer header; the registered referrer is {expected}"
    return f"{REFERRER_REASON}: requested from {shown_origin(referer)}; the registered referrer is {expected}"


def banned_reason(address: str, country: str) -> str:
    """The ``Transaction.reason`` of a payment blocked because ``address`` is in banned ``country``."""
    return f"{BANNED_REASON}: {address} is in {country}, a country the merchant refuses"
