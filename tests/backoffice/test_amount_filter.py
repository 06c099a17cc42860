"""The amount filter compares in each payment's own currency: 1000 is 1000 yen and
1000 euros alike, in the list, its CSV export and the JSON API."""

from __future__ import annotations

import csv
import io

import pytest
from flask import Flask

from hub.api.tokens import create
from hub.context import Hub
from hub.models import Shop
from hub.testing.driver import HubDriver
from tests.backoffice.conftest import Browser
from tests.backoffice.test_payments import ids_on


@pytest.fixture
def made(driver: HubDriver) -> dict[str, str]:
    """Payments of 1000 yen, 9.90 euros and 1500 euros, left pending."""
    return {
        "yen": driver.start(driver.new_order("1000", "JPY")).payment_id,
        "small": driver.start(driver.new_order("9.90", "EUR")).payment_id,
        "large": driver.start(driver.new_order("1500.00", "EUR")).payment_id,
    }


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("min=500", {"yen", "large"}),
        ("max=1000", {"yen", "small"}),
        ("min=1000&max=1000", {"yen"}),
        ("min=1000.5", {"large"}),  # half a yen: no yen amount is that much or more up to 1000
        ("min=9.895&max=9.905", {"small"}),  # a bound between two cents rounds inwards
        ("min=9.901", {"yen", "large"}),
    ],
)
def test_the_list_and_its_csv_compare_in_each_currency(
    owner: Browser, made: dict[str, str], query: str, expected: set[str]
) -> None:
    listed = ids_on(owner.get(f"/backoffice/payments?{query}").text)
    exported = {
        row["id"] for row in csv.DictReader(io.StringIO(owner.get(f"/backoffice/payments.csv?{query}").text))
    }

    assert listed == exported == {made[name] for name in expected}


def test_the_api_compares_in_each_currency(app: Flask, hub: Hub, shop: Shop, made: dict[str, str]) -> None:
    token = create(hub, shop.slug, "tests")[1]
    response = app.test_client().get(
        "/api/v1/payments?amount_min=500&amount_max=1000", headers={"Authorization": f"Bearer {token}"}
    )

    assert {p["id"] for p in response.get_json()["payments"]} == {made["yen"]}
