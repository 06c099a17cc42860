"""What an accepted confirmation sets off: plugin hooks, one task each (the
merchant's mail, a built-in plugin, is tested in tests/hub/test_merchant_mail.py)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bluepaid_plugins import PaymentEvent, PaymentView, ShopView, hookimpl
from hub.models import OutboxTask
from hub.tasks import EVENT_HOOKS
from tests.conftest import FrozenClock
from tests.hub.conftest import HubDriver, MakeDriver


class Recorder:
    """A plugin that keeps every event it is told about."""

    __name__ = "recorder"

    def __init__(self) -> None:
        self.calls: list[tuple[ShopView, PaymentView, PaymentEvent]] = []

    @hookimpl
    def bluepaid_payment_event(self, shop: ShopView, payment: PaymentView, event: PaymentEvent) -> None:
        self.calls.append((shop, payment, event))


class FailsOnce:
    """A plugin whose first call fails (a chat service down, say)."""

    __name__ = "fails_once"

    def __init__(self) -> None:
        self.calls = 0

    @hookimpl
    def bluepaid_payment_event(self, shop: ShopView, payment: PaymentView, event: PaymentEvent) -> None:
        self.calls += 1
        if self.calls == 1:
            raise ConnectionError("chat service down")


def pay(driver: HubDriver) -> str:
    started = driver.start(driver.new_order("36.60"))
    assert driver.post(driver.confirmation(started, id_trans="T42")).status_code == 200
    return started.payment_id


def hook_task_states(driver: HubDriver) -> dict[str, str]:
    with driver.hub.db.transaction() as session:
        tasks = session.scalars(select(OutboxTask).where(OutboxTask.kind == EVENT_HOOKS))
        return {task.payload["plugin"]: task.state for task in tasks}


def test_each_plugin_gets_the_event_once_in_a_task_of_its_own(
    make_driver: MakeDriver, clock: FrozenClock
) -> None:
    recorder, flaky = Recorder(), FailsOnce()
    driver = make_driver(recorder, flaky)
    payment_id = pay(driver)

    driver.run_worker()
    assert hook_task_states(driver) == {"recorder": "done", "fails_once": "pending"}
    clock.advance(timedelta(minutes=1))
    driver.run_worker()

    assert hook_task_states(driver) == {"recorder": "done", "fails_once": "done"}
    assert flaky.calls == 2
    assert len(recorder.calls) == 1
    shop, payment, event = recorder.calls[0]
    assert (shop.slug, payment.id, payment.state) == ("demo", payment_id, "paid")
    assert (event.kind.value, str(event.amount), event.test) == ("paid", "36.60", True)
    assert "T42" in event.note


def test_hook_views_carry_no_secret(make_driver: MakeDriver) -> None:
    recorder = Recorder()
    driver = make_driver(recorder)
    pay(driver)

    driver.run_worker()

    shop = recorder.calls[0][0]
    assert driver.shop.secret not in repr(shop)
    assert driver.shop.confirm_token not in repr(shop)
