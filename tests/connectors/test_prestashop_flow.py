"""The whole pipeline with the PrestaShop connector, over real HTTP: the shop's pay link with
the order's secure_key, the sandbox's card step, the confirmation, the outbox worker, and the
exact requests the (fake) PrestaShop webservice receives."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import requests

from connectors.prestashop.connector import PrestaShopConnector
from hub.testing.shop_double import ShopDouble
from hub.testing.stack import Stack, live_stack, pay_with_card
from sandbox.cards import TEST_CARDS, Scenario
from sandbox.delivery import deliver_due
from tests.connectors.prestashop_shop import BASE, EXAMPLES, KEY, SECURE_KEY, FakePrestaShop

pytestmark = pytest.mark.slow

CARD = {card.scenario: card for card in reversed(TEST_CARDS)}


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Stack, FakePrestaShop]]:
    settings = {"base_url": BASE, "webservice_key": KEY}
    with live_stack(tmp_path, connector=PrestaShopConnector, settings=settings) as stack:
        fake = FakePrestaShop()
        double = ShopDouble(BASE, EXAMPLES)
        fake.install(double)
        # The buyer's browser and the platform's confirmation reach the real servers.
        double.pass_through(stack.hub_url)
        double.pass_through(stack.sandbox_url)
        fake.add_awaiting_order()
        with double.running():
            yield stack, fake


def written(fake: FakePrestaShop) -> list[tuple[str, str]]:
    return [(c.method, c.path) for c in fake.calls if c.method != "GET"]


PAID_WRITES = [
    ("POST", "/api/order_histories"),
    ("PUT", "/api/order_payments/1"),
    ("POST", "/api/customer_threads"),
    ("POST", "/api/customer_messages"),
]


def test_a_card_payment_marks_the_prestashop_order_paid_once_with_its_transaction(
    served: tuple[Stack, FakePrestaShop],
) -> None:
    stack, fake = served

    back = pay_with_card(stack, stack.pay_url("42", SECURE_KEY), CARD[Scenario.ACCEPTED])

    assert back.url.startswith(f"{stack.hub_url}/return/demo/")
    assert stack.run_worker() == ["done"]
    assert stack.run_worker() == []
    id_trans = stack.payment("42").id_trans
    assert id_trans
    assert written(fake) == PAID_WRITES
    assert fake.state("42") == "2"
    assert [p.findtext("transaction_id") for p in fake.payments("42")] == [id_trans]
    (note,) = fake.notes("42")
    assert id_trans in note and "36.60 EUR" in note


def test_a_confirmation_delivered_twice_reaches_the_shop_once(served: tuple[Stack, FakePrestaShop]) -> None:
    stack, fake = served

    pay_with_card(stack, stack.pay_url("42", SECURE_KEY), CARD[Scenario.CONFIRM_TWICE])
    stack.run_worker()
    stack.run_worker()

    assert written(fake) == PAID_WRITES
    assert len(fake.notes("42")) == 1


def test_a_refund_after_the_payment_moves_the_order_to_refunded(served: tuple[Stack, FakePrestaShop]) -> None:
    stack, fake = served

    pay_with_card(stack, stack.pay_url("42", SECURE_KEY), CARD[Scenario.REFUND_LATER])
    stack.run_worker()
    stack.sandbox_clock.advance(timedelta(days=2))
    deliver_due(stack.platform)
    stack.run_worker()

    assert written(fake) == [
        *PAID_WRITES,
        ("POST", "/api/order_histories"),
        ("POST", "/api/customer_messages"),
    ]
    assert fake.state("42") == "7"
    assert len(fake.payments("42")) == 1
    assert len(fake.notes("42")) == 2


def test_a_pay_link_without_the_secure_key_starts_nothing(served: tuple[Stack, FakePrestaShop]) -> None:
    stack, fake = served

    answer = requests.get(stack.pay_url("42", "not-the-key"), timeout=10)

    assert answer.status_code == 404
    assert written(fake) == []
