"""``bluepaid catalog``: the built-in cart's products, imported from a CSV file."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from bluepaid_plugins.errors import ValidationError
from cart.catalog import import_catalog, parse_catalog, products
from cart.connector import CartConnector, CartSettings
from hub.cli.base import cli, emit, hub_of, json_option, table
from hub.context import Hub
from hub.models import Shop
from hub.shops import get_shop

#: Files with more lines than this show a progress bar while they are read.
PROGRESS_FROM = 1000


def _cart_shop(hub: Hub, slug: str) -> Shop:
    found = get_shop(hub, slug)
    if found.connector != CartConnector.id:
        raise ValidationError([], f"shop {slug!r} uses connector {found.connector!r}, not {CartConnector.id}")
    return found


@cli.group()
def catalog() -> None:
    """The built-in cart's catalog: the products of a cart shop."""


@catalog.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--shop", "slug", required=True, help="The shop (a cart shop).")
@json_option
@click.pass_context
def catalog_import(ctx: click.Context, /, path: Path, slug: str, as_json: bool) -> None:
    """Import the products of a CSV file (see the cart guide for its columns).

    Every bad row is reported (line, column, reason) and then nothing is imported.
    Products are matched by sku: new ones are created, the others updated.
    """
    hub = hub_of(ctx)
    shop = _cart_shop(hub, slug)
    settings = CartSettings.read(shop.connector_settings)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValidationError(
            [], f"{path.name} is not UTF-8 text (byte {exc.start}); save it as UTF-8"
        ) from exc
    lines = text.splitlines(keepends=True)
    try:
        if len(lines) > PROGRESS_FROM and not as_json:
            with click.progressbar(
                length=len(lines) - 1, label=f"reading {path.name}", file=sys.stderr
            ) as bar:
                rows = parse_catalog(lines, settings.currency, on_row=lambda: bar.update(1))
        else:
            rows = parse_catalog(lines, settings.currency)
    except ValidationError as exc:
        if as_json:
            emit(
                {
                    "imported": False,
                    "problems": [{"where": p.field, "reason": p.message} for p in exc.problems],
                },
                True,
                str,
            )
        else:
            for problem in exc.problems:
                click.echo(f"{path.name}: {problem}", err=True)
        raise ValidationError(
            [], f"{len(exc.problems)} problem(s) in {path.name}; nothing imported"
        ) from None
    created, updated = import_catalog(hub.db, slug, rows)
    emit(
        {"imported": True, "created": created, "updated": updated},
        as_json,
        lambda data: f"imported {len(rows)} product(s) into shop {slug}: {created} new, {updated} updated",
    )


@catalog.command("list")
@click.option("--shop", "slug", required=True, help="The shop (a cart shop).")
@json_option
@click.pass_context
def catalog_list(ctx: click.Context, /, slug: str, as_json: bool) -> None:
    """List the shop's products, in the catalog's order."""
    hub = hub_of(ctx)
    _cart_shop(hub, slug)
    rows: list[dict[str, Any]] = [
        {
            "sku": product.sku,
            "name": product.name,
            "price": str(product.price),
            "currency": product.currency,
            "vat_rate": format(product.vat_rate.normalize(), "f"),
            "stock": "" if product.stock is None else product.stock,
            "active": product.active,
        }
        for product in products(hub.db, slug)
    ]
    emit(
        rows,
        as_json,
        table(["sku", "name", "price", "currency", "vat_rate", "stock", "active"], "no products"),
    )
