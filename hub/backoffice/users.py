"""Back-office users: accounts, their shops and roles, logins and password resets.

Passwords are kept as werkzeug's scrypt hashes. Failed logins are counted in the
database (:class:`~hub.models.LoginFailure`), so the limit holds across every hub
process. A password-reset link carries a token signed with the hub's secret key,
valid :data:`RESET_VALID` and bound to the password it replaces: once used (the
password changed), it no longer opens anything.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import delete, func, select
from werkzeug.security import check_password_hash, generate_password_hash

from bluepaid_plugins.errors import NotFound, Problem, ValidationError
from hub.backoffice.tokens import sign, verify
from hub.context import Hub
from hub.models import LoginFailure, Membership, Role, Shop, User

#: At most this many failed logins per e-mail address within :data:`FAILURE_WINDOW`.
MAX_FAILURES = 5
FAILURE_WINDOW = timedelta(minutes=15)
#: How long a password-reset link works.
RESET_VALID = timedelta(minutes=30)
MIN_PASSWORD = 10
_RESET_SALT = "bluepaid back-office password reset"


@dataclass(frozen=True)
class Account:
    """A user as the back office sees them: their shops (by id) and role in each."""

    id: int
    email: str
    language: str
    #: A digest of the password hash: a session made before a password change ends with it.
    fingerprint: str
    roles: dict[int, Role] = field(default_factory=dict)

    def can_see(self, shop_id: int) -> bool:
        return shop_id in self.roles

    def can_act(self, shop_id: int) -> bool:
        """Whether the user may change things in this shop (an owner)."""
        return self.roles.get(shop_id) is Role.OWNER


def fingerprint(password_hash: str) -> str:
    return hashlib.sha256(password_hash.encode()).hexdigest()[:16]


def _problems_of_password(password: str) -> list[Problem]:
    if len(password) < MIN_PASSWORD:
        return [Problem("password", f"at least {MIN_PASSWORD} characters")]
    return []


def add_user(hub: Hub, email: str, password: str, shops: dict[str, Role]) -> Account:
    """Create a user with access to ``shops`` (slug -> role), or give an existing one
    these shops (their password then changes too). ValidationError for a short
    password, NotFound for an unknown shop."""
    email = email.strip().lower()
    problems = _problems_of_password(password)
    if "@" not in email:
        problems.append(Problem("email", "not an e-mail address"))
    if problems:
        raise ValidationError(problems, "user not saved")
    with hub.db.transaction() as session:
        user = session.scalar(select(User).where(User.email == email))
        if user is None:
            user = User(email=email, password_hash="", language="", created_at=hub.clock())
            session.add(user)
        user.password_hash = generate_password_hash(password)
        session.flush()
        for slug, role in shops.items():
            shop = session.scalar(select(Shop).where(Shop.slug == slug))
            if shop is None:
                raise NotFound(f"no shop {slug!r}")
            member = session.scalar(
                select(Membership).where(Membership.user_id == user.id, Membership.shop_id == shop.id)
            )
            if member is None:
                session.add(Membership(user_id=user.id, shop_id=shop.id, role=role.value))
            else:
                member.role = role.value
        user_id = user.id
    account = load_account(hub, user_id)
    assert account is not None
    return account


def set_password(hub: Hub, email: str, password: str) -> None:
    """Replace a user's password (every session and reset link of theirs ends)."""
    problems = _problems_of_password(password)
    if problems:
        raise ValidationError(problems, "password not changed")
    with hub.db.transaction() as session:
        user = session.scalar(select(User).where(User.email == email.strip().lower()))
        if user is None:
            raise NotFound(f"no user {email!r}")
        user.password_hash = generate_password_hash(password)
        session.execute(delete(LoginFailure).where(LoginFailure.email == user.email))


def set_language(hub: Hub, user_id: int, language: str) -> None:
    with hub.db.transaction() as session:
        user = session.get(User, user_id)
        if user is not None:
            user.language = language


def load_account(hub: Hub, user_id: int) -> Account | None:
    with hub.db.transaction() as session:
        user = session.get(User, user_id)
        if user is None:
            return None
        roles = {
            m.shop_id: Role(m.role)
            for m in session.scalars(select(Membership).where(Membership.user_id == user_id))
        }
        return Account(user.id, user.email, user.language, fingerprint(user.password_hash), roles)


class TooManyFailures(Exception):
    """Login refused before the password is checked: too many recent failures."""


def authenticate(hub: Hub, email: str, password: str, remote_addr: str) -> Account | None:
    """The account of ``email`` if ``password`` is theirs; None otherwise (and the
    failure is counted). TooManyFailures once :data:`MAX_FAILURES` failures of this
    e-mail fell within :data:`FAILURE_WINDOW`, whatever the password."""
    email = email.strip().lower()[:254]
    now = hub.clock()
    with hub.db.transaction() as session:
        recent = session.scalar(
            select(func.count())
            .select_from(LoginFailure)
            .where(LoginFailure.email == email, LoginFailure.at > now - FAILURE_WINDOW)
        )
        if (recent or 0) >= MAX_FAILURES:
            raise TooManyFailures(email)
        user = session.scalar(select(User).where(User.email == email))
        # A hash is checked even for an unknown e-mail, so the answer's delay tells nothing.
        known = user.password_hash if user else _DUMMY_HASH
        if user is None or not check_password_hash(known, password):
            session.add(LoginFailure(email=email, remote_addr=remote_addr[:64], at=now))
            return None
        user_id = user.id
    return load_account(hub, user_id)


_DUMMY_HASH = generate_password_hash("not a password of anyone")


def reset_token(hub: Hub, email: str) -> str | None:
    """A password-reset token for ``email``, or None when there is no such user."""
    with hub.db.transaction() as session:
        user = session.scalar(select(User).where(User.email == email.strip().lower()))
        if user is None:
            return None
        data = {"user": user.id, "fp": fingerprint(user.password_hash)}
        return sign(hub, _RESET_SALT, data, RESET_VALID)


def reset_with_token(hub: Hub, token: str, password: str) -> None:
    """Set the password of the token's user. NotFound for a token that is forged,
    expired or already used; ValidationError for a short password."""
    data = verify(hub, _RESET_SALT, token)
    if data is None:
        raise NotFound("this reset link is invalid or has expired")
    account = load_account(hub, int(data["user"]))
    if account is None or account.fingerprint != data["fp"]:
        raise NotFound("this reset link was already used")
    set_password(hub, account.email, password)
