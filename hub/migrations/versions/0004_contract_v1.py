"""contract v1: encrypted connector secrets, status mappings, webhooks, event ids

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

import secrets
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    bind = op.get_bind()
    with op.batch_alter_table("shops") as batch:
        batch.add_column(sa.Column("connector_secrets", sa.Text(), nullable=False, server_default=""))
        batch.add_column(sa.Column("status_mapping", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("webhook_token", sa.String(length=64), nullable=True))
    shops = sa.table(
        "shops", sa.column("id", sa.Integer), sa.column("webhook_token"), sa.column("status_mapping", sa.JSON)
    )
    for (shop_id,) in bind.execute(sa.select(shops.c.id)).all():
        bind.execute(
            shops.update()
            .where(shops.c.id == shop_id)
            .values(webhook_token=secrets.token_urlsafe(24), status_mapping={})
        )
    with op.batch_alter_table("shops") as batch:
        batch.alter_column("webhook_token", existing_type=sa.String(length=64), nullable=False)
        batch.alter_column("status_mapping", existing_type=sa.JSON(), nullable=False)
        batch.alter_column("connector_secrets", existing_type=sa.Text(), server_default=None)
        batch.create_unique_constraint("uq_shops_webhook_token", ["webhook_token"])

    with op.batch_alter_table("payment_events") as batch:
        batch.add_column(sa.Column("public_id", sa.String(length=40), nullable=True))
    events = sa.table("payment_events", sa.column("id", sa.Integer), sa.column("public_id", sa.String))
    for (event_id,) in bind.execute(sa.select(events.c.id)).all():
        bind.execute(
            events.update().where(events.c.id == event_id).values(public_id=f"ev_{secrets.token_hex(12)}")
        )
    with op.batch_alter_table("payment_events") as batch:
        batch.alter_column("public_id", existing_type=sa.String(length=40), nullable=False)
        batch.create_unique_constraint("uq_payment_events_public_id", ["public_id"])

    with op.batch_alter_table("payments") as batch:
        batch.add_column(sa.Column("paid_minor", sa.BigInteger(), nullable=False, server_default="0"))
    paid = ("paid", "partially_refunded", "refunded")
    op.execute(
        sa.text("update payments set paid_minor = amount_minor where state in :paid").bindparams(
            sa.bindparam("paid", paid, expanding=True)
        )
    )
    with op.batch_alter_table("payments") as batch:
        batch.alter_column("paid_minor", existing_type=sa.BigInteger(), server_default=None)

    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("detail", sa.Text(), nullable=False, server_default=""))
    with op.batch_alter_table("outbox") as batch:
        batch.alter_column("detail", existing_type=sa.Text(), server_default=None)

    # Order statuses grew longer names ("partially_refunded").
    with op.batch_alter_table("link_orders") as batch:
        batch.alter_column("status", existing_type=sa.String(length=16), type_=sa.String(length=24))

    op.create_table(
        "closed_orders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shop_id", sa.Integer(), nullable=False),
        sa.Column("order_ref", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("closed_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["shop_id"], ["shops.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("shop_id", "order_ref"),
    )
    op.create_table(
        "webhook_inbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("headers", sa.JSON(), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("remote_addr", sa.String(length=64), nullable=False),
        sa.Column("shop_slug", sa.String(length=64), nullable=False),
        sa.Column("shop_id", sa.Integer(), nullable=True),
        sa.Column("processed_at", sa.DateTime(), nullable=True),
        sa.Column("verdict", sa.String(length=24), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["shop_id"], ["shops.id"]),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("webhook_inbox")
    op.drop_table("closed_orders")
    with op.batch_alter_table("link_orders") as batch:
        batch.alter_column("status", existing_type=sa.String(length=24), type_=sa.String(length=16))
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("detail")
    with op.batch_alter_table("payments") as batch:
        batch.drop_column("paid_minor")
    with op.batch_alter_table("payment_events") as batch:
        batch.drop_constraint("uq_payment_events_public_id", type_="unique")
        batch.drop_column("public_id")
    with op.batch_alter_table("shops") as batch:
        batch.drop_constraint("uq_shops_webhook_token", type_="unique")
        batch.drop_column("webhook_token")
        batch.drop_column("status_mapping")
        batch.drop_column("connector_secrets")
