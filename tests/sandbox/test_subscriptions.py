"""Subscriptions (``ABOv2``): the schedule of debits, the tolerance on refusals, and
the ways to end one (FAQ 14)."""

from __future__ import annotations

import html
import threading
from datetime import UTC, datetime, timedelta

import pytest
from flask.testing import FlaskClient

from bluepaid_plugins.errors import NotFound, ValidationError
from sandbox.cards import Scenario
from sandbox.delivery import deliver_due
from sandbox.models import Account, Delivery, Subscription, Transaction, TxStatus
from sandbox.platform import Platform
from sandbox.subscriptions import add_period, end_subscription, run_due
from tests.sandbox.backoffice_fixtures import (
    csrf_app,
    csrf_token,
    deliveries,
    get,
    mails,
    start,
    transactions,
)
from tests.sandbox.conftest import ShopServer, card

START = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)  # FrozenClock's start


def tick(platform: Platform, days: float) -> int:
    """What ``bluepaid sandbox tick --days`` does to subscriptions."""
    platform.advance(timedelta(days=days))
    return run_due(platform)


def debits(platform: Platform, subscription: Subscription) -> list[Transaction]:
    return transactions(platform, subscription_id=subscription.id)


def confirmation(platform: Platform, tx: Transaction) -> dict[str, str]:
    [delivery] = deliveries(platform, tx.id)
    return delivery.fields


def fresh(platform: Platform, subscription: Subscription) -> Subscription:
    found: Subscription = get(platform, Subscription, subscription.id)
    return found


@pytest.fixture
def shop_url(account: Account, shop: ShopServer) -> str:
    return shop.confirm_url


# ---------------------------------------------------------------- periods


@pytest.mark.parametrize(
    ("start", "count", "unit", "expected"),
    [
        (datetime(2027, 1, 31, 9, 30), 1, "M", datetime(2027, 2, 28, 9, 30)),
        (datetime(2028, 1, 31, 9, 30), 1, "M", datetime(2028, 2, 29, 9, 30)),
        (datetime(2027, 1, 31, 9, 30), 2, "M", datetime(2027, 3, 31, 9, 30)),
        (datetime(2026, 11, 15), 3, "M", datetime(2027, 2, 15)),
        (datetime(2026, 12, 31), 12, "M", datetime(2027, 12, 31)),
        (datetime(2026, 12, 30), 2, "S", datetime(2027, 1, 13)),
        (datetime(2026, 12, 30), 3, "J", datetime(2027, 1, 2)),
    ],
)
def test_periods_add_calendar_months_weeks_and_days(
    start: datetime, count: int, unit: str, expected: datetime
) -> None:
    assert add_period(start, count, unit) == expected


def test_an_unknown_period_unit_is_an_error() -> None:
    with pytest.raises(ValueError, match="unknown period unit"):
        add_period(START, 1, "Y")


# ---------------------------------------------------------------- the schedule


def test_start_records_the_schedule_after_the_first_debit(platform: Platform, shop_url: str) -> None:
    subscription = start(platform, card(Scenario.ACCEPTED), shop_url)

    assert (subscription.amount_minor, subscription.initial_minor, subscription.occurrences) == (990, 1990, 3)
    assert (subscription.period_nb, subscription.period_type) == (1, "M")
    assert (subscription.tolerance_days, subscription.tolerance_max) == (3, 2)
    assert (subscription.debits_done, subscription.state) == (1, "active")
    assert subscription.next_due_at == datetime(2026, 12, 26, 12, 0, tzinfo=UTC)
    assert (subscription.card_last4, subscription.scenario) == (
        card(Scenario.ACCEPTED).number[-4:],
        "accepted",
    )
    [first] = debits(platform, subscription)
    assert first.amount_minor == 1990
    assert confirmation(platform, first)["num_abo"] == subscription.num_abo
    assert confirmation(platform, first)["num_prochaine_presentation"] == "2"


def test_each_subscription_gets_its_own_number_and_cancel_token(platform: Platform, shop_url: str) -> None:
    one = start(platform, card(Scenario.ACCEPTED), shop_url)
    two = start(platform, card(Scenario.ACCEPTED), shop_url)

    assert one.num_abo != two.num_abo
    assert one.cancel_token != two.cancel_token
    assert len(one.cancel_token) >= 32


