"""webhook query: the webhook inbox keeps each request's query string, its values masked

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-08
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # The rows stored before it came with a query nobody kept: empty, not unknown.
    with op.batch_alter_table("webhook_inbox") as batch:
        batch.add_column(sa.Column("query", sa.Text(), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("webhook_inbox") as batch:
        batch.drop_column("query")
