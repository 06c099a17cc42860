"""cart_products, cart_holds, cart_checkouts: the built-in cart's catalog and stock;
link_orders.client: the orders of one client, limited

The cart's tables (``cart.models``) live in the hub's database and are created
here, with the hub's own, so one ``bluepaid db upgrade`` brings both in line.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("link_orders") as batch:
        batch.add_column(sa.Column("client", sa.String(64), nullable=True))
        batch.create_index("ix_link_orders_client", ["shop_id", "client", "created_at"])
    op.create_table(
        "cart_products",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("shop", sa.String(64), nullable=False),
        sa.Column("sku", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("price_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("vat_rate", sa.Numeric(5, 2), nullable=False),
        sa.Column("image_url", sa.String(500), nullable=False),
        sa.Column("stock", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.UniqueConstraint("shop", "sku"),
    )
    op.create_index("ix_cart_products_shop", "cart_products", ["shop"])
    op.create_table(
        "cart_holds",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("shop", sa.String(64), nullable=False),
        sa.Column("order_ref", sa.String(64), nullable=False),
        sa.Column("product_id", sa.Integer(), sa.ForeignKey("cart_products.id"), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_cart_holds_shop_state", "cart_holds", ["shop", "state"])
    op.create_index("ix_cart_holds_order_ref", "cart_holds", ["order_ref"])
    op.create_table(
        "cart_checkouts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("shop", sa.String(64), nullable=False),
        sa.Column("token", sa.String(64), nullable=False),
        sa.Column("order_ref", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("shop", "token"),
    )


def downgrade() -> None:
    op.drop_table("cart_checkouts")
    op.drop_index("ix_cart_holds_order_ref", "cart_holds")
    op.drop_index("ix_cart_holds_shop_state", "cart_holds")
    op.drop_table("cart_holds")
    op.drop_index("ix_cart_products_shop", "cart_products")
    op.drop_table("cart_products")
    with op.batch_alter_table("link_orders") as batch:
        batch.drop_index("ix_link_orders_client")
        batch.drop_column("client")
