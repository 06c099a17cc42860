"""A plugin's own bug is kept apart: the buyer sees the hub's page, the merchant the
traceback, and a task that would fail the same way again is not retried."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bluepaid_plugins import PaymentEvent, hookimpl
from bluepaid_plugins.errors import ShopUnavailable
from hub.tasks import APPLY_EVENT, EVENT_HOOKS
from tests.conftest import FrozenClock
from tests.hub.conftest import MakeDriver
from tests.hub.contract_connectors import ORDER_KEY, OrderBook, book_driver, book_shop, error_logs, paid

PLUGIN = "kit-BookShop"


# While the buyer waits


@pytest.mark.parametrize(
    ("language", "headline"), [("en", "Something went wrong."), ("fr", "Une erreur est survenue.")]
)
def test_a_bug_in_fetch_order_gives_the_buyer_the_hubs_error_page(
    make_driver: MakeDriver, language: str, headline: str
) -> None:
    book = OrderBook()
    driver = book_driver(make_driver, book_shop(book))
    ref = book.add()
    book.fail("fetch_order", KeyError("total"))

    response = driver.open_pay(ref, ORDER_KEY, language=language)

    assert response.status_code == 500
    assert headline in response.text
    assert "KeyError" not in response.text
    assert driver.payments_of(ref) == []


@pytest.mark.parametrize(
    ("language", "headline"),
    [
        ("en", "The shop is not answering right now. Please try again in a few minutes."),
        ("fr", "La boutique ne répond pas pour le moment. Réessayez dans quelques minutes."),
    ],
)
def test_a_network_failure_in_fetch_order_tells_the_buyer_to_try_again(
    make_driver: MakeDriver, language: str, headline: str
) -> None:
    book = OrderBook()
    driver = book_driver(make_driver, book_shop(book))
    ref = book.add()
    book.fail("fetch_order", ConnectionError("connection reset by the shop"))

    response = driver.open_pay(ref, ORDER_KEY, language=language)

    assert response.status_code == 503
    assert headline in response.text
    assert driver.payments_of(ref) == []


def test_a_bug_in_fetch_order_is_logged_with_the_plugin_and_the_traceback(
    make_driver: MakeDriver, caplog: pytest.LogCaptureFixture
) -> None:
    book = OrderBook()
    driver = book_driver(make_driver, book_shop(book))
    ref = book.add()
    book.fail("fetch_order", KeyError("total"))

    driver.open_pay(ref, ORDER_KEY)

    (logged,) = error_logs(caplog)
    assert f"plugin '{PLUGIN}' failed in fetch_order: KeyError: 'total'" in logged
    assert "Traceback (most recent call last)" in logged
    assert "in raise_next" in logged


# In the outbox


def test_a_bug_in_apply_event_kills_the_task_at_once_with_its_traceback(make_driver: MakeDriver) -> None:
    book = OrderBook()
    driver = book_driver(make_driver, book_shop(book))
    book.fail("apply_event", KeyError("status"))
    paid(driver, book.add())

    (outcome,) = driver.run_worker()

    (task,) = driver.task_rows(APPLY_EVENT)
    assert (outcome.state.value, task.state, task.attempts) == ("dead", "dead", 1)
    assert task.last_error == f"plugin '{PLUGIN}' failed in apply_event: KeyError: 'status'"
    assert task.detail.startswith("Traceback (most recent call last)")
    assert "in apply_event" in task.detail
    assert task.detail.rstrip().endswith("KeyError: 'status'")


@pytest.mark.parametrize(
    "error", [ConnectionError("connection reset by the shop"), OSError("network is unreachable")]
)
def test_a_network_failure_in_apply_event_is_retried(
    make_driver: MakeDriver, clock: FrozenClock, error: OSError
) -> None:
    book = OrderBook()
    driver = book_driver(make_driver, book_shop(book))
    book.fail("apply_event", error)
    paid(driver, book.add())

    driver.run_worker()
    (waiting,) = driver.task_rows(APPLY_EVENT)
    clock.advance(timedelta(hours=1))
    driver.run_worker()

    (task,) = driver.task_rows(APPLY_EVENT)
    assert (waiting.state, waiting.last_error, waiting.detail) == (
        "pending",
        f"{type(error).__name__}: {error}",
        "",
    )
    assert waiting.next_attempt_at > waiting.created_at
    assert (task.state, task.attempts) == ("done", 2)


def test_a_shop_asking_to_wait_is_not_tried_again_sooner(make_driver: MakeDriver, clock: FrozenClock) -> None:
    book = OrderBook()
    driver = book_driver(make_driver, book_shop(book))
    book.fail("apply_event", ShopUnavailable("Book shop answered 429; will retry", retry_after=600))
    paid(driver, book.add())
    failed_at = clock()
    driver.run_worker()
    (waiting,) = driver.task_rows(APPLY_EVENT)

    clock.advance(timedelta(seconds=599))
    too_soon = driver.run_worker()
    clock.advance(timedelta(seconds=1))
    in_time = driver.run_worker()

    assert waiting.next_attempt_at == failed_at + timedelta(seconds=600)
    assert too_soon == []
    assert [outcome.state.value for outcome in in_time] == ["done"]


class BrokenAccounting:
    """An accounting plugin with a bug."""

    __name__ = "broken_accounting"

    @hookimpl
    def bluepaid_payment_event(self, event: PaymentEvent) -> None:
        raise KeyError("accounting_code")


def test_a_bug_in_a_payment_event_hook_kills_its_task_and_no_other(make_driver: MakeDriver) -> None:
    book = OrderBook()
    driver = book_driver(make_driver, book_shop(book), BrokenAccounting())
    paid(driver, book.add())

    driver.run_worker()

    (hooks,) = driver.task_rows(EVENT_HOOKS)
    assert (hooks.state, hooks.attempts) == ("dead", 1)
    assert hooks.last_error.startswith(
        "plugin 'broken_accounting' failed in bluepaid_payment_event: KeyError"
    )
    assert "Traceback (most recent call last)" in hooks.detail
    assert [task.state for task in driver.task_rows(APPLY_EVENT)] == ["done"]
