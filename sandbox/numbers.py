"""The platform's numbers and tokens (the real formats were never published)."""

from __future__ import annotations

import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from sandbox.models import Transaction


def new_id_trans(session: Session) -> str:
    """``BP`` and 12 random digits, not yet used by any transaction."""
    while True:
        candidate = f"BP{secrets.randbelow(10**12):012d}"
        if session.scalar(select(Transaction.id).where(Transaction.id_trans == candidate)) is None:
            return candidate


def new_token() -> str:
    """An unguessable token for URLs (payment page, cancel link)."""
    return secrets.token_urlsafe(32)
