"""debit numbers: subscription debits counted by their number, not their arrival

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("payment_events") as batch:
        batch.add_column(sa.Column("debit", sa.Integer(), nullable=True))
    with op.batch_alter_table("subscriptions") as batch:
        batch.add_column(sa.Column("last_debit", sa.Integer(), nullable=True))
    # Rows written before: their debits were counted in order of arrival. A finished
    # subscription ended at the debits it had counted.
    op.execute(sa.text("update subscriptions set last_debit = debits_done where finished"))


def downgrade() -> None:
    with op.batch_alter_table("subscriptions") as batch:
        batch.drop_column("last_debit")
    with op.batch_alter_table("payment_events") as batch:
        batch.drop_column("debit")
