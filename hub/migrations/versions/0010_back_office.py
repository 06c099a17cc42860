"""The back office: users, their shops and roles, login failures, the audit log, alerts mailed, API tokens;
the request sent per payment; the shop's plan and its settings' unlock; subscriptions ended or deleted in the hub

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "bo_users",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("email", sa.String(254), nullable=False, unique=True),
        sa.Column("password_hash", sa.String(256), nullable=False),
        sa.Column("language", sa.String(8), nullable=False, server_default=""),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "bo_memberships",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("bo_users.id"), nullable=False, index=True),
        sa.Column("shop_id", sa.Integer(), sa.ForeignKey("shops.id"), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.UniqueConstraint("user_id", "shop_id"),
    )
    op.create_table(
        "bo_login_failures",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("remote_addr", sa.String(64), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_bo_login_failures_email_at", "bo_login_failures", ["email", "at"])
    op.create_table(
        "bo_audit",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("shop_id", sa.Integer(), sa.ForeignKey("shops.id"), nullable=False),
        sa.Column("payment_id", sa.Integer(), sa.ForeignKey("payments.id"), nullable=True),
        sa.Column("actor", sa.String(254), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False, server_default=""),
        sa.Column("at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_bo_audit_payment", "bo_audit", ["payment_id"])
    op.create_table(
        "bo_alert_mails",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("shop_id", sa.Integer(), sa.ForeignKey("shops.id"), nullable=False),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("shop_id", "key"),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("shop_id", sa.Integer(), sa.ForeignKey("shops.id"), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False, unique=True),
        sa.Column("shown", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
    )
    with op.batch_alter_table("payments") as batch:
        batch.add_column(sa.Column("request_fields", sa.JSON(), nullable=True))
    with op.batch_alter_table("shops") as batch:
        batch.add_column(sa.Column("plan", sa.String(8), nullable=False, server_default="start"))
        batch.add_column(sa.Column("unlocked_until", sa.DateTime(), nullable=True))
    with op.batch_alter_table("subscriptions") as batch:
        batch.add_column(sa.Column("ended_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("ended_by", sa.String(254), nullable=False, server_default=""))
        batch.add_column(sa.Column("deleted_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("subscriptions") as batch:
        batch.drop_column("deleted_at")
        batch.drop_column("ended_by")
        batch.drop_column("ended_at")
    with op.batch_alter_table("shops") as batch:
        batch.drop_column("unlocked_until")
        batch.drop_column("plan")
    with op.batch_alter_table("payments") as batch:
        batch.drop_column("request_fields")
    op.drop_table("api_tokens")
    op.drop_table("bo_alert_mails")
    op.drop_index("ix_bo_audit_payment", "bo_audit")
    op.drop_table("bo_audit")
    op.drop_index("ix_bo_login_failures_email_at", "bo_login_failures")
    op.drop_table("bo_login_failures")
    op.drop_table("bo_memberships")
    op.drop_table("bo_users")
