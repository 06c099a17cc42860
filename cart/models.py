"""The cart's own tables: the catalog of each shop and the stock held for orders.

They live in the hub's database (the order desk's
:meth:`~bluepaid_plugins.sources.OrderDesk.database`) and are created by the
hub's migrations (``0009_cart``), never by the cart. Rows name their shop by
slug: the cart never sees the hub's shop ids.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from bluepaid_plugins.db import UTCDateTime
from bluepaid_plugins.money import Money


class CartBase(DeclarativeBase):
    """The cart's tables, apart from the hub's: the hub's migrations know both."""

    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime}


class Product(CartBase):
    """One product of a shop's catalog; ``sku`` is the merchant's own code, unique per shop.

    ``price_minor`` is the price a buyer pays for one, VAT included, in minor units
    of ``currency``; ``vat_rate`` a percentage (``20``, ``5.5``). ``stock`` is the
    number still for sale, holds taken off (None: not counted, always for sale).
    """

    __tablename__ = "cart_products"
    __table_args__ = (UniqueConstraint("shop", "sku"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    shop: Mapped[str] = mapped_column(String(64), index=True)
    sku: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    price_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    vat_rate: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    image_url: Mapped[str] = mapped_column(String(500), default="")
    stock: Mapped[int | None] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(default=True)
    # The catalog's order: the line of the product in the last file imported.
    position: Mapped[int] = mapped_column(Integer, default=0)

    @property
    def price(self) -> Money:
        return Money.from_minor(self.price_minor, self.currency)


class Hold(CartBase):
    """Stock set aside for one line of one order, from checkout until the payment ends.

    ``state``: ``held`` (taken off the product's stock until ``expires_at``),
    ``sold`` (the order was paid: gone for good), ``released`` (given back: the
    order will never be paid) or ``expired`` (given back at ``expires_at``, its
    order still payable: a late payment takes the stock again).
    Only a change from ``held`` moves the product's stock, so a hold is given
    back or sold once, whoever sees the payment's end first.
    """

    __tablename__ = "cart_holds"
    __table_args__ = (Index("ix_cart_holds_shop_state", "shop", "state"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    shop: Mapped[str] = mapped_column(String(64))
    order_ref: Mapped[str] = mapped_column(String(64), default="", index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("cart_products.id"))
    quantity: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16), default="held")
    expires_at: Mapped[datetime]


class Checkout(CartBase):
    """A checkout page's one-time token, claimed by the first request that sends it.

    A second request with the same token (a double click, a reload) finds the row,
    and leads to the first one's order instead of making another.
    """

    __tablename__ = "cart_checkouts"
    __table_args__ = (UniqueConstraint("shop", "token"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    shop: Mapped[str] = mapped_column(String(64))
    token: Mapped[str] = mapped_column(String(64))
    order_ref: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime]
