"""Stock held at checkout: given back when the payment ends without money, sold once
when it is paid, and never sold twice to buyers at the same moment."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from threading import Barrier

import pytest

from bluepaid_plugins.domain import Order, OrderStatus
from bluepaid_plugins.money import Money
from cart import stock
from tests.cart.conftest import Buyer, MakeBuyer

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
HOLD = timedelta(hours=2)


def statuses(**by_ref: OrderStatus) -> Callable[[str], Order | None]:
    def order_of(ref: str) -> Order | None:
        status = by_ref.get(ref)
        return None if status is None else Order(ref=ref, total=Money.parse("1", "EUR"), status=status)

    return order_of


def hold(buyer: Buyer, sku: str, quantity: int, ref: str, now: datetime = NOW) -> list[int]:
    ids = stock.reserve(buyer.hub.db, "shop", {buyer.product_id(sku): quantity}, now=now, hold_for=HOLD)
    stock.attach(buyer.hub.db, "shop", ids, ref)
    return ids


def test_a_checkout_takes_the_stock_and_a_paid_order_keeps_it_sold(buyer: Buyer) -> None:
    hold(buyer, "TEE", 2, "C1")

    stock.settle(buyer.hub.db, "shop", statuses(C1=OrderStatus.PAID), now=NOW)

    assert buyer.stock("TEE") == 3
    assert buyer.holds() == [("TEE", 2, "sold")]


@pytest.mark.parametrize("status", [OrderStatus.CANCELLED, OrderStatus.EXPIRED])
def test_a_refused_or_cancelled_payment_gives_the_stock_back(buyer: Buyer, status: OrderStatus) -> None:
    hold(buyer, "TEE", 2, "C1")

    stock.settle(buyer.hub.db, "shop", statuses(C1=status), now=NOW)
    stock.settle(buyer.hub.db, "shop", statuses(C1=status), now=NOW)

    assert buyer.stock("TEE") == 5
    assert buyer.holds() == [("TEE", 2, "released")]


def test_an_abandoned_payment_gives_the_stock_back_when_the_hold_ends(buyer: Buyer) -> None:
    hold(buyer, "TEE", 2, "C1")
    waiting = statuses(C1=OrderStatus.OPEN)

    stock.settle(buyer.hub.db, "shop", waiting, now=NOW + HOLD - timedelta(seconds=1))
    assert buyer.stock("TEE") == 3
    stock.settle(buyer.hub.db, "shop", waiting, now=NOW + HOLD)

    assert buyer.stock("TEE") == 5
    assert buyer.holds() == [("TEE", 2, "expired")]


def test_a_payment_after_the_hold_ended_takes_the_stock_again(buyer: Buyer) -> None:
    hold(buyer, "TEE", 2, "C1")
    stock.settle(buyer.hub.db, "shop", statuses(C1=OrderStatus.OPEN), now=NOW + HOLD)

    oversold = stock.settle(buyer.hub.db, "shop", statuses(C1=OrderStatus.PAID), now=NOW + HOLD)

    assert (oversold, buyer.stock("TEE"), buyer.holds()) == ([], 3, [("TEE", 2, "sold")])


def test_a_late_payment_finding_the_stock_gone_is_reported_oversold(buyer: Buyer) -> None:
    hold(buyer, "MUG", 1, "C1")
    stock.settle(buyer.hub.db, "shop", statuses(C1=OrderStatus.OPEN), now=NOW + HOLD)
    hold(buyer, "MUG", 1, "C2", now=NOW + HOLD)

    oversold = stock.settle(
        buyer.hub.db, "shop", statuses(C1=OrderStatus.PAID, C2=OrderStatus.OPEN), now=NOW + HOLD
    )

    assert (oversold, buyer.stock("MUG")) == (["C1"], 0)


def test_a_basket_short_of_stock_holds_nothing(buyer: Buyer) -> None:
    with pytest.raises(stock.OutOfStock) as caught:
        stock.reserve(
            buyer.hub.db,
            "shop",
            {buyer.product_id("TEE"): 2, buyer.product_id("MUG"): 2},
            now=NOW,
            hold_for=HOLD,
        )

    assert [str(problem) for problem in caught.value.problems] == [
        f"product {buyer.product_id('MUG')}: 2 wanted, too few left"
    ]
    assert (buyer.stock("TEE"), buyer.stock("MUG"), buyer.holds()) == (5, 1, [])


def test_a_product_whose_stock_is_not_counted_needs_no_hold(buyer: Buyer) -> None:
    assert stock.reserve(buyer.hub.db, "shop", {buyer.product_id("BOOK"): 50}, now=NOW, hold_for=HOLD) == []


def test_the_last_unit_is_sold_once_to_buyers_at_the_same_moment(
    make_buyer: MakeBuyer, database_url: str
) -> None:
    buyer = make_buyer(database_url)
    mug = buyer.product_id("MUG")
    buyers = 6
    start = Barrier(buyers)

    def try_to_buy(_: int) -> bool:
        start.wait()
        try:
            stock.reserve(buyer.hub.db, "shop", {mug: 1}, now=NOW, hold_for=HOLD)
        except stock.OutOfStock:
            return False
        return True

    with ThreadPoolExecutor(buyers) as pool:
        outcomes = list(pool.map(try_to_buy, range(buyers)))

    assert outcomes.count(True) == 1
    assert buyer.stock("MUG") == 0
    assert buyer.holds() == [("MUG", 1, "held")]


def test_a_hold_settled_by_two_pages_at_once_gives_its_stock_back_once(
    make_buyer: MakeBuyer, database_url: str
) -> None:
    buyer = make_buyer(database_url)
    hold(buyer, "TEE", 2, "C1")
    pages = 4
    start = Barrier(pages)

    def settle(_: int) -> None:
        start.wait()
        stock.settle(buyer.hub.db, "shop", statuses(C1=OrderStatus.CANCELLED), now=NOW)

    with ThreadPoolExecutor(pages) as pool:
        list(pool.map(settle, range(pages)))

    assert buyer.stock("TEE") == 5
