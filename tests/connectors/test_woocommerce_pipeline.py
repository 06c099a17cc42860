"""The whole pipeline with a WooCommerce shop: the pay link with the order's key, the
platform's confirmations (repeated, out of order, refunds), the outbox, and the exact
requests WooCommerce receives; a shop outage and its recovery. Then the same over
real HTTP, with the sandbox platform and a test card."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import requests

from bluepaid_plugins.domain import Customer, LineItem, OrderStatus
from bluepaid_plugins.money import Money
from bluepaid_plugins.testing import Confirmations
from connectors.woocommerce import WooCommerceConnector
from hub.models import TaskState
from hub.tasks import APPLY_EVENT
from hub.testing.conformance import GivenOrder
from hub.testing.kit import Kit
from hub.testing.shop_double import ShopDouble
from hub.testing.stack import live_stack, pay_with_card
from sandbox.cards import TEST_CARDS, Scenario
from sandbox.delivery import deliver_due
from tests.connectors.woocommerce_shop import API, BASE_URL, SETTINGS, WooShop

REF = "4501"
ORDER = f"{API}/orders/{REF}"
NOTES = f"{ORDER}/notes"
CARD = {card.scenario: card for card in TEST_CARDS}


def place(shop: WooShop, status: OrderStatus = OrderStatus.OPEN, total: str = "36.60") -> str:
    items = (LineItem("T-shirt", 2, Decimal("12.50")), LineItem("Mug", 1, Decimal("11.60")))
    customer = Customer("ada@example.com", "Ada", "Lovelace", "FRA")
    return shop.add(GivenOrder(REF, Money.parse(total, "EUR"), status, customer, items))


@pytest.fixture
def woo(bluepaid_make_kit: Any) -> tuple[Kit, WooShop]:
    shops: list[WooShop] = []
    kit: Kit = bluepaid_make_kit(
        WooCommerceConnector,
        settings=SETTINGS,
        shop_url=BASE_URL,
        install=lambda api: shops.append(WooShop(api)),
    )
    return kit, shops[0]


def writes(kit: Kit) -> list[tuple[str, str, Any]]:
    assert kit.api is not None
    return [(call.method, call.path, call.json()) for call in kit.api.writes]


def confirm(kit: Kit, *messages: dict[str, str]) -> None:
    for message in messages:
        assert kit.driver.post(message).status_code == 200


def run_worker(kit: Kit) -> list[str]:
    """Run the outbox until nothing is due; the states of the tasks it ran."""
    states: list[str] = []
    while outcomes := kit.driver.run_worker():
        states += [outcome.state.value for outcome in outcomes]
    return states


def note(kind: str, amount: str, id_trans: str, test: bool = True) -> dict[str, str]:
    mark = " (TEST)" if test else ""
    return {"note": f"Bluepaid: {kind} {amount} EUR{mark}, transaction {id_trans}"}


def test_a_paid_order_reaches_woocommerce_once_whatever_the_platform_repeats(
    woo: tuple[Kit, WooShop],
) -> None:
    kit, shop = woo
    key = place(shop)
    confirmations = Confirmations(kit.driver.start(REF, key).fields)
    accepted = confirmations.accepted()

    # Twice the same, then a refusal and a cancel arriving late: only the payment counts.
    confirm(kit, accepted, accepted, confirmations.refused(), confirmations.cancelled())
    run_worker(kit)
    run_worker(kit)

    assert writes(kit) == [
        ("PUT", ORDER, {"set_paid": True, "transaction_id": accepted["id_trans"]}),
        ("POST", NOTES, note("paid", "36.60", accepted["id_trans"])),
    ]
    assert shop.status(REF) == "processing"
    assert kit.driver.open_pay(REF, key).status_code == 409


def test_a_refused_card_then_a_paid_retry(woo: tuple[Kit, WooShop]) -> None:
    kit, shop = woo
    key = place(shop)
    refused = Confirmations(kit.driver.start(REF, key).fields).refused()
    confirm(kit, refused)
    run_worker(kit)
    assert shop.status(REF) == "failed"
    # "failed" is payable again: the buyer tries another card, as a new payment.
    accepted = Confirmations(kit.driver.start(REF, key).fields).accepted()
    confirm(kit, accepted)
    run_worker(kit)

    assert writes(kit) == [
        ("PUT", ORDER, {"status": "failed"}),
        ("POST", NOTES, note("refused", "36.60", refused["id_trans"])),
        ("PUT", ORDER, {"set_paid": True, "transaction_id": accepted["id_trans"]}),
        ("POST", NOTES, note("paid", "36.60", accepted["id_trans"])),
    ]
    assert shop.status(REF) == "processing"


def test_a_partial_then_a_full_refund(woo: tuple[Kit, WooShop]) -> None:
    kit, shop = woo
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

    refunds = [
        (path, body["amount"], body["api_refund"]) for _, path, body in writes(kit) if "refunds" in path
    ]
    assert refunds == [(f"{ORDER}/refunds", "10.00", False), (f"{ORDER}/refunds", "26.60", False)]
    # The refund of a test payment is a test refund: its note says so, as the payment's did.
    assert writes(kit)[-1] == ("POST", NOTES, note("refunded", "26.60", rest["id_trans"], test=True))
    assert not any(body.get("status") for _, _, body in writes(kit))
    assert shop.status(REF) == "refunded"
    assert sum(partial["id_trans"] in text for text in shop.note_texts(REF)) == 1


def test_a_shop_outage_is_retried_until_the_shop_is_back(woo: tuple[Kit, WooShop]) -> None:
    kit, shop = woo
    key = place(shop)
    accepted = Confirmations(kit.driver.start(REF, key).fields).accepted()
    assert kit.api is not None
    kit.api.fail_next(
        503, json_body={"code": "down", "message": "Maintenance"}, headers={"Retry-After": "600"}
    )
    confirm(kit, accepted)

    assert run_worker(kit) == [TaskState.PENDING.value]
    [task] = kit.driver.task_rows(APPLY_EVENT)
    # WooCommerce asked for ten minutes: not sooner.
    assert task.next_attempt_at >= kit.clock() + timedelta(seconds=600)
    assert "Maintenance" in task.last_error and writes(kit) == []
    kit.clock.advance(timedelta(minutes=11))

    assert run_worker(kit) == [TaskState.DONE.value]
    assert [method for method, _, _ in writes(kit)] == ["PUT", "POST"]


def test_a_note_lost_half_way_is_written_on_the_retry_and_nothing_else(woo: tuple[Kit, WooShop]) -> None:
    kit, shop = woo
    key = place(shop)
    accepted = Confirmations(kit.driver.start(REF, key).fields).accepted()
    shop.fail_at("POST", NOTES, requests.exceptions.ReadTimeout("no answer"))
    confirm(kit, accepted)

    assert run_worker(kit) == [TaskState.PENDING.value]
    kit.clock.advance(timedelta(hours=1))
    assert run_worker(kit) == [TaskState.DONE.value]

    assert [(method, path) for method, path, _ in writes(kit)] == [
        ("PUT", ORDER),
        ("POST", NOTES),
        ("POST", NOTES),
    ]
    assert sum(accepted["id_trans"] in text for text in shop.note_texts(REF)) == 1


def test_an_order_deleted_in_the_shop_ends_the_task_for_the_merchant(woo: tuple[Kit, WooShop]) -> None:
    kit, shop = woo
    key = place(shop)
    accepted = Confirmations(kit.driver.start(REF, key).fields).accepted()
    assert kit.api is not None
    del kit.api.orders[REF]
    confirm(kit, accepted)

    assert run_worker(kit) == [TaskState.DEAD.value]
    [task] = kit.driver.task_rows(APPLY_EVENT)
    assert "Invalid ID." in task.last_error


# Over real HTTP, with the sandbox


@pytest.fixture
def served(tmp_path: Path) -> Any:
    with live_stack(tmp_path, connector=WooCommerceConnector, settings=SETTINGS) as stack:
        api = ShopDouble(BASE_URL)
        shop = WooShop(api)
        # The buyer's browser, the platform's confirmation and the hub's pages are real HTTP.
        api.pass_through(stack.hub_url)
        api.pass_through(stack.sandbox_url)
        with api.running():
            yield stack, api, shop


@pytest.mark.slow
def test_a_test_card_confirmed_twice_marks_the_order_paid_once(served: Any) -> None:
    stack, api, shop = served
    key = place(shop)

    back = pay_with_card(stack, stack.pay_url(REF, key), CARD[Scenario.CONFIRM_TWICE])

    assert back.url.startswith(f"{stack.hub_url}/return/demo/")
    assert stack.run_worker() == ["done"]
    id_trans = stack.payment(REF).id_trans
    assert [(c.method, c.path, c.json()) for c in api.writes] == [
        ("PUT", ORDER, {"set_paid": True, "transaction_id": id_trans}),
        ("POST", NOTES, note("paid", "36.60", id_trans)),
    ]
    assert shop.status(REF) == "processing"


@pytest.mark.slow
def test_a_payment_refunded_at_the_platform_is_refunded_in_woocommerce(served: Any) -> None:
    stack, api, shop = served
    key = place(shop)
    pay_with_card(stack, stack.pay_url(REF, key), CARD[Scenario.REFUND_LATER])
    stack.sandbox_clock.advance(timedelta(seconds=stack.platform.config.refund_delay + 1))
    deliver_due(stack.platform)

    assert stack.run_worker() == ["done", "done"]
    assert [(c.method, c.path) for c in api.writes] == [
        ("PUT", ORDER),
        ("POST", NOTES),
        ("POST", f"{ORDER}/refunds"),
        ("POST", NOTES),
    ]
    assert shop.status(REF) == "refunded"
    assert api.writes[2].json()["amount"] == "36.60" and api.writes[2].json()["api_refund"] is False
