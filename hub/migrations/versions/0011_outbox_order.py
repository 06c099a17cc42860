"""outbox order: an index for the check that a task waits for the older ones of its payment

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Without it, each claim scanned the whole outbox once per due task: with thousands
    # of tasks waiting (a sales day), a worker ran under one task a second.
    op.create_index("ix_outbox_payment_order", "outbox", ["payment_id", "kind", "id"])


def downgrade() -> None:
    op.drop_index("ix_outbox_payment_order", table_name="outbox")
