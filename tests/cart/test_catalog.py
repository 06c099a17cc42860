"""The catalog's CSV import: every bad row reported, nothing imported when one is bad."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

from bluepaid_plugins.errors import ValidationError
from cart.catalog import import_catalog, parse_catalog, products
from hub.cli import main
from tests.cart.conftest import Buyer, MakeBuyer

HEADER = "sku,name,description,price,vat_rate,image,stock,active\n"


def read(text: str) -> list[str]:
    return text.splitlines(keepends=True)


def problems(text: str) -> list[str]:
    with pytest.raises(ValidationError) as caught:
        parse_catalog(read(text), "EUR")
    return [str(problem) for problem in caught.value.problems]


def test_a_good_file_gives_every_value_typed() -> None:
    (row,) = parse_catalog(
        read(HEADER + 'CUP-1,"Tasse, grande",Belle,"7,50",5.5,https://x.example/a.png,12,non\n'), "EUR"
    )

    assert (row.sku, row.name, str(row.price), row.vat_rate, row.image_url, row.stock, row.active) == (
        "CUP-1",
        "Tasse, grande",
        "7.50",
        Decimal("5.5"),
        "https://x.example/a.png",
        12,
        False,
    )


def test_semicolons_and_a_subset_of_columns_in_any_order_are_read() -> None:
    rows = parse_catalog(read("price;sku;vat_rate;name\n2,5;A;20;Alpha\n"), "EUR")

    assert [(row.sku, str(row.price), row.stock, row.active) for row in rows] == [("A", "2.50", None, True)]


def test_every_bad_cell_is_reported_with_its_line_and_column() -> None:
    text = (
        HEADER
        + "ok,Fine,,1.00,20,,,\n"
        + "bad sku,,,-3,120,ftp://x,-1,maybe\n"
        + "B,Name,,1.005,5.555,,1.5,\n"
        + "ok,Twice,,1.00,20,,,\n"
        + "C,Short\n"
        + 'D,"<script>alert(1)</script>",,0,20,,,\n'
    )

    assert problems(text) == [
        "line 3, column sku: 1 to 64 letters, digits, dots, dashes or underscores",
        "line 3, column name: empty",
        "line 3, column price: not an amount: '-3'",
        "line 3, column vat_rate: more than 100",
        "line 3, column image: not an https:// URL",
        "line 3, column stock: a whole number from 0 to 1000000",
        "line 3, column active: yes or no",
        "line 4, column price: 1.005 has more than 2 decimals for EUR",
        "line 4, column vat_rate: a percentage like 20 or 5.5",
        "line 4, column stock: a whole number from 0 to 1000000",
        "line 5, column sku: ok is already on line 2",
        "line 6, column *: 2 cells for 8 columns",
        "line 7, column price: not more than zero",
    ]


def test_a_wrong_header_is_reported_before_any_row() -> None:
    assert problems("sku,nom,price\nA,B,1\n") == [
        "line 1, column nom: unknown column",
        "line 1, column name: required column missing",
        "line 1, column vat_rate: required column missing",
    ]


def test_an_import_creates_then_updates_by_sku(buyer: Buyer) -> None:
    rows = parse_catalog(read(HEADER + "TEE,T-shirt neuf,,21.00,20,,7,\nNEW,Nouveau,,1.00,20,,,\n"), "EUR")

    assert import_catalog(buyer.hub.db, "shop", rows) == (1, 1)
    found = {product.sku: product for product in products(buyer.hub.db, "shop")}
    assert (found["TEE"].name, str(found["TEE"].price), found["TEE"].stock) == ("T-shirt neuf", "21.00", 7)
    assert (found["TEE"].position, found["NEW"].position) == (0, 1)


def run(buyer: Buyer, *args: str) -> tuple[int, str, str]:
    runner = CliRunner()
    env = {
        "BLUEPAID_DATABASE_URL": buyer.hub.config.database_url,
        "BLUEPAID_SETTINGS_KEYS": buyer.hub.config.settings_keys[0],
    }
    with runner.isolation(env=env) as (out, err, _):
        code = main(list(args))
        return code, out.getvalue().decode(), err.getvalue().decode()


def test_the_command_reports_every_bad_row_and_imports_nothing(buyer: Buyer, tmp_path: Path) -> None:
    csv = tmp_path / "products.csv"
    csv.write_text(HEADER + "NEW,Nouveau,,1.00,20,,,\nX,,,1.00,20,,,\nY,Why,,abc,20,,,\n", encoding="utf-8")

    code, _, err = run(buyer, "catalog", "import", str(csv), "--shop", "shop")

    assert code == 1
    assert "products.csv: line 3, column name: empty" in err
    assert "products.csv: line 4, column price: not an amount: 'abc'" in err
    assert "2 problem(s) in products.csv; nothing imported" in err
    assert "NEW" not in {product.sku for product in products(buyer.hub.db, "shop")}


def test_the_command_imports_a_long_file_with_a_progress_bar_and_lists_it(
    buyer: Buyer, tmp_path: Path
) -> None:
    csv = tmp_path / "products.csv"
    csv.write_text(
        HEADER + "".join(f"P{n},Produit {n},,1.{n % 100:02d},20,,,\n" for n in range(1500)), encoding="utf-8"
    )

    code, out, err = run(buyer, "catalog", "import", str(csv), "--shop", "shop")
    listed = run(buyer, "catalog", "list", "--shop", "shop")

    assert code == 0, err
    assert "reading products.csv" in err
    assert out.strip() == "imported 1500 product(s) into shop shop: 1500 new, 0 updated"
    assert listed[0] == 0
    assert "P1499\tProduit 1499\t1.99\tEUR\t20\t\tTrue" in listed[1]


def test_the_command_refuses_a_shop_that_is_not_a_cart(make_buyer: MakeBuyer, tmp_path: Path) -> None:
    buyer = make_buyer()
    csv = tmp_path / "products.csv"
    csv.write_text(HEADER, encoding="utf-8")

    code, _, err = run(buyer, "catalog", "import", str(csv), "--shop", "nope")

    assert code == 1
    assert "no shop 'nope'" in err


def test_a_description_may_hold_lines_and_a_name_may_not() -> None:
    (row,) = parse_catalog(read(HEADER + 'A,Alpha,"Ligne 1\nLigne 2",1.00,20,,,\n'), "EUR")

    assert row.description == "Ligne 1\nLigne 2"
    assert problems(HEADER + 'A,Alpha,"Ligne 1\nLigne 2",1.00,20,,,\nB,"Be\nta",,1.00,20,,,\n') == [
        "line 4, column name: holds invisible or control characters"
    ]
