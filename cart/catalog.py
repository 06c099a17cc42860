"""A shop's catalog: read from a CSV file, checked whole, stored whole or not at all.

The file (UTF-8, a BOM allowed; commas or semicolons between columns, as the
header line uses) has a header naming its columns, in any order:

=============== ========= ==========================================================
column          required  value
=============== ========= ==========================================================
``sku``         yes       the product's code, unique in the file: letters, digits, ``.-_``
``name``        yes       at most 200 characters
``description`` no        at most 2000 characters
``price``       yes       VAT included, more than zero, a dot or a comma for decimals
``vat_rate``    yes       a percentage from 0 to 100, at most 2 decimals (``5.5``)
``image``       no        an ``https://`` URL of at most 500 characters (the pages load no other)
``stock``       no        how many are for sale (empty: not counted)
``active``      no        ``yes``/``no`` (also ``oui``/``non``, ``1``/``0``, ``true``/``false``); empty: yes
=============== ========= ==========================================================

An import creates the products whose ``sku`` is new and updates the others;
products of the shop missing from the file are left as they are (set
``active`` to ``no`` to take one off sale).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from sqlalchemy import select

from bluepaid_plugins.db import Database
from bluepaid_plugins.errors import NotFound, Problem, ValidationError
from bluepaid_plugins.money import Money
from bluepaid_plugins.protocol.fields import unprintable
from cart.models import Product

COLUMNS = ("sku", "name", "description", "price", "vat_rate", "image", "stock", "active")
REQUIRED = ("sku", "name", "price", "vat_rate")
NAME_MAX = 200
DESCRIPTION_MAX = 2000
IMAGE_MAX = 500
#: The largest stock or price a file may hold: beyond, it is a typing slip.
STOCK_MAX = 1_000_000
PRICE_MAX = Decimal("1000000")

_SKU = re.compile(r"[A-Za-z0-9._-]{1,64}")
_RATE = re.compile(r"[0-9]{1,3}(?:[.,][0-9]{1,2})?")
_YES = {"", "yes", "oui", "1", "true", "y", "o"}
_NO = {"no", "non", "0", "false", "n"}


@dataclass(frozen=True)
class ProductRow:
    """One product read from a file, every value checked."""

    sku: str
    name: str
    description: str
    price: Money
    vat_rate: Decimal
    image_url: str
    stock: int | None
    active: bool


def _where(line: int, column: str) -> str:
    return f"line {line}, column {column}"


def parse_catalog(
    lines: Iterable[str], currency: str, *, on_row: Callable[[], None] | None = None
) -> list[ProductRow]:
    """The products of a CSV file's ``lines`` (text, newlines kept), priced in ``currency``.

    Raises ValidationError listing every problem, each named ``line N, column C``
    (the header is line 1). ``on_row`` is called once per data row read, for a
    progress bar.
    """
    rows = iter(lines)
    header_line = next(rows, "")
    delimiter = ";" if header_line.count(";") > header_line.count(",") else ","
    reader = csv.reader([header_line], delimiter=delimiter)
    header = [name.strip().lower() for name in next(reader, [])]
    problems: list[Problem] = []
    unknown = [name for name in header if name not in COLUMNS]
    missing = [name for name in REQUIRED if name not in header]
    problems += [Problem(_where(1, name or "(empty)"), "unknown column") for name in unknown]
    problems += [Problem(_where(1, name), "required column missing") for name in missing]
    doubled = sorted({name for name in header if header.count(name) > 1})
    problems += [Problem(_where(1, name), "column named twice") for name in doubled]
    if problems:
        raise ValidationError(problems, "the catalog's header is wrong")
    found: list[ProductRow] = []
    first_line: dict[str, int] = {}
    reader = csv.reader(rows, delimiter=delimiter)
    # A quoted cell may span lines: a row is named by the file line it starts on.
    ended = 1
    for cells in reader:
        number, ended = ended + 1, reader.line_num + 1
        if on_row is not None:
            on_row()
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) != len(header):
            problems.append(Problem(_where(number, "*"), f"{len(cells)} cells for {len(header)} columns"))
            continue
        values = {name: cell.strip() for name, cell in zip(header, cells, strict=True)}
        row = _row(number, values, currency, problems)
        if row is None:
            continue
        if row.sku in first_line:
            problems.append(
                Problem(_where(number, "sku"), f"{row.sku} is already on line {first_line[row.sku]}")
            )
            continue
        first_line[row.sku] = number
        found.append(row)
    if problems:
        raise ValidationError(problems, f"{len(problems)} problem(s) in the catalog; nothing imported")
    return found


def check_product(values: Mapping[str, str], currency: str) -> ProductRow:
    """One product from a form's ``values`` (the file's columns as names), checked by
    the very rules of a file's row; ValidationError naming each bad column."""
    problems: list[Problem] = []
    row = _row(0, {name: value.strip() for name, value in values.items()}, currency, problems, named=False)
    if row is None:
        raise ValidationError(problems, "product not saved")
    return row


