"""secrets: inbox keeps a digest of the URL token, not the token; shops.proxy_url

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

import hashlib
import re
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies of hub.redaction.token_digest and of its path mask as they were at
# this revision: a migration must give the same result whatever the code becomes.
_DIGEST_LABEL = b"bluepaid inbox url token\x00"
_CONFIRM_PATH = re.compile(r"(/confirm/[^/]+/)[^/?#]+")


def _digest(token: str) -> str:
    return hashlib.sha256(_DIGEST_LABEL + token.encode("utf-8", "surrogatepass")).hexdigest()


def upgrade() -> None:
    bind = op.get_bind()
    with op.batch_alter_table("shops") as batch:
        batch.add_column(sa.Column("proxy_url", sa.String(length=512), nullable=False, server_default=""))
    with op.batch_alter_table("shops") as batch:
        batch.alter_column("proxy_url", existing_type=sa.String(length=512), server_default=None)

    with op.batch_alter_table("inbox") as batch:
        batch.add_column(sa.Column("url_token_digest", sa.String(length=64), nullable=True))
    inbox = sa.table(
        "inbox",
        sa.column("id", sa.Integer),
        sa.column("path", sa.String),
        sa.column("url_token", sa.String),
        sa.column("url_token_digest", sa.String),
    )
    for row_id, path, token in bind.execute(sa.select(inbox.c.id, inbox.c.path, inbox.c.url_token)).all():
        bind.execute(
            inbox.update()
            .where(inbox.c.id == row_id)
            .values(url_token_digest=_digest(token), path=_CONFIRM_PATH.sub(r"\1***", path))
        )
    with op.batch_alter_table("inbox") as batch:
        batch.alter_column("url_token_digest", existing_type=sa.String(length=64), nullable=False)
        batch.drop_column("url_token")


def downgrade() -> None:
    # The tokens are gone for good: a downgraded row holds the digest where the
    # token was, so it never matches a shop's token again (a wrong token, not a leak).
    with op.batch_alter_table("inbox") as batch:
        batch.add_column(sa.Column("url_token", sa.String(length=128), nullable=False, server_default=""))
    op.execute(sa.text("update inbox set url_token = url_token_digest"))
    with op.batch_alter_table("inbox") as batch:
        batch.alter_column("url_token", existing_type=sa.String(length=128), server_default=None)
        batch.drop_column("url_token_digest")
    with op.batch_alter_table("shops") as batch:
        batch.drop_column("proxy_url")
