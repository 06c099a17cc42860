"""Money the buyer paid is never silently lost, doubled or misread (issue "Money and secrets")."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from urllib.parse import urlencode, urlsplit

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from bluepaid_plugins.money import Money
from hub.models import InboxMessage, LinkOrder, Payment, PaymentEventRow, Subscription, Verdict
from hub.orders import create_link_order
from hub.pay import Redirect, start_payment
from hub.payments import show_payment
from hub.tasks import APPLY_EVENT, EVENT_HOOKS
from tests.hub.conftest import HubDriver, MakeDriver, Started
from tests.hub.test_effects import Recorder
from tests.hub.test_subscriptions import debit, subscribe


def event_rows(driver: HubDriver, payment_id: str) -> list[PaymentEventRow]:
    payment = driver.payment(payment_id)
    with driver.hub.db.transaction() as session:
        query = select(PaymentEventRow).where(PaymentEventRow.payment_id == payment.id)
        return list(session.scalars(query.order_by(PaymentEventRow.id)))


def refund(driver: HubDriver, started: Started, amount: str, id_trans: str) -> str:
    driver.post(driver.confirmation(started, mode="r", montant=amount, id_trans=id_trans))
    return str(driver.last_inbox().verdict)


# One payment charged twice


def test_a_payment_accepted_again_under_another_transaction_is_flagged_and_told(
    make_driver: MakeDriver,
) -> None:
    recorder = Recorder()
    driver = make_driver(recorder)
    started = driver.start(driver.new_order())
    driver.post(driver.confirmation(started, id_trans="T1"))

    driver.post(driver.confirmation(started, id_trans="T2"))

    assert driver.last_inbox().verdict == Verdict.OVERCHARGED
    payment = driver.payment(started.payment_id)
    assert "charged_twice" in payment.flags
    assert payment.id_trans == "T1"
    assert [row.id_trans for row in event_rows(driver, started.payment_id)] == ["T1", "T2"]
    assert driver.tasks(APPLY_EVENT) == 1  # the shop's order was paid once; nothing more to tell it
    driver.run_worker()
    told = [(event.kind.value, event.id_trans) for _shop, _view, event in recorder.calls]
    assert told == [("paid", "T1"), ("overcharged", "T2")]


def test_the_refund_of_a_second_charge_gives_back_what_was_not_owed_and_leaves_the_order_paid(
    make_driver: MakeDriver,
) -> None:
    recorder = Recorder()
    driver = make_driver(recorder)
    started = driver.start(driver.new_order())
    driver.post(driver.confirmation(started, id_trans="T1"))
    driver.post(driver.confirmation(started, id_trans="T2"))
    tasks = driver.tasks(APPLY_EVENT)

    assert refund(driver, started, "36.60", "R1") == Verdict.ACCEPTED

    payment = driver.payment(started.payment_id)
    assert (payment.state, str(payment.refunded)) == ("paid", "0.00")
    assert driver.tasks(APPLY_EVENT) == tasks  # the shop's order stays paid: it was paid once
    # Once the money not owed is back, a refund is the order's again.
    assert refund(driver, started, "10.00", "R2") == Verdict.ACCEPTED
    assert driver.payment(started.payment_id).state == "partially_refunded"
    assert driver.tasks(APPLY_EVENT) == tasks + 1
    driver.run_worker()
    told = [(event.kind.value, event.id_trans) for _shop, _view, event in recorder.calls]
    assert told[-2:] == [("overcharge_refunded", "R1"), ("partially_refunded", "R2")]


def test_the_same_second_charge_posted_again_is_a_duplicate(driver: HubDriver) -> None:
    started = driver.start(driver.new_order())
    driver.post(driver.confirmation(started, id_trans="T1"))
    driver.post(driver.confirmation(started, id_trans="T2"))

    driver.post(driver.confirmation(started, id_trans="T2"))

    assert driver.last_inbox().verdict == Verdict.DUPLICATE
    assert driver.tasks(EVENT_HOOKS) == 0 and driver.tasks(APPLY_EVENT) == 1


def test_a_second_payment_of_a_paid_order_is_told_to_the_merchant_not_the_shop(
    make_driver: MakeDriver,
) -> None:
    recorder = Recorder()
    driver = make_driver(recorder)
    ref = driver.new_order()
    first = driver.start(ref)
    driver.post(driver.confirmation(first, etat="ko", id_trans="T1"))
    second = driver.start(ref)
    driver.post(driver.confirmation(second, id_trans="T2"))
    tasks = driver.tasks(APPLY_EVENT)

    driver.post(driver.confirmation(first, id_trans="T3"))  # the platform changes its mind

    assert driver.last_inbox().verdict == Verdict.OVERCHARGED
    assert "double_payment" in driver.payment(first.payment_id).flags
    assert driver.tasks(APPLY_EVENT) == tasks  # the order was paid once, by the second payment
    driver.run_worker()
    told = [(event.kind.value, event.id_trans) for _shop, _view, event in recorder.calls]
    assert told == [("refused", "T1"), ("paid", "T2"), ("overcharged", "T3")]


def test_the_refund_of_an_orders_second_payment_is_not_told_to_the_shop(driver: HubDriver) -> None:
    ref = driver.new_order()
    first = driver.start(ref)
    driver.post(driver.confirmation(first, etat="ko", id_trans="T1"))
    second = driver.start(ref)
    driver.post(driver.confirmation(second, id_trans="T2"))
    driver.post(driver.confirmation(first, id_trans="T3"))
    tasks = driver.tasks(APPLY_EVENT)

    assert refund(driver, first, "36.60", "R1") == Verdict.ACCEPTED

    assert driver.payment(first.payment_id).state == "refunded"
    assert driver.tasks(APPLY_EVENT) == tasks  # the shop's order stays paid by the second payment
    assert "refund_not_applied" not in driver.payment(first.payment_id).flags


# Subscriptions: refunds of later debits, debits after the end


def test_a_refund_of_a_later_debit_is_checked_against_every_debit_paid(driver: HubDriver) -> None:
    started = subscribe(driver, occurrences=2)  # 5.00 first, then 9.90 a month
    driver.post(driver.confirmation(started, id_trans="D1", num_abo="A0000000042"))
    assert debit(driver, started, 2) == Verdict.ACCEPTED

    assert refund(driver, started, "9.90", "R1") == Verdict.ACCEPTED
    assert driver.payment(started.payment_id).state == "partially_refunded"
    assert refund(driver, started, "5.00", "R2") == Verdict.ACCEPTED

    payment = driver.payment(started.payment_id)
    assert (payment.state, str(payment.refunded), str(payment.paid)) == ("refunded", "14.90", "14.90")
    assert driver.tasks(APPLY_EVENT) == 4  # first debit, debit 2, two refunds
    assert refund(driver, started, "0.01", "R3") == Verdict.AMOUNT_MISMATCH  # no debit is left to come


def test_a_refund_of_a_debit_not_confirmed_yet_waits_then_is_applied_once(driver: HubDriver) -> None:
    started = subscribe(driver)
    debit(driver, started, 1, montant="5.00")
    assert refund(driver, started, "9.90", "R2") == Verdict.PARKED
    waiting = driver.last_inbox().id

    assert debit(driver, started, 2) == Verdict.ACCEPTED

    payment = driver.payment(started.payment_id)
    assert (payment.state, str(payment.paid), str(payment.refunded)) == (
        "partially_refunded",
        "14.90",
        "9.90",
    )
    kinds = [(task.payload["kind"], task.payload["id_trans"]) for task in driver.task_rows(APPLY_EVENT)]
    assert kinds == [("paid", "D1"), ("paid", "D2"), ("partially_refunded", "R2")]
    with driver.hub.db.transaction() as session:
        parked = session.get(InboxMessage, waiting)
    assert parked is not None and parked.verdict == Verdict.ACCEPTED


def test_a_debit_after_the_end_of_the_subscription_is_refused_and_flagged(driver: HubDriver) -> None:
    started = subscribe(driver, occurrences=2)
    driver.post(driver.confirmation(started, id_trans="D1", num_abo="A0000000042"))
    assert debit(driver, started, 2, fini="oui") == Verdict.ACCEPTED
    tasks = driver.tasks(APPLY_EVENT)

    assert debit(driver, started, 3) == Verdict.OVERCHARGED

    payment = driver.payment(started.payment_id)
    assert "debit_after_end" in payment.flags
    assert str(payment.paid) == "14.90"  # the third debit is not counted as owed money
    assert driver.tasks(APPLY_EVENT) == tasks


def test_the_refund_of_a_debit_after_the_end_leaves_the_subscription_as_it_was(driver: HubDriver) -> None:
    started = subscribe(driver, occurrences=2)
    driver.post(driver.confirmation(started, id_trans="D1", num_abo="A0000000042"))
    assert debit(driver, started, 2, fini="oui") == Verdict.ACCEPTED
    assert debit(driver, started, 3) == Verdict.OVERCHARGED
    tasks = driver.tasks(APPLY_EVENT)

    assert refund(driver, started, "9.90", "R1") == Verdict.ACCEPTED

    payment = driver.payment(started.payment_id)
    assert (payment.state, str(payment.paid), str(payment.refunded)) == ("paid", "14.90", "0.00")
    assert driver.tasks(APPLY_EVENT) == tasks


def test_a_debit_past_the_number_of_occurrences_is_refused_even_without_fini(driver: HubDriver) -> None:
    started = subscribe(driver, occurrences=2)
    driver.post(driver.confirmation(started, id_trans="D1", num_abo="A0000000042"))
    assert debit(driver, started, 2) == Verdict.ACCEPTED

    assert debit(driver, started, 3) == Verdict.OVERCHARGED
    assert "debit_after_end" in driver.payment(started.payment_id).flags


def test_a_debit_that_overtakes_an_earlier_one_is_counted_by_its_number(driver: HubDriver) -> None:
    started = subscribe(driver)
    debit(driver, started, 1, montant="5.00")
    assert debit(driver, started, 3, fini="oui") == Verdict.ACCEPTED

    assert debit(driver, started, 2) == Verdict.ACCEPTED

    payment = driver.payment(started.payment_id)
    assert str(payment.paid) == "24.80"
    assert "debit_after_end" not in payment.flags and "charged_twice" not in payment.flags
    assert show_payment(driver.hub, started.payment_id)["subscription"]["debits_done"] == 3
    told = [task.payload["debit"] for task in driver.task_rows(APPLY_EVENT)]
    assert told == [1, 3, 2]
    assert debit(driver, started, 4) == Verdict.OVERCHARGED  # past the end, whatever the order


def test_the_same_debit_taken_twice_is_flagged_charged_twice(driver: HubDriver) -> None:
    started = subscribe(driver)
    debit(driver, started, 1, montant="5.00")
    debit(driver, started, 2)

    assert debit(driver, started, 2, id_trans="D2-again") == Verdict.OVERCHARGED

    payment = driver.payment(started.payment_id)
    assert "charged_twice" in payment.flags and str(payment.paid) == "14.90"
    assert show_payment(driver.hub, started.payment_id)["subscription"]["debits_done"] == 2


def test_a_later_debit_before_the_first_waits_for_it(driver: HubDriver) -> None:
    started = subscribe(driver)

    assert debit(driver, started, 2) == Verdict.PARKED
    assert debit(driver, started, 1, montant="5.00") == Verdict.ACCEPTED

    assert str(driver.payment(started.payment_id).paid) == "14.90"
    assert [task.payload["debit"] for task in driver.task_rows(APPLY_EVENT)] == [1, 2]


# Messages out of order


def final_state(driver: HubDriver, started: Started, messages: list[dict[str, str]]) -> tuple[str, str, int]:
    for message in messages:
        driver.post(message)
    payment = driver.payment(started.payment_id)
    return payment.state, str(payment.refunded), driver.tasks(APPLY_EVENT)


@pytest.mark.parametrize("refund_first", [False, True])
def test_a_payment_and_its_refund_end_the_same_whatever_comes_first(
    driver: HubDriver, refund_first: bool
) -> None:
    started = driver.start(driver.new_order("36.60"))
    paid = driver.confirmation(started, id_trans="T1")
    refunded = driver.confirmation(started, mode="r", montant="10.00", id_trans="R1")

    messages = [refunded, paid] if refund_first else [paid, refunded]

    assert final_state(driver, started, messages) == ("partially_refunded", "10.00", 2)


@pytest.mark.parametrize(
    "last_number", ["4", ""], ids=["last debit numbered", "last debit with fini only, as the sandbox sends"]
)
def test_a_subscription_ends_the_same_whatever_the_order_its_messages_arrive_in(
    driver: HubDriver, last_number: str
) -> None:
    """Three debits (the last with ``fini=oui``) and a refund of the second, in
    each of the 24 orders of arrival: one end state, each debit told once."""
    ends: dict[tuple[object, ...], list[tuple[str, ...]]] = {}
    for order in itertools.permutations(["debit 1", "debit 2", "debit 3, fini", "refund of debit 2"]):
        started = subscribe(driver)  # 5.00, then 9.90 twice
        for message in order:
            send(driver, started, message, last_number)
        ends.setdefault(subscription_end(driver, started), []).append(order)

    assert list(ends) == [
        (
            "partially_refunded",
            "24.80",
            "9.90",
            ("test",),
            3,
            True,
            (("paid", 1), ("paid", 2), ("paid", 3), ("partially_refunded", 0)),
            ("accepted",) * 4,
        )
    ], ends


def send(driver: HubDriver, started: Started, message: str, last_number: str) -> None:
    if message == "refund of debit 2":
        refund(driver, started, "9.90", "R2")
    elif message == "debit 1":
        debit(driver, started, 1, montant="5.00")
    elif message == "debit 2":
        debit(driver, started, 2)
    else:
        debit(driver, started, 3, fini="oui", num_prochaine_presentation=last_number)


def subscription_end(driver: HubDriver, started: Started) -> tuple[object, ...]:
    """What an arrival order must not change: the payment, its subscription, what
    the shop was told, the verdict each message ended with."""
    payment = driver.payment(started.payment_id)
    with driver.hub.db.transaction() as session:
        subscription = session.scalars(
            select(Subscription).where(Subscription.payment_id == payment.id)
        ).one()
        verdicts = session.scalars(
            select(InboxMessage.verdict)
            .where(InboxMessage.payment_id == payment.id)
            .order_by(InboxMessage.id)
        ).all()
    told = sorted(
        (task.payload["kind"], task.payload["debit"] or 0)
        for task in driver.task_rows(APPLY_EVENT)
        if task.payment_id == payment.id
    )
    return (
        payment.state,
        str(payment.paid),
        str(payment.refunded),
        tuple(sorted(payment.flags)),
        subscription.debits_done,
        subscription.finished,
        tuple(told),
        tuple(str(verdict) for verdict in verdicts),
    )


def test_a_refund_before_its_payment_waits_then_is_applied_once(driver: HubDriver) -> None:
    started = driver.start(driver.new_order("36.60"))
    early = driver.confirmation(started, mode="r", montant="36.60", id_trans="R1")

    driver.post(early)
    assert driver.last_inbox().verdict == Verdict.PARKED
    waiting = driver.last_inbox().id
    driver.post(early)
    assert driver.last_inbox().verdict == Verdict.DUPLICATE
    assert driver.payment(started.payment_id).state == "created"
    driver.post(driver.confirmation(started, id_trans="T1"))

    payment = driver.payment(started.payment_id)
    assert (payment.state, str(payment.refunded)) == ("refunded", "36.60")
    kinds = [(task.payload["kind"], task.payload["id_trans"]) for task in driver.task_rows(APPLY_EVENT)]
    assert kinds == [("paid", "T1"), ("refunded", "R1")]
    with driver.hub.db.transaction() as session:
        parked = session.get(InboxMessage, waiting)
    assert parked is not None and parked.verdict == Verdict.ACCEPTED


def test_an_early_refund_larger_than_the_payment_is_flagged_when_the_payment_comes(driver: HubDriver) -> None:
    started = driver.start(driver.new_order("36.60"))
    driver.post(driver.confirmation(started, mode="r", montant="50.00", id_trans="R1"))

    driver.post(driver.confirmation(started, id_trans="T1"))

    payment = driver.payment(started.payment_id)
    assert (payment.state, str(payment.refunded)) == ("paid", "0.00")
    assert "amount_mismatch" in payment.flags


# Many tabs at once


def test_buyers_tabs_started_at_once_share_one_open_payment(driver: HubDriver) -> None:
    ref = driver.new_order("36.60")
    proof = urlsplit(driver.hub.pay_url(driver.shop, ref)).query.removeprefix("key=")
    tabs = 40
    barrier = threading.Barrier(tabs)
    seen: list[str] = []
    errors: list[BaseException] = []

    def open_tab() -> None:
        try:
            barrier.wait(timeout=30)
            outcome = start_payment(driver.hub, driver.shop.slug, ref, proof)
            assert isinstance(outcome, Redirect)
            seen.append(outcome.payment_id)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=open_tab) for _ in range(tabs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert len(seen) == tabs and len(set(seen)) == 1
    assert len(driver.payments_of(ref)) == 1


def test_an_old_tab_of_an_amount_the_order_came_back_to_can_pay_again(driver: HubDriver) -> None:
    ref = driver.new_order("10.00")
    first = driver.start(ref)
    with driver.hub.db.transaction() as session:
        order = session.scalars(select(LinkOrder).where(LinkOrder.ref == ref)).one()
        order.amount_minor = 2500
    driver.start(ref)
    with driver.hub.db.transaction() as session:
        order = session.scalars(select(LinkOrder).where(LinkOrder.ref == ref)).one()
        order.amount_minor = 1000  # the buyer took the extra item out again

    again = driver.start(ref)
    driver.post(driver.confirmation(again))

    assert again.payment_id == first.payment_id
    assert driver.payment(first.payment_id).state == "paid"


# Bodies


def test_a_body_over_the_limit_is_refused_and_never_read_cut(driver: HubDriver) -> None:
    started = driver.start(driver.new_order())
    body = urlencode(driver.confirmation(started)) + "&padding=" + "x" * 20_000

    response = driver.post(body)

    assert response.status_code == 413
    row = driver.last_inbox()
    assert (row.verdict, row.reason) == (Verdict.REJECTED, "body over 16384 bytes: refused, not read")
    assert driver.payment(started.payment_id).state == "created"


def latin1(fields: dict[str, str]) -> bytes:
    """The form as an old PHP platform writes it: Latin-1 bytes, not percent-encoded."""
    return "&".join(f"{k}={v}" for k, v in fields.items()).encode("iso-8859-1")


def latin1_percent(fields: dict[str, str]) -> bytes:
    return urlencode(fields, encoding="iso-8859-1").encode("ascii")


@pytest.mark.parametrize(
    ("encode", "content_type"),
    [
        (latin1, "application/x-www-form-urlencoded"),
        (latin1_percent, "application/x-www-form-urlencoded"),
        (latin1, "application/x-www-form-urlencoded; charset=ISO-8859-1"),
        (lambda fields: urlencode(fields).encode(), "application/x-www-form-urlencoded; charset=utf-8"),
    ],
    ids=["raw latin-1", "percent-encoded latin-1", "declared latin-1", "declared utf-8"],
)
def test_a_body_in_latin_1_is_read_as_the_platform_wrote_it(
    driver: HubDriver, encode: Callable[[dict[str, str]], bytes], content_type: str
) -> None:
    order = create_link_order(
        driver.hub.db, driver.shop, Money.parse("36.60", "EUR"), now=driver.hub.clock(), ref="CMD-é1"
    )
    started = driver.start(order.ref)
    body = encode(driver.confirmation(started))

    response = driver.post(body, content_type=content_type)

    assert response.status_code == 200, driver.last_inbox().reason
    assert driver.payment(started.payment_id).state == "paid"
    assert driver.last_inbox().body == body


def test_payments_on_this_store_are_unique_per_open_order_and_amount(driver: HubDriver) -> None:
    """The database itself refuses a second open payment of one order and amount."""
    started = driver.start(driver.new_order())
    original = driver.payment(started.payment_id)
    duplicate = Payment(
        public_id="f" * 32,
        shop_id=original.shop_id,
        order_ref=original.order_ref,
        amount_minor=original.amount_minor,
        currency=original.currency,
        state="created",
        flags=[],
        id_trans="",
        refunded_minor=0,
        paid_minor=0,
        language="",
        created_at=original.created_at,
        updated_at=original.created_at,
    )
    with pytest.raises(IntegrityError), driver.hub.db.transaction() as session:
        session.add(duplicate)
