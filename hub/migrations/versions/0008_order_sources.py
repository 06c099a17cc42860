"""link_orders.buyer and link_orders.lines: orders of the payment form and the cart

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("link_orders") as batch:
        batch.add_column(sa.Column("buyer", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("lines", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("link_orders") as batch:
        batch.drop_column("lines")
        batch.drop_column("buyer")