def test_ticks_make_each_debit_and_the_last_says_fini(platform: Platform, shop_url: str) -> None:
    subscription = start(platform, card(Scenario.ACCEPTED), shop_url)

    assert tick(platform, 29) == 0
    assert tick(platform, 1) == 1
    second = debits(platform, subscription)[-1]
    assert tick(platform, 31) == 1
    third = debits(platform, subscription)[-1]
    assert tick(platform, 365) == 0

    assert [t.amount_minor for t in debits(platform, subscription)] == [1990, 990, 990]
    assert confirmation(platform, second) == {
        "etat": "ok",
        "mode": "test",
        "id_trans": second.id_trans,
        "id_client": "sub-7",
        "divers": "abo-token",
        "langue": "FR",
        "id_boutique": subscription.id_boutique,
        "montant": "9.90",
        "devise": "EUR",
        "num_abo": subscription.num_abo,
        "num_prochaine_presentation": "3",
    }
    last = confirmation(platform, third)
    assert (last["etat"], last["num_abo"], last["fini"]) == ("ok", subscription.num_abo, "oui")
    assert "num_prochaine_presentation" not in last
    ended = fresh(platform, subscription)
    assert (ended.state, ended.debits_done, ended.next_due_at) == ("finished", 3, None)


def test_debits_echo_the_first_payment(platform: Platform, shop_url: str) -> None:
    subscription = start(platform, card(Scenario.ACCEPTED), shop_url, LANGUE="EN")
    tick(platform, 30)

    first, second = debits(platform, subscription)
    assert second.kind == "debit"
    assert second.id_trans != first.id_trans
    echoed = (
        "id_boutique",
        "id_client",
        "divers",
        "langue",
        "email_client",
        "url_confirm",
        "test",
        "card_last4",
    )
    assert [getattr(second, name) for name in echoed] == [getattr(first, name) for name in echoed]


def test_debits_are_delivered_to_the_shop(platform: Platform, shop_url: str, shop: ShopServer) -> None:
    subscription = start(platform, card(Scenario.ACCEPTED), shop_url)
    tick(platform, 30)

    assert deliver_due(platform) == 2

    assert [post["num_prochaine_presentation"] for post in shop.posts()] == ["2", "3"]
    assert {post["num_abo"] for post in shop.posts()} == {subscription.num_abo}


def test_a_clock_jump_makes_every_missed_debit(platform: Platform, shop_url: str) -> None:
    subscription = start(platform, card(Scenario.ACCEPTED), shop_url, NB_OCCURENCES_MAX="4")

    assert tick(platform, 100) == 3

    made = debits(platform, subscription)[1:]
    assert [confirmation(platform, t).get("num_prochaine_presentation") for t in made] == ["3", "4", None]
    assert confirmation(platform, made[-1])["fini"] == "oui"


def test_weekly_debits_follow_periode_nb(platform: Platform, shop_url: str) -> None:
    subscription = start(platform, card(Scenario.ACCEPTED), shop_url, PERIODE_NB="2", PERIODE_TYPE="S")

    assert fresh(platform, subscription).next_due_at == START + timedelta(weeks=2)
    assert tick(platform, 13) == 0
    assert tick(platform, 1) == 1


def test_without_montant_initial_every_debit_is_montant(platform: Platform, shop_url: str) -> None:
    subscription = start(platform, card(Scenario.ACCEPTED), shop_url, MONTANT_INITIAL="")
    tick(platform, 30)

    assert subscription.initial_minor is None
    assert [t.amount_minor for t in debits(platform, subscription)] == [990, 990]


def test_a_single_occurrence_is_over_at_once(platform: Platform, shop_url: str) -> None:
    subscription = start(platform, card(Scenario.ACCEPTED), shop_url, NB_OCCURENCES_MAX="1")

    [first] = debits(platform, subscription)
    assert (subscription.state, subscription.next_due_at) == ("finished", None)
    assert confirmation(platform, first)["fini"] == "oui"
    assert "num_prochaine_presentation" not in confirmation(platform, first)
    assert tick(platform, 365) == 0


def test_an_invalid_request_starts_nothing(platform: Platform, shop_url: str) -> None:
    with pytest.raises(ValidationError, match="PERIODE_TYPE"):
        start(platform, card(Scenario.ACCEPTED), shop_url, PERIODE_TYPE="Y")


# ---------------------------------------------------------------- refusals and tolerance


