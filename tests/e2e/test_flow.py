"""End to end over real HTTP: payment link -> sandbox page -> test card ->
confirmation -> payment in the hub -> outbox task done; and a subscription's debits."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import requests
from sqlalchemy import select

from bluepaid_plugins.domain import Schedule
from bluepaid_plugins.money import Money
from hub.models import InboxMessage, OutboxTask
from hub.orders import create_link_order
from hub.payments import show_payment
from hub.testing.stack import Stack, pay_with_card
from sandbox.cards import TEST_CARDS, SandboxCard, Scenario
from sandbox.delivery import deliver_due
from sandbox.subscriptions import run_due

CARD = {card.scenario: card for card in TEST_CARDS if card.scenario is not Scenario.ACCEPTED}
ACCEPTED = next(card for card in TEST_CARDS if card.scenario is Scenario.ACCEPTED)


def buy(stack: Stack, ref: str, card: SandboxCard) -> requests.Response:
    """Follow the pay link like a browser, fill the card step, come back to the hub."""
    return pay_with_card(stack, stack.pay_url(ref), card)


def verdicts(stack: Stack) -> list[str]:
    with stack.hub.db.transaction() as session:
        return [v or "" for v in session.scalars(select(InboxMessage.verdict).order_by(InboxMessage.id))]


def apply_tasks(stack: Stack) -> list[str]:
    with stack.hub.db.transaction() as session:
        query = select(OutboxTask.state).where(OutboxTask.kind == "apply_event").order_by(OutboxTask.id)
        return list(session.scalars(query))


def later(stack: Stack, seconds: float) -> None:
    """Let the sandbox's clock pass ``seconds`` and deliver what is then due."""
    stack.sandbox_clock.advance(timedelta(seconds=seconds))
    deliver_due(stack.platform)


def test_accepted_card_pays_the_order_in_the_shop_exactly_once(stack: Stack) -> None:
    ref = stack.new_order("36.60")

    back = buy(stack, ref, ACCEPTED)

    assert back.url.startswith(f"{stack.hub_url}/return/demo/")
    assert "Paiement accepté" in back.text
    assert stack.payment(ref).state == "paid"
    assert "test" in stack.payment(ref).flags
    assert verdicts(stack) == ["accepted"]
    assert stack.run_worker() == ["done"]
    assert stack.order_status(ref) == "paid"
    assert apply_tasks(stack) == ["done"]


def test_paid_order_offers_no_second_payment(stack: Stack) -> None:
    ref = stack.new_order()
    buy(stack, ref, ACCEPTED)
    stack.run_worker()

    again = requests.get(stack.pay_url(ref), timeout=10)

    assert again.status_code == 409
    assert stack.sandbox_url not in again.text


def test_confirmation_delivered_twice_is_applied_once(stack: Stack) -> None:
    ref = stack.new_order()

    buy(stack, ref, CARD[Scenario.CONFIRM_TWICE])

    assert stack.payment(ref).state == "paid"
    assert verdicts(stack) == ["accepted", "duplicate"]
    assert stack.run_worker() == ["done"]
    assert apply_tasks(stack) == ["done"]


def test_late_confirmation_pays_after_the_browser_came_back(stack: Stack) -> None:
    ref = stack.new_order()

    back = buy(stack, ref, CARD[Scenario.CONFIRM_LATE])

    assert "Paiement en cours de confirmation" in back.text
    assert '<meta http-equiv="refresh"' in back.text
    assert stack.payment(ref).state == "created"
    later(stack, stack.platform.config.late_delay + 1)
    assert stack.payment(ref).state == "paid"
    assert stack.run_worker() == ["done"]
    assert stack.order_status(ref) == "paid"


def test_lost_confirmation_leaves_the_order_unpaid(stack: Stack) -> None:
    ref = stack.new_order()

    back = buy(stack, ref, CARD[Scenario.CONFIRM_NEVER])
    later(stack, 3600)

    assert "Paiement en cours de confirmation" in back.text
    assert stack.payment(ref).state == "created"
    assert verdicts(stack) == []
    assert stack.run_worker() == []
    assert stack.order_status(ref) == "open"


def test_refused_card_leaves_the_order_payable(stack: Stack) -> None:
    ref = stack.new_order()

    refusal = buy(stack, ref, CARD[Scenario.REFUSED_CEILING])
    # The platform's own page says why; its link leads back to the hub's return page.
    assert refusal.url.startswith(f"{stack.sandbox_url}/p/")
    assert "plafond" in refusal.text
    link = re.search(r'<a class="button primary" href="([^"]+)"', refusal.text)
    assert link is not None
    back = requests.get(html.unescape(link.group(1)), timeout=10)

    assert "Le paiement a été refusé." in back.text
    assert stack.payment(ref).state == "refused"
    assert stack.run_worker() == ["done"]
    assert stack.order_status(ref) == "failed"  # payable again: the buyer may try another card
    retry = requests.get(stack.pay_url(ref), allow_redirects=False, timeout=10)
    assert retry.status_code == 302


def test_pending_then_accepted_moves_the_payment_forward(stack: Stack) -> None:
    ref = stack.new_order()

    buy(stack, ref, CARD[Scenario.PENDING_THEN_ACCEPTED])
    assert stack.payment(ref).state == "pending"
    later(stack, stack.platform.config.pending_delay + 1)

    assert stack.payment(ref).state == "paid"
    assert verdicts(stack) == ["accepted", "accepted"]


def test_refund_later_refunds_the_payment_in_the_hub(stack: Stack) -> None:
    ref = stack.new_order("36.60")

    buy(stack, ref, CARD[Scenario.REFUND_LATER])
    assert stack.payment(ref).state == "paid"
    later(stack, stack.platform.config.refund_delay + 1)

    payment = stack.payment(ref)
    assert (payment.state, str(payment.refunded)) == ("refunded", "36.60")
    assert stack.run_worker() == ["done", "done"]


def test_subscription_debits_reach_the_hub_month_after_month(stack: Stack) -> None:
    schedule = Schedule(occurrences=3, initial=Money.parse("5.00", "EUR"))
    order = create_link_order(
        stack.hub.db, stack.shop, Money.parse("9.90", "EUR"), now=stack.hub.clock(), schedule=schedule
    )

    back = buy(stack, order.ref, ACCEPTED)
    assert "Paiement accepté" in back.text
    for _month in range(2):
        stack.sandbox_clock.advance(timedelta(days=31))
        run_due(stack.platform)
        deliver_due(stack.platform)

    shown = show_payment(stack.hub, stack.payment(order.ref).public_id)
    assert shown["state"] == "paid"
    assert str(shown["amount"]) == "5.00"
    assert (shown["subscription"]["debits_done"], shown["subscription"]["finished"]) == (3, True)
    assert verdicts(stack) == ["accepted", "accepted", "accepted"]
    assert stack.run_worker() == ["done", "done", "done"]
