"""The whole pipeline with a Magento 2 store: the pay link with the order's protect code,
the platform's confirmations (repeated, out of order, refunds), the outbox, and the
exact requests Magento receives; a store outage, an admin token expiring between two
events. Then the same over real HTTP, with the sandbox platform and a test card."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from bluepaid_plugins.domain import Customer, LineItem, OrderStatus
from bluepaid_plugins.money import Money
from bluepaid_plugins.testing import Confirmations
from connectors.magento2 import MagentoConnector
from hub.models import TaskState
from hub.tasks import APPLY_EVENT
from hub.testing.conformance import GivenOrder
from hub.testing.kit import Kit
from hub.testing.shop_double import ShopDouble
from hub.testing.stack import live_stack, pay_with_card
from sandbox.cards import TEST_CARDS, Scenario
from tests.connectors.magento_shop import ADMIN_SETTINGS, API, BASE_URL, MagentoShop

REF = "4701"
CARD = {card.scenario: card for card in TEST_CARDS}
TOKEN = f"{API}/integration/admin/token"


def place(shop: MagentoShop) -> str:
    items = (LineItem("T-shirt", 2, Decimal("12.50")), LineItem("Mug", 1, Decimal("11.60")))
    customer = Customer("ada@example.com", "Ada", "Lovelace", "FRA")
    return shop.add(GivenOrder(REF, Money.parse("36.60", "EUR"), OrderStatus.OPEN, customer, items))


@pytest.fixture
def magento(bluepaid_make_kit: Any) -> tuple[Kit, MagentoShop]:
    shops: list[MagentoShop] = []
    kit: Kit = bluepaid_make_kit(
        MagentoConnector,
        settings=ADMIN_SETTINGS,
        shop_url=BASE_URL,
        install=lambda api: shops.append(MagentoShop(api)),
    )
    return kit, shops[0]


def writes(kit: Kit) -> list[str]:
    """The writes Magento received, by the last part of their path (invoice, refund, comments...)."""
    assert kit.api is not None
    return [call.path.rsplit("/", 1)[1] for call in kit.api.writes]


def confirm(kit: Kit, *messages: dict[str, str]) -> None:
    for message in messages:
        assert kit.driver.post(message).status_code == 200


def run_worker(kit: Kit) -> list[str]:
    states: list[str] = []
    while outcomes := kit.driver.run_worker():
        states += [outcome.state.value for outcome in outcomes]
    return states


def test_a_paid_order_is_invoiced_once_whatever_the_platform_repeats(
    magento: tuple[Kit, MagentoShop],
) -> None:
    kit, shop = magento
    key = place(shop)
    confirmations = Confirmations(kit.driver.start(REF, key).fields)
    accepted = confirmations.accepted()

    confirm(kit, accepted, accepted, confirmations.refused(), confirmations.cancelled())
    run_worker(kit)
    run_worker(kit)

    assert writes(kit) == ["invoice", "comments"]
    assert shop.invoices == [{"capture": False, "notify": False}]
    assert shop.status(REF) == "processing"
    assert shop.comments(REF) == [f"Bluepaid: paid 36.60 EUR (TEST), transaction {accepted['id_trans']}"]
    assert kit.driver.open_pay(REF, key).status_code == 409


def test_a_refused_card_then_a_paid_retry(magento: tuple[Kit, MagentoShop]) -> None:
    kit, shop = magento
    key = place(shop)
    confirm(kit, Confirmations(kit.driver.start(REF, key).fields).refused())
    run_worker(kit)
    # No "failed" in Magento: a comment, and the order stays payable.
    assert shop.status(REF) == "pending"
    confirm(kit, Confirmations(kit.driver.start(REF, key).fields).accepted())
    run_worker(kit)

    assert writes(kit) == ["comments", "invoice", "comments"]
    assert shop.status(REF) == "processing"


def test_a_partial_then_a_full_refund_are_offline_credit_memos(magento: tuple[Kit, MagentoShop]) -> None:
    kit, shop = magento
    key = place(shop)
    confirmations = Confirmations(kit.driver.start(REF, key).fields)
    confirm(kit, confirmations.accepted())
    run_worker(kit)
    partial, rest = confirmations.refund("10.00"), confirmations.refund("26.60")
    confirm(kit, partial, partial)
    run_worker(kit)
    assert shop.status(REF) == "processing"
    confirm(kit, rest)
    run_worker(kit)

    assert writes(kit)[2:] == ["refund", "comments", "refund", "comments"]
    assert [memo["arguments"]["adjustment_positive"] for memo in shop.credit_memos] == [10.0, 26.6]
    assert shop.status(REF) == "closed"


def test_a_store_outage_is_retried_until_the_store_is_back(magento: tuple[Kit, MagentoShop]) -> None:
    kit, shop = magento
    key = place(shop)
    accepted = Confirmations(kit.driver.start(REF, key).fields).accepted()
    assert kit.api is not None
    kit.api.fail_next(503, json_body={"message": "Service Unavailable"}, headers={"Retry-After": "600"})
    confirm(kit, accepted)

    assert run_worker(kit) == [TaskState.PENDING.value]
    [task] = kit.driver.task_rows(APPLY_EVENT)
    assert task.next_attempt_at >= kit.clock() + timedelta(seconds=600)
    assert "Service Unavailable" in task.last_error and writes(kit) == []
    kit.clock.advance(timedelta(minutes=11))

    assert run_worker(kit) == [TaskState.DONE.value]
    assert writes(kit) == ["invoice", "comments"]


def test_an_admin_token_lasts_four_hours_then_is_renewed(magento: tuple[Kit, MagentoShop]) -> None:
    kit, shop = magento
    assert kit.api is not None
    key = place(shop)
    confirmations = Confirmations(kit.driver.start(REF, key).fields)
    confirm(kit, confirmations.accepted())
    run_worker(kit)
    kit.clock.advance(timedelta(hours=3))
    confirm(kit, confirmations.refund("10.00"))
    run_worker(kit)
    assert len(kit.api.calls_to("POST", TOKEN)) == 1
    kit.clock.advance(timedelta(hours=1))
    confirm(kit, confirmations.refund("26.60"))
    run_worker(kit)

    assert len(kit.api.calls_to("POST", TOKEN)) == 2
    assert shop.status(REF) == "closed"


# Over real HTTP, with the sandbox


@pytest.fixture
def served(tmp_path: Path) -> Any:
    with live_stack(tmp_path, connector=MagentoConnector, settings=ADMIN_SETTINGS) as stack:
        api = ShopDouble(BASE_URL)
        shop = MagentoShop(api)
        api.pass_through(stack.hub_url)
        api.pass_through(stack.sandbox_url)
        with api.running():
            yield stack, api, shop


@pytest.mark.slow
def test_a_test_card_confirmed_twice_invoices_the_order_once(served: Any) -> None:
    stack, api, shop = served
    key = place(shop)

    back = pay_with_card(stack, stack.pay_url(REF, key), CARD[Scenario.CONFIRM_TWICE])

    assert back.url.startswith(f"{stack.hub_url}/return/demo/")
    assert stack.run_worker() == ["done"]
    id_trans = stack.payment(REF).id_trans
    assert [c.path.rsplit("/", 1)[1] for c in api.writes] == ["invoice", "comments"]
    assert shop.comments(REF) == [f"Bluepaid: paid 36.60 EUR (TEST), transaction {id_trans}"]
