"""The logged-in user as Flask-Login sees it."""

from __future__ import annotations

from flask_login import UserMixin

from hub.backoffice.users import Account


class SessionUser(UserMixin):  # type: ignore[misc]
    """An :class:`~hub.backoffice.users.Account` in a session; its session id holds
    the password hash's digest, so a password change ends the session."""

    def __init__(self, account: Account) -> None:
        self.account = account

    def get_id(self) -> str:
        return f"{self.account.id}.{self.account.fingerprint}"
