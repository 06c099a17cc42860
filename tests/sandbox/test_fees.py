"""Bluepaid's 2016 fees, as the console shows them."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from sandbox.accounts import set_account
from sandbox.models import Account, TxKind, TxStatus
from sandbox.platform import Platform
from tests.sandbox.backoffice_fixtures import add_transaction, csrf_app
from tests.sandbox.conftest import ID_BOUTIQUE


@pytest.mark.parametrize(
    ("plan", "amount_minor", "status", "fee"),
    [
        ("START", 10000, TxStatus.ACCEPTED, "3.20"),  # 2.9 % + 0.30
        ("PRO", 10000, TxStatus.ACCEPTED, "2.64"),  # 2.4 % + 0.24
        ("START", 3660, TxStatus.ACCEPTED, "1.36"),  # 1.0614 rounds to 1.06
        ("START", 50, TxStatus.ACCEPTED, "0.31"),  # 0.0145 rounds half up to 0.01
        ("START", 3660, TxStatus.REFUSED, "0.30"),  # a refusal costs the fixed part only
        ("PRO", 3660, TxStatus.REFUSED, "0.24"),
    ],
)
def test_fee_follows_the_plan(
    platform: Platform, account: Account, plan: str, amount_minor: int, status: TxStatus, fee: str
) -> None:
    set_account(platform, ID_BOUTIQUE, plan=plan)
    tx = add_transaction(platform, amount_minor=amount_minor, status=status.value)

    page = csrf_app(platform).test_client().get(f"/console/transactions/{tx.id_trans}?lang=en")

    assert f"Bluepaid fee</th><td>€{fee} ({plan})" in page.get_data(as_text=True)


@pytest.mark.parametrize(
    "values",
    [
        {"currency": "JPY", "amount_minor": 500},  # the offers are in euros
        {"kind": TxKind.REFUND.value},  # refunds are not priced in the record
        {"status": TxStatus.PENDING.value},  # nothing is charged yet
    ],
)
def test_no_fee_is_shown_where_the_record_gives_none(
    platform: Platform, account: Account, values: dict[str, object]
) -> None:
    tx = add_transaction(platform, **values)

    page = csrf_app(platform).test_client().get(f"/console/transactions/{tx.id_trans}?lang=en")

    assert page.status_code == 200
    assert "Bluepaid fee" not in page.get_data(as_text=True)


def test_french_console_says_frais(platform: Platform, account: Account) -> None:
    tx = add_transaction(platform)

    client: FlaskClient = csrf_app(platform).test_client()
    page = client.get(f"/console/transactions/{tx.id_trans}?lang=fr")

    assert "Frais Bluepaid</th><td>0,36\xa0€ (START)" in page.get_data(as_text=True)
