"""Sandbox merchant accounts: create, show, change (with the production lock)."""

from __future__ import annotations

import re
from typing import Any

from bluepaid_plugins.errors import NotFound, Problem, ValidationError
from sandbox.models import Account, Mode, Plan
from sandbox.platform import Platform

_ID_BOUTIQUE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")

#: Settings of the payment form: locked in production (FAQ 12 and 28).
LOCKED_IN_PRODUCTION = ("referrer_url", "url_retour_ok", "url_retour_stop", "url_confirmation")
SETTABLE = (*LOCKED_IN_PRODUCTION, "name", "mode", "banned_countries", "buyer_form", "plan", "merchant_email")

PRODUCTION_LOCK = (
    "is locked in production: Bluepaid froze the payment form settings once an account went live "
    "(FAQ 12 and 28); switch the account back to test mode to change it"
)


def _check(values: dict[str, Any]) -> list[Problem]:
    problems = []
    for name in ("referrer_url", "url_retour_ok", "url_retour_stop", "url_confirmation"):
        url = values.get(name)
        if url and not str(url).startswith(("http://", "https://")):
            problems.append(Problem(name, "must be a full http:// or https:// URL"))
    if "mode" in values and values["mode"] not in {m.value for m in Mode}:
        problems.append(Problem("mode", "test or production"))
    if "plan" in values and values["plan"] not in {p.value for p in Plan}:
        problems.append(Problem("plan", "START or PRO"))
    for code in values.get("banned_countries", []):
        if not (len(code) == 2 and code.isalpha() and code.isupper()):
            problems.append(
                Problem("banned_countries", f"{code!r} is not an ISO 3166 alpha-2 code (FR, DE...)")
            )
    email = values.get("merchant_email", "")
    if email and ("@" not in email or " " in email or len(email) > 254):
        problems.append(Problem("merchant_email", "not an e-mail address"))
    return problems


def add_account(platform: Platform, id_boutique: str, **values: Any) -> Account:
    """Create an account (test mode unless ``mode="production"``)."""
    problems = (
        [] if _ID_BOUTIQUE.match(id_boutique) else [Problem("id_boutique", "1 to 32 letters, digits, _ or -")]
    )
    unknown = set(values) - set(SETTABLE)
    problems += [Problem(name, "unknown account setting") for name in sorted(unknown)]
    problems += _check(values)
    if problems:
        raise ValidationError(problems, "account not created")
    with platform.db.transaction() as session:
        if session.get(Account, id_boutique) is not None:
            raise ValidationError(Problem("id_boutique", f"account {id_boutique!r} already exists"))
        account = Account(
            id_boutique=id_boutique, created_at=platform.now(session), **{"name": id_boutique, **values}
        )
        session.add(account)
    return account


def get_account(platform: Platform, id_boutique: str) -> Account:
    with platform.db.transaction() as session:
        account = session.get(Account, id_boutique)
    if account is None:
        raise NotFound(f"no sandbox account {id_boutique!r}")
    return account


def set_account(platform: Platform, id_boutique: str, **changes: Any) -> Account:
    """Change settings. In production the form settings are refused with the reason.

    The lock looks at the mode the account has before the call: to change a
    locked setting of a live account, switch it to test first.
    """
    problems = [Problem(name, "unknown account setting") for name in sorted(set(changes) - set(SETTABLE))]
    problems += _check(changes)
    with platform.db.transaction() as session:
        account = session.get(Account, id_boutique, with_for_update=True)
        if account is None:
            raise NotFound(f"no sandbox account {id_boutique!r}")
        if account.mode == Mode.PRODUCTION.value:
            problems += [
                Problem(name, PRODUCTION_LOCK)
                for name in LOCKED_IN_PRODUCTION
                if name in changes and changes[name] != getattr(account, name)
            ]
        if problems:
            raise ValidationError(problems, f"account {id_boutique} not changed")
        for name, value in changes.items():
            setattr(account, name, value)
    return account


def account_summary(account: Account) -> dict[str, Any]:
    return {
        "id_boutique": account.id_boutique,
        "name": account.name,
        "mode": account.mode,
        "referrer_url": account.referrer_url,
        "url_retour_ok": account.url_retour_ok,
        "url_retour_stop": account.url_retour_stop,
        "url_confirmation": account.url_confirmation,
        "banned_countries": list(account.banned_countries),
        "buyer_form": account.buyer_form,
        "plan": account.plan,
        "merchant_email": account.merchant_email,
    }
