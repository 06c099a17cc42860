"""money: parked refunds, one open payment per order and amount

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN = "state in ('created', 'pending')"


def upgrade() -> None:
    with op.batch_alter_table("payment_events") as batch:
        batch.add_column(sa.Column("parked", sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table("payment_events") as batch:
        batch.alter_column("parked", existing_type=sa.Boolean(), server_default=None)
    # Tabs started at once could leave several open payments of one order and amount:
    # keep the newest open, mark the others cancelled (a late "ok" for one still pays it).
    op.execute(
        sa.text(
            f"""
            update payments set state = 'cancelled'
            where {OPEN} and exists (
                select 1 from payments newer
                where newer.shop_id = payments.shop_id and newer.order_ref = payments.order_ref
                  and newer.amount_minor = payments.amount_minor and newer.currency = payments.currency
                  and newer.state in ('created', 'pending') and newer.id > payments.id
            )
            """
        )
    )
    op.create_index(
        "uq_payments_open",
        "payments",
        ["shop_id", "order_ref", "amount_minor", "currency"],
        unique=True,
        sqlite_where=sa.text(OPEN),
        postgresql_where=sa.text(OPEN),
    )


def downgrade() -> None:
    op.drop_index("uq_payments_open", table_name="payments")
    with op.batch_alter_table("payment_events") as batch:
        batch.drop_column("parked")