def save_product(db: Database, shop: str, product_id: int, row: ProductRow) -> Product:
    """Store ``row`` as shop ``shop``'s product ``product_id`` (its sku stays); NotFound
    for another shop's product or a missing one, ValidationError for an sku taken."""
    with db.transaction() as session:
        found = session.scalar(
            select(Product).where(Product.shop == shop, Product.id == product_id).with_for_update()
        )
        if found is None:
            raise NotFound(f"no product {product_id} in shop {shop!r}")
        if row.sku != found.sku:
            raise ValidationError(
                [Problem("sku", "the sku of a product does not change")], "product not saved"
            )
        found.name, found.description, found.image_url = row.name, row.description, row.image_url
        found.price_minor, found.currency = row.price.minor, row.price.currency
        found.vat_rate, found.stock, found.active = row.vat_rate, row.stock, row.active
        return found


def set_active(db: Database, shop: str, product_id: int, active: bool) -> Product:
    """Put shop ``shop``'s product ``product_id`` on sale or take it off; NotFound for
    another shop's product or a missing one."""
    with db.transaction() as session:
        found = session.scalar(
            select(Product).where(Product.shop == shop, Product.id == product_id).with_for_update()
        )
        if found is None:
            raise NotFound(f"no product {product_id} in shop {shop!r}")
        found.active = active
        return found


def _row(
    number: int, values: Mapping[str, str], currency: str, problems: list[Problem], *, named: bool = True
) -> ProductRow | None:
    """The row's product, or None with its problems added to ``problems``: each named
    ``line N, column C``, or only by its column (``named`` false: a form's field)."""
    before = len(problems)

    def bad(column: str, reason: str) -> None:
        problems.append(Problem(_where(number, column) if named else column, reason))

    def text(column: str, longest: int, required: bool = False, lines: bool = False) -> str:
        value = values.get(column, "")
        # A description may run over several lines of its (quoted) cell; nothing else may.
        shown = " ".join(value.splitlines()) if lines else value
        if required and not value:
            bad(column, "empty")
        elif len(value) > longest:
            bad(column, f"longer than {longest} characters")
        elif unprintable(shown):
            bad(column, "holds invisible or control characters")
        return value

    sku = values.get("sku", "")
    if not _SKU.fullmatch(sku):
        bad("sku", "1 to 64 letters, digits, dots, dashes or underscores")
    name = text("name", NAME_MAX, required=True)
    description = text("description", DESCRIPTION_MAX, lines=True)
    price = _price(values.get("price", ""), currency, bad)
    vat_rate = _vat_rate(values.get("vat_rate", ""), bad)
    image = text("image", IMAGE_MAX)
    if image and not image.startswith("https://"):
        bad("image", "not an https:// URL")
    stock = _stock(values.get("stock", ""), bad)
    active = values.get("active", "").lower()
    if active not in _YES | _NO:
        bad("active", "yes or no")
    if len(problems) > before or price is None or vat_rate is None:
        return None
    return ProductRow(sku, name, description, price, vat_rate, image, stock, active in _YES)


def _price(text: str, currency: str, bad: Callable[[str, str], None]) -> Money | None:
    if not text:
        bad("price", "empty")
        return None
    try:
        price = Money.parse(text, currency, field="price")
    except ValidationError as exc:
        bad("price", exc.problems[0].message)
        return None
    if price.minor <= 0:
        bad("price", "not more than zero")
        return None
    if price.amount > PRICE_MAX:
        bad("price", f"more than {PRICE_MAX}")
        return None
    return price


def _vat_rate(text: str, bad: Callable[[str, str], None]) -> Decimal | None:
    if not _RATE.fullmatch(text):
        bad("vat_rate", "a percentage like 20 or 5.5")
        return None
    try:
        rate = Decimal(text.replace(",", "."))
    except InvalidOperation:  # pragma: no cover - the pattern rules this out
        bad("vat_rate", "a percentage like 20 or 5.5")
        return None
    if rate > 100:
        bad("vat_rate", "more than 100")
        return None
    return rate


def _stock(text: str, bad: Callable[[str, str], None]) -> int | None:
    if not text:
        return None
    if not text.isascii() or not text.isdigit() or int(text) > STOCK_MAX:
        bad("stock", f"a whole number from 0 to {STOCK_MAX}")
        return None
    return int(text)


def import_catalog(db: Database, shop: str, rows: Sequence[ProductRow]) -> tuple[int, int]:
    """Store ``rows`` as shop ``shop``'s products in one transaction; (created, updated)."""
    created = updated = 0
    with db.transaction() as session:
        existing = {
            product.sku: product
            for product in session.scalars(select(Product).where(Product.shop == shop).with_for_update())
        }
        for position, row in enumerate(rows):
            product = existing.get(row.sku)
            if product is None:
                product = Product(shop=shop, sku=row.sku)
                session.add(product)
                created += 1
            else:
                updated += 1
            product.name = row.name
            product.description = row.description
            product.price_minor = row.price.minor
            product.currency = row.price.currency
            product.vat_rate = row.vat_rate
            product.image_url = row.image_url
            product.stock = row.stock
            product.active = row.active
            product.position = position
    return created, updated


def products(db: Database, shop: str, *, active_only: bool = False) -> list[Product]:
    """The shop's products in the catalog's order."""
    query = select(Product).where(Product.shop == shop)
    if active_only:
        query = query.where(Product.active.is_(True))
    with db.transaction() as session:
        return list(session.scalars(query.order_by(Product.position, Product.id)))


def product(db: Database, shop: str, product_id: int) -> Product | None:
    """The shop's product ``product_id`` (another shop's is as unknown as a missing one)."""
    with db.transaction() as session:
        found: Product | None = session.scalar(
            select(Product).where(Product.shop == shop, Product.id == product_id)
        )
    return found