def test_a_refused_debit_is_re_presented_after_tolerance_days_then_the_subscription_ends(
    platform: Platform, shop_url: str
) -> None:
    subscription = start(platform, card(Scenario.RENEWALS_REFUSED), shop_url)

    assert tick(platform, 30) == 1  # debit 2, refused
    assert tick(platform, 2) == 0
    assert tick(platform, 1) == 1  # re-presentation 1, 3 days later, refused
    assert tick(platform, 3) == 1  # re-presentation 2 (TOLERANCE_NBMAX), refused: the end
    assert tick(platform, 365) == 0

    refused = debits(platform, subscription)[1:]
    assert [t.status for t in refused] == [TxStatus.REFUSED.value] * 3
    assert [t.amount_minor for t in refused] == [990] * 3
    sent = [confirmation(platform, t) for t in refused]
    assert [f["etat"] for f in sent] == ["ko", "ko", "ko"]
    assert [f.get("num_prochaine_presentation") for f in sent] == ["2", "2", None]
    assert [f.get("fini") for f in sent] == [None, None, "oui"]
    ended = fresh(platform, subscription)
    assert (ended.state, ended.debits_done) == ("finished", 1)


def test_without_tolerance_the_first_refusal_ends_the_subscription(platform: Platform, shop_url: str) -> None:
    subscription = start(platform, card(Scenario.RENEWALS_REFUSED), shop_url, TOLERANCE_NBMAX="0")

    assert tick(platform, 30) == 1

    [_, refused] = debits(platform, subscription)
    assert confirmation(platform, refused)["fini"] == "oui"
    assert fresh(platform, subscription).state == "finished"


def test_a_debit_refused_once_is_accepted_when_re_presented(platform: Platform, shop_url: str) -> None:
    subscription = start(platform, card(Scenario.RENEWAL_REFUSED_ONCE), shop_url)

    assert tick(platform, 30) == 1
    assert tick(platform, 3) == 1

    _, refused, accepted = debits(platform, subscription)
    assert (refused.status, accepted.status) == (TxStatus.REFUSED.value, TxStatus.ACCEPTED.value)
    assert confirmation(platform, refused)["num_prochaine_presentation"] == "2"
    assert confirmation(platform, accepted)["num_prochaine_presentation"] == "3"
    # The schedule stays anchored on the first debit: debit 3 is due two months after it.
    assert fresh(platform, subscription).next_due_at == datetime(2027, 1, 26, 12, 0, tzinfo=UTC)


def test_refused_debits_are_mailed_to_the_merchant(platform: Platform, shop_url: str) -> None:
    start(platform, card(Scenario.RENEWALS_REFUSED), shop_url)
    before = len(mails(platform))

    tick(platform, 30)

    assert [m.subject.split(" / ")[0] for m in mails(platform)[before:]] == [
        "[TEST] Nouvelle vente",
        "[TEST] REGLEMENT REFUSE",
    ]


