"""The whole pipeline with a Shopware 6 shop: the pay link with the order's deep link code,
the platform's confirmations (repeated, out of order, refunds), the outbox, and the
exact requests Shopware receives; a shop outage, a token expiring between two
payments. Then the same over real HTTP, with the sandbox platform and a test card."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from bluepaid_plugins.domain import Customer, LineItem, OrderStatus
from bluepaid_plugins.money import Money
from bluepaid_plugins.testing import Confirmations
from connectors.shopware6 import ShopwareConnector
from hub.models import TaskState
from hub.tasks import APPLY_EVENT
from hub.testing.conformance import GivenOrder
from hub.testing.kit import Kit
from hub.testing.shop_double import ShopDouble
from hub.testing.stack import live_stack, pay_with_card
from sandbox.cards import TEST_CARDS, Scenario
from tests.connectors.shopware_shop import API, BASE_URL, SETTINGS, ShopwareShop

REF = "10077"
CARD = {card.scenario: card for card in TEST_CARDS}
TOKEN = f"{API}/oauth/token"


def place(shop: ShopwareShop, status: OrderStatus = OrderStatus.OPEN) -> str:
    items = (LineItem("T-shirt", 2, Decimal("12.50")), LineItem("Mug", 1, Decimal("11.60")))
    customer = Customer("ada@example.com", "Ada", "Lovelace", "FRA")
    return shop.add(GivenOrder(REF, Money.parse("36.60", "EUR"), status, customer, items))


@pytest.fixture
def shopware(bluepaid_make_kit: Any) -> tuple[Kit, ShopwareShop]:
    shops: list[ShopwareShop] = []
    kit: Kit = bluepaid_make_kit(
        ShopwareConnector,
        settings=SETTINGS,
        shop_url=BASE_URL,
        install=lambda api: shops.append(ShopwareShop(api)),
    )
    return kit, shops[0]


def writes(kit: Kit) -> list[tuple[str, str]]:
    """The writes Shopware received, as (method, what): the action name or "note"."""
    assert kit.api is not None
    return [
        (call.method, call.path.rsplit("/", 1)[1] if "/_action/" in call.path else "note")
        for call in kit.api.writes
    ]


def confirm(kit: Kit, *messages: dict[str, str]) -> None:
    for message in messages:
        assert kit.driver.post(message).status_code == 200


def run_worker(kit: Kit) -> list[str]:
    states: list[str] = []
    while outcomes := kit.driver.run_worker():
        states += [outcome.state.value for outcome in outcomes]
    return states


def test_a_paid_order_reaches_shopware_once_whatever_the_platform_repeats(
    shopware: tuple[Kit, ShopwareShop],
) -> None:
    kit, shop = shopware
    key = place(shop)
    confirmations = Confirmations(kit.driver.start(REF, key).fields)
    accepted = confirmations.accepted()

    # Twice the same, then a refusal and a cancel arriving late: only the payment counts.
    confirm(kit, accepted, accepted, confirmations.refused(), confirmations.cancelled())
    run_worker(kit)
    run_worker(kit)

    assert writes(kit) == [("POST", "paid"), ("PATCH", "note")]
    assert shop.status(REF) == "paid"
    assert shop.notes(REF) == [f"Bluepaid: paid 36.60 EUR (TEST), transaction {accepted['id_trans']}"]
    assert kit.driver.open_pay(REF, key).status_code == 409


def test_a_refused_card_then_a_paid_retry(shopware: tuple[Kit, ShopwareShop]) -> None:
    kit, shop = shopware
    key = place(shop)
    confirm(kit, Confirmations(kit.driver.start(REF, key).fields).refused())
    run_worker(kit)
    assert shop.status(REF) == "failed"
    # "failed" is payable again; Shopware's state machine has "paid" from failed.
    confirm(kit, Confirmations(kit.driver.start(REF, key).fields).accepted())
    run_worker(kit)

    assert writes(kit) == [
        ("POST", "fail"),
        ("PATCH", "note"),
        ("POST", "paid"),
        ("PATCH", "note"),
    ]
    assert shop.status(REF) == "paid" and len(shop.notes(REF)) == 2


def test_a_partial_then_a_full_refund(shopware: tuple[Kit, ShopwareShop]) -> None:
    kit, shop = shopware
    key = place(shop)
    confirmations = Confirmations(kit.driver.start(REF, key).fields)
    confirm(kit, confirmations.accepted())
    run_worker(kit)
    partial, rest = confirmations.refund("10.00"), confirmations.refund("26.60")
    confirm(kit, partial, partial)
    run_worker(kit)
    assert shop.status(REF) == "refunded_partially"
    confirm(kit, rest)
    run_worker(kit)

    assert writes(kit)[2:] == [
        ("POST", "refund_partially"),
        ("PATCH", "note"),
        ("POST", "refund"),
        ("PATCH", "note"),
    ]
    assert shop.status(REF) == "refunded"
    assert sum(partial["id_trans"] in text for text in shop.notes(REF)) == 1


def test_a_shop_outage_is_retried_until_the_shop_is_back(shopware: tuple[Kit, ShopwareShop]) -> None:
    kit, shop = shopware
    key = place(shop)
    accepted = Confirmations(kit.driver.start(REF, key).fields).accepted()
    assert kit.api is not None
    kit.api.fail_next(
        503,
        json_body={"errors": [{"status": "503", "title": "Service Unavailable", "detail": "Maintenance"}]},
        headers={"Retry-After": "600"},
    )
    confirm(kit, accepted)

    assert run_worker(kit) == [TaskState.PENDING.value]
    [task] = kit.driver.task_rows(APPLY_EVENT)
    assert task.next_attempt_at >= kit.clock() + timedelta(seconds=600)
    assert "Maintenance" in task.last_error and writes(kit) == []
    kit.clock.advance(timedelta(minutes=11))

    assert run_worker(kit) == [TaskState.DONE.value]
    assert writes(kit) == [("POST", "paid"), ("PATCH", "note")]


def test_a_token_is_reused_within_its_ten_minutes_and_renewed_after(
    shopware: tuple[Kit, ShopwareShop],
) -> None:
    kit, shop = shopware
    assert kit.api is not None
    key = place(shop)
    confirmations = Confirmations(kit.driver.start(REF, key).fields)
    confirm(kit, confirmations.accepted())
    run_worker(kit)
    assert len(kit.api.calls_to("POST", TOKEN)) == 1
    kit.clock.advance(timedelta(minutes=10))
    confirm(kit, confirmations.refund("36.60"))
    run_worker(kit)

    assert len(kit.api.calls_to("POST", TOKEN)) == 2
    assert shop.status(REF) == "refunded"


def test_a_transition_shopware_refuses_ends_the_task_for_the_merchant(
    shopware: tuple[Kit, ShopwareShop],
) -> None:
    kit, shop = shopware
    key = place(shop)
    accepted = Confirmations(kit.driver.start(REF, key).fields).accepted()
    # Meanwhile a plugin moved the payment to a state of its own, from which "paid" is no transition.
    shop.transaction(REF)["stateMachineState"]["technicalName"] = "a_plugins_own_state"
    confirm(kit, accepted)

    assert run_worker(kit) == [TaskState.DEAD.value]
    [task] = kit.driver.task_rows(APPLY_EVENT)
    assert 'Illegal transition "paid" from state "a_plugins_own_state"' in task.last_error
    assert writes(kit) == [("POST", "paid")]


# Over real HTTP, with the sandbox


@pytest.fixture
def served(tmp_path: Path) -> Any:
    with live_stack(tmp_path, connector=ShopwareConnector, settings=SETTINGS) as stack:
        api = ShopDouble(BASE_URL)
        shop = ShopwareShop(api)
        api.pass_through(stack.hub_url)
        api.pass_through(stack.sandbox_url)
        with api.running():
            yield stack, api, shop


@pytest.mark.slow
def test_a_test_card_confirmed_twice_marks_the_payment_paid_once(served: Any) -> None:
    stack, api, shop = served
    key = place(shop)

    back = pay_with_card(stack, stack.pay_url(REF, key), CARD[Scenario.CONFIRM_TWICE])

    assert back.url.startswith(f"{stack.hub_url}/return/demo/")
    assert stack.run_worker() == ["done"]
    id_trans = stack.payment(REF).id_trans
    assert [c.path.rsplit("/", 1)[1] for c in api.writes if "/_action/" in c.path] == ["paid"]
    assert shop.status(REF) == "paid"
    assert shop.notes(REF) == [f"Bluepaid: paid 36.60 EUR (TEST), transaction {id_trans}"]
