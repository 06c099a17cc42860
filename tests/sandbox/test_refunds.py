"""Refunds, full and partial: a refund transaction and a ``mode=r`` confirmation."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from flask.testing import FlaskClient

from bluepaid_plugins.errors import NotFound, ValidationError
from bluepaid_plugins.money import Money
from bluepaid_plugins.protocol import Mode, parse_confirmation
from sandbox.delivery import deliver_due
from sandbox.models import Account, DeliveryState, Transaction, TxKind, TxStatus
from sandbox.platform import Platform
from sandbox.refunds import create_refund, refund
from tests.conftest import FrozenClock
from tests.sandbox.backoffice_fixtures import (
    add_transaction,
    csrf_app,
    csrf_token,
    deliveries,
    get,
    mails,
    transactions,
)
from tests.sandbox.conftest import ID_BOUTIQUE, ShopServer


def eur(text: str) -> Money:
    return Money(Decimal(text), "EUR")


@pytest.fixture
def paid(platform: Platform, account: Account, shop: ShopServer) -> Transaction:
    """An accepted 2.07 EUR test payment whose confirmations go to the shop server."""
    return add_transaction(
        platform, url_confirm=shop.confirm_url, id_client="order-52", divers="tok-52", langue="EN"
    )


def test_full_refund_is_a_new_transaction_confirmed_with_mode_r(
    platform: Platform, paid: Transaction
) -> None:
    made = refund(platform, paid.id_trans)

    assert (made.kind, made.status, made.parent_id, made.amount) == (
        TxKind.REFUND.value,
        TxStatus.ACCEPTED.value,
        paid.id,
        eur("2.07"),
    )
    assert made.id_trans != paid.id_trans
    assert get(platform, Transaction, paid.id).refunded_minor == 207
    [delivery] = deliveries(platform, made.id)
    assert delivery.fields == {
        "etat": "ok",
        "mode": "r",
        "id_trans": made.id_trans,
        "id_client": "order-52",
        "divers": "tok-52",
        "langue": "EN",
        "id_boutique": ID_BOUTIQUE,
        "montant": "2.07",
        "devise": "EUR",
    }
    assert delivery.state == DeliveryState.SCHEDULED.value


def test_partial_refunds_add_up_each_with_its_own_amount(platform: Platform, paid: Transaction) -> None:
    first = refund(platform, paid.id_trans, eur("0.50"))
    second = refund(platform, paid.id_trans, eur("1.57"))

    assert [
        d.fields["montant"] for d in deliveries(platform, first.id) + deliveries(platform, second.id)
    ] == [
        "0.50",
        "1.57",
    ]
    assert {d.fields["mode"] for d in deliveries(platform)} == {"r"}
    assert first.id_trans != second.id_trans
    assert get(platform, Transaction, paid.id).refunded_minor == 207


def test_the_refund_confirmation_reads_as_a_refund(platform: Platform, paid: Transaction) -> None:
    made = refund(platform, paid.id_trans, eur("1.00"))

    [delivery] = deliveries(platform, made.id)
    confirmation = parse_confirmation(list(delivery.fields.items()))
    assert confirmation.mode is Mode.REFUND
    assert confirmation.amount == eur("1.00")


def test_refunding_more_than_remains_is_refused_and_changes_nothing(
    platform: Platform, paid: Transaction
) -> None:
    refund(platform, paid.id_trans, eur("2.00"))

    with pytest.raises(ValidationError) as refused:
        refund(platform, paid.id_trans, eur("0.08"))

    assert refused.value.problems[0].field == "amount"
    assert "what remains refundable" in str(refused.value)
    assert "0.07 EUR" in str(refused.value)
    assert get(platform, Transaction, paid.id).refunded_minor == 200
    assert len(transactions(platform, kind=TxKind.REFUND.value)) == 1
    assert len(deliveries(platform)) == 1


def test_nothing_left_to_refund_is_refused(platform: Platform, paid: Transaction) -> None:
    refund(platform, paid.id_trans)

    with pytest.raises(ValidationError, match="already refunded in full"):
        refund(platform, paid.id_trans)


def test_a_zero_refund_is_refused(platform: Platform, paid: Transaction) -> None:
    with pytest.raises(ValidationError, match="more than 0"):
        refund(platform, paid.id_trans, eur("0"))


def test_a_refund_in_another_currency_is_refused(platform: Platform, paid: Transaction) -> None:
    with pytest.raises(ValidationError, match="is in CHF"):
        refund(platform, paid.id_trans, Money(Decimal("1"), "CHF"))


@pytest.mark.parametrize(
    "values",
    [{"status": TxStatus.REFUSED.value}, {"status": TxStatus.PENDING.value}, {"kind": TxKind.REFUND.value}],
    ids=["refused", "pending", "a-refund"],
)
@pytest.mark.usefixtures("account")
def test_only_accepted_payments_can_be_refunded(platform: Platform, values: dict[str, str]) -> None:
    tx = add_transaction(platform, **values)

    with pytest.raises(ValidationError, match="only an accepted payment or subscription debit"):
        refund(platform, tx.id_trans, eur("1.00"))


def test_an_unknown_transaction_is_not_found(platform: Platform) -> None:
    with pytest.raises(NotFound):
        refund(platform, "nope")


def test_a_delayed_refund_reaches_the_shop_only_when_due(
    platform: Platform, paid: Transaction, shop: ShopServer, base_clock: FrozenClock
) -> None:
    with platform.db.transaction() as session:
        parent = session.get(Transaction, paid.id)
        assert parent is not None
        made = create_refund(platform, session, parent, eur("2.07"), delay=30.0)

    assert deliver_due(platform) == 0
    base_clock.advance(timedelta(seconds=30))
    assert deliver_due(platform) == 1

    assert shop.posts() == [deliveries(platform, made.id)[0].fields]
    assert shop.posts()[0]["mode"] == "r"


def test_a_refund_is_mailed_to_the_merchant(platform: Platform, paid: Transaction) -> None:
    made = refund(platform, paid.id_trans, eur("0.50"))

    [sent] = [m for m in mails(platform) if m.kind == "refund"]
    assert sent.to == "merchant@shop.test"
    assert sent.subject == f"[TEST] REMBOURSEMENT / refund {made.id_trans} ({paid.id_trans})"
    assert "Reste remboursable / still refundable: 1.57 EUR" in sent.body


def test_a_subscription_debit_refund_carries_no_num_abo(platform: Platform, account: Account) -> None:
    debit = add_transaction(platform, kind=TxKind.DEBIT.value, url_confirm="http://shop.test/confirm")

    made = refund(platform, debit.id_trans)

    assert "num_abo" not in deliveries(platform, made.id)[0].fields


# ---------------------------------------------------------------- the console's refund form


@pytest.fixture
def browser(platform: Platform) -> FlaskClient:
    return csrf_app(platform).test_client()


def test_console_refunds_in_full_when_the_amount_is_empty(
    platform: Platform, paid: Transaction, browser: FlaskClient
) -> None:
    page = f"/console/transactions/{paid.id_trans}"

    answer = browser.post(f"{page}/refund", data={"amount": "", "csrf_token": csrf_token(browser, page)})

    assert answer.status_code == 302
    [made] = transactions(platform, kind=TxKind.REFUND.value)
    assert made.amount == eur("2.07")
    assert deliveries(platform, made.id)[0].fields["mode"] == "r"


def test_console_refunds_part_with_a_decimal_comma(
    platform: Platform, paid: Transaction, browser: FlaskClient
) -> None:
    page = f"/console/transactions/{paid.id_trans}"

    answer = browser.post(f"{page}/refund", data={"amount": "0,70", "csrf_token": csrf_token(browser, page)})

    assert answer.status_code == 302
    assert [t.amount for t in transactions(platform, kind=TxKind.REFUND.value)] == [eur("0.70")]
    assert "€1.37" in browser.get(f"{page}?lang=en").get_data(as_text=True)


def test_console_shows_why_an_over_refund_is_refused(
    platform: Platform, paid: Transaction, browser: FlaskClient
) -> None:
    page = f"/console/transactions/{paid.id_trans}"

    answer = browser.post(f"{page}/refund", data={"amount": "5.00", "csrf_token": csrf_token(browser, page)})

    assert answer.status_code == 400
    assert "more than what remains refundable" in answer.get_data(as_text=True)
    assert transactions(platform, kind=TxKind.REFUND.value) == []


def test_console_refund_needs_the_csrf_token(
    platform: Platform, paid: Transaction, browser: FlaskClient
) -> None:
    answer = browser.post(f"/console/transactions/{paid.id_trans}/refund", data={"amount": "1.00"})

    assert answer.status_code == 400
    assert transactions(platform, kind=TxKind.REFUND.value) == []


def test_console_offers_no_refund_once_all_is_refunded(
    platform: Platform, paid: Transaction, browser: FlaskClient
) -> None:
    refund(platform, paid.id_trans)

    page = browser.get(f"/console/transactions/{paid.id_trans}?lang=en").get_data(as_text=True)

    assert "/refund" not in page