def test_two_processes_never_make_the_same_debit(platform: Platform, shop_url: str) -> None:
    subscription = start(platform, card(Scenario.ACCEPTED), shop_url)
    platform.advance(timedelta(days=30))
    other = Platform(platform.config, base_clock=platform.base_clock)
    barrier = threading.Barrier(2)
    made: list[int] = []

    def worker(process: Platform) -> None:
        barrier.wait()
        made.append(run_due(process))

    threads = [threading.Thread(target=worker, args=(p,)) for p in (platform, other)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
    finally:
        other.dispose()

    assert sorted(made) == [0, 1]
    assert len(debits(platform, subscription)) == 2


# ---------------------------------------------------------------- ending a subscription


@pytest.mark.parametrize(
    ("how", "state"), [("fini", "finished"), ("supprimer", "deleted"), ("buyer", "finished")]
)
def test_ending_a_subscription_stops_its_debits(
    platform: Platform, shop_url: str, how: str, state: str
) -> None:
    subscription = start(platform, card(Scenario.ACCEPTED), shop_url)

    ended = end_subscription(platform, subscription.num_abo, how)

    assert (ended.state, ended.next_due_at) == (state, None)
    assert tick(platform, 365) == 0
    assert len(debits(platform, subscription)) == 1


def test_ending_is_idempotent_and_only_deletion_changes_a_finished_one(
    platform: Platform, shop_url: str
) -> None:
    subscription = start(platform, card(Scenario.ACCEPTED), shop_url)

    assert end_subscription(platform, subscription.num_abo, "fini").state == "finished"
    assert end_subscription(platform, subscription.num_abo, "buyer").state == "finished"
    assert end_subscription(platform, subscription.num_abo, "supprimer").state == "deleted"
    assert end_subscription(platform, subscription.num_abo, "fini").state == "deleted"


def test_ending_an_unknown_subscription_or_an_unknown_way(platform: Platform, shop_url: str) -> None:
    subscription = start(platform, card(Scenario.ACCEPTED), shop_url)

    with pytest.raises(NotFound):
        end_subscription(platform, "A0", "fini")
    with pytest.raises(ValidationError):
        end_subscription(platform, subscription.num_abo, "pause")


@pytest.fixture
def browser(platform: Platform) -> FlaskClient:
    return csrf_app(platform).test_client()


def test_the_buyer_cancel_link_asks_then_cancels(
    platform: Platform, shop_url: str, browser: FlaskClient
) -> None:
    subscription = start(platform, card(Scenario.ACCEPTED), shop_url)
    link = f"/abo/resilier/{subscription.cancel_token}"

    page = browser.get(link)
    assert page.status_code == 200
    assert "Résilier mon abonnement" in page.get_data(as_text=True)
    assert fresh(platform, subscription).state == "active"

    answer = browser.post(link, data={"csrf_token": csrf_token(browser, link), "confirm": "1"})

    assert answer.status_code == 200
    assert "est résilié" in answer.get_data(as_text=True)
    assert fresh(platform, subscription).state == "finished"
    assert tick(platform, 365) == 0
    assert [m.kind for m in mails(platform)][-1] == "cancelled"


def test_the_buyer_page_speaks_english_for_other_languages(
    platform: Platform, shop_url: str, browser: FlaskClient
) -> None:
    subscription = start(platform, card(Scenario.ACCEPTED), shop_url, LANGUE="DE")

    page = browser.get(f"/abo/resilier/{subscription.cancel_token}").get_data(as_text=True)

    assert "Cancel my subscription" in page
    assert "every month" in page


def test_the_buyer_cancel_needs_the_csrf_token(
    platform: Platform, shop_url: str, browser: FlaskClient
) -> None:
    subscription = start(platform, card(Scenario.ACCEPTED), shop_url)

    answer = browser.post(f"/abo/resilier/{subscription.cancel_token}", data={"confirm": "1"})

    assert answer.status_code == 400
    assert fresh(platform, subscription).state == "active"


def test_an_ended_subscription_link_says_so(platform: Platform, shop_url: str, browser: FlaskClient) -> None:
    subscription = start(platform, card(Scenario.ACCEPTED), shop_url)
    end_subscription(platform, subscription.num_abo, "fini")

    page = browser.get(f"/abo/resilier/{subscription.cancel_token}").get_data(as_text=True)

    assert "est déjà terminé" in page
    assert "Résilier mon abonnement" not in page


def test_an_unknown_cancel_link_is_not_found(browser: FlaskClient) -> None:
    answer = browser.get("/abo/resilier/not-a-token", headers={"Accept-Language": "fr"})

    assert answer.status_code == 404
    assert "Ce lien de résiliation n'est pas valable" in html.unescape(answer.get_data(as_text=True))


@pytest.mark.parametrize(("button", "state"), [("fini", "finished"), ("supprimer", "deleted")])
def test_console_buttons_end_a_subscription(
    platform: Platform, shop_url: str, browser: FlaskClient, button: str, state: str
) -> None:
    subscription = start(platform, card(Scenario.ACCEPTED), shop_url)
    listing = browser.get("/console/subscriptions?lang=en").get_data(as_text=True)
    assert subscription.num_abo in listing

    answer = browser.post(
        f"/console/subscriptions/{subscription.num_abo}/end",
        data={button: button, "csrf_token": csrf_token(browser, "/console/subscriptions")},
    )

    assert answer.status_code == 302
    assert fresh(platform, subscription).state == state
    assert tick(platform, 365) == 0


def test_console_end_buttons_need_the_csrf_token(
    platform: Platform, shop_url: str, browser: FlaskClient
) -> None:
    subscription = start(platform, card(Scenario.ACCEPTED), shop_url)

    answer = browser.post(f"/console/subscriptions/{subscription.num_abo}/end", data={"fini": "fini"})

    assert answer.status_code == 400
    assert fresh(platform, subscription).state == "active"


def test_the_first_delivery_is_due_now(platform: Platform, shop_url: str) -> None:
    subscription = start(platform, card(Scenario.ACCEPTED), shop_url)

    [first] = debits(platform, subscription)
    delivery: Delivery = deliveries(platform, first.id)[0]
    assert delivery.due_at == START
