"""After the card step: each test card's confirmations, as the shop receives them, and the browser return."""

from __future__ import annotations

import socket
import threading
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from bluepaid_plugins.protocol import parse_confirmation
from sandbox.accounts import add_account, set_account
from sandbox.cards import CardType, Scenario
from sandbox.delivery import (
    INTERRUPTED,
    build_confirmation,
    deliver_due,
    deliver_now,
    schedule,
)
from sandbox.models import (
    Account,
    Delivery,
    DeliveryState,
    Mail,
    Transaction,
    TxKind,
    TxStatus,
)
from sandbox.platform import Platform
from tests.conftest import FrozenClock
from tests.sandbox.conftest import (
    ID_BOUTIQUE,
    SHOP_OK,
    ShopServer,
    back_to_shop,
    card,
    open_payment,
    page_token,
    pay,
    transaction,
)

DIVERS = "1aca230749db383749bd1bb1c471dab1"


def returned(response_location: str) -> dict[str, str]:
    """The GET parameters of the browser's return to ``url_retour_ok``."""
    assert response_location.startswith(SHOP_OK + "?")
    return {name: values[0] for name, values in parse_qs(urlsplit(response_location).query).items()}


def deliveries(platform: Platform, tx: Transaction) -> list[Delivery]:
    with platform.db.transaction() as session:
        return list(
            session.scalars(select(Delivery).where(Delivery.transaction_id == tx.id).order_by(Delivery.id))
        )


def mail_kinds(platform: Platform, token: str) -> list[str]:
    tx_id = transaction(platform, token).id
    with platform.db.transaction() as session:
        return sorted(session.scalars(select(Mail.kind).where(Mail.transaction_id == tx_id)))


def paid(client: FlaskClient, scenario: Scenario, **request: str) -> tuple[str, dict[str, str]]:
    """Open a payment, pay it with the card of ``scenario``; the token and the browser's return."""
    token = open_payment(client, **request)
    response = pay(client, token, card(scenario))
    assert response.status_code == 303
    location = response.headers["Location"]
    if location == f"/p/{token}":
        # A refusal stays on the platform's page, which links back to the shop.
        location = back_to_shop(client.get(location).get_data(as_text=True))
    return token, returned(location)


def later(platform: Platform, clock: FrozenClock, seconds: float) -> int:
    """Let ``seconds`` of sandbox time pass, then run the deliveries due."""
    clock.advance(timedelta(seconds=seconds))
    return deliver_due(platform)


# --- One test per card scenario -------------------------------------------------------------------


def test_accepted_confirms_ok_now_with_the_protocol_fields(
    client: FlaskClient, platform: Platform, account: Account, shop: ShopServer
) -> None:
    token, back = paid(client, Scenario.ACCEPTED)

    tx = transaction(platform, token)
    assert tx.status == TxStatus.ACCEPTED
    [request] = shop.received
    assert (request.method, request.path) == ("POST", "/bluepaid/confirm")
    assert request.content_type == "application/x-www-form-urlencoded"
    assert request.fields == {
        "etat": "ok",
        "mode": "test",
        "id_trans": tx.id_trans,
        "id_client": "52",
        "divers": DIVERS,
        "langue": "FR",
        "id_boutique": ID_BOUTIQUE,
        "montant": "2.07",
        "devise": "EUR",
    }
    assert parse_confirmation(request.pairs).amount == tx.amount
    assert back == {
        "id_client": "52",
        "divers": DIVERS,
        "etat": "ok",
        "montant": "2.07",
        "mode": "test",
        "id_trans": tx.id_trans,
    }


@pytest.mark.parametrize("scenario", [Scenario.REFUSED_CEILING, Scenario.REFUSED_COHERENCE])
def test_refusing_cards_confirm_ko_now(
    client: FlaskClient, platform: Platform, account: Account, shop: ShopServer, scenario: Scenario
) -> None:
    token, back = paid(client, scenario)

    tx = transaction(platform, token)
    assert tx.status == TxStatus.REFUSED
    assert tx.reason
    assert [(post["etat"], post["mode"]) for post in shop.posts()] == [("ko", "test")]
    assert back["etat"] == "ko"


def test_refusal_reasons_are_told_to_the_buyer(client: FlaskClient, account: Account) -> None:
    ceiling, _ = paid(client, Scenario.REFUSED_CEILING, langue="EN")
    coherence, _ = paid(client, Scenario.REFUSED_COHERENCE, langue="EN")

    assert "spending ceiling" in client.get(f"/p/{ceiling}").get_data(as_text=True)
    assert "coherence check" in client.get(f"/p/{coherence}").get_data(as_text=True)


def test_pending_confirms_attente_now_then_ok_after_the_delay(
    client: FlaskClient, platform: Platform, account: Account, shop: ShopServer, base_clock: FrozenClock
) -> None:
    token, back = paid(client, Scenario.PENDING_THEN_ACCEPTED)

    assert back["etat"] == "attente"
    assert [post["etat"] for post in shop.posts()] == ["attente"]
    assert transaction(platform, token).status == TxStatus.PENDING
    assert later(platform, base_clock, platform.config.pending_delay - 1) == 0

    assert later(platform, base_clock, 1) == 1

    assert [post["etat"] for post in shop.posts()] == ["attente", "ok"]
    assert transaction(platform, token).status == TxStatus.ACCEPTED


def test_a_pending_payment_is_mailed_when_it_is_accepted(
    client: FlaskClient, platform: Platform, account: Account, base_clock: FrozenClock
) -> None:
    token, _ = paid(client, Scenario.PENDING_THEN_ACCEPTED)
    assert mail_kinds(platform, token) == []

    later(platform, base_clock, platform.config.pending_delay)

    assert mail_kinds(platform, token) == ["accepted", "notification", "receipt"]


def test_pending_without_a_confirmation_url_is_accepted_at_once(
    client: FlaskClient, platform: Platform
) -> None:
    add_account(platform, "nourl")

    token = page_token(
        client.get(
            "/in.php",
            query_string={"id_boutique": "nourl", "id_client": "1", "montant": "3.00", "devise": "EUR"},
        )
    )
    pay(client, token, card(Scenario.PENDING_THEN_ACCEPTED))

    tx = transaction(platform, token)
    assert tx.status == TxStatus.ACCEPTED
    assert {d.state for d in deliveries(platform, tx)} == {DeliveryState.WITHHELD}


def test_confirm_twice_posts_the_same_confirmation_two_times(
    client: FlaskClient, platform: Platform, account: Account, shop: ShopServer
) -> None:
    _, back = paid(client, Scenario.CONFIRM_TWICE)

    first, second = shop.posts()
    assert first == second
    assert first["etat"] == "ok"
    assert back["etat"] == "ok"


def test_confirm_late_arrives_after_the_browser_return(
    client: FlaskClient, platform: Platform, account: Account, shop: ShopServer, base_clock: FrozenClock
) -> None:
    token, back = paid(client, Scenario.CONFIRM_LATE)

    assert back["etat"] == "ok"
    assert shop.received == []
    assert transaction(platform, token).status == TxStatus.ACCEPTED
    assert later(platform, base_clock, platform.config.late_delay - 1) == 0
    assert shop.received == []

    assert later(platform, base_clock, 1) == 1

    [post] = shop.posts()
    assert (post["etat"], post["id_trans"]) == ("ok", transaction(platform, token).id_trans)


def test_confirm_never_is_recorded_but_never_sent(
    client: FlaskClient, platform: Platform, account: Account, shop: ShopServer, base_clock: FrozenClock
) -> None:
    token, back = paid(client, Scenario.CONFIRM_NEVER)

    assert back["etat"] == "ok"
    assert later(platform, base_clock, 30 * 86400) == 0
    assert shop.received == []
    [withheld] = deliveries(platform, transaction(platform, token))
    assert withheld.state == DeliveryState.WITHHELD
    assert withheld.fields["etat"] == "ok"


def test_refund_later_confirms_ok_then_a_full_refund(
    client: FlaskClient, platform: Platform, account: Account, shop: ShopServer, base_clock: FrozenClock
) -> None:
    token, _ = paid(client, Scenario.REFUND_LATER)
    tx = transaction(platform, token)
    assert [post["etat"] for post in shop.posts()] == ["ok"]

    assert later(platform, base_clock, platform.config.refund_delay) == 1

    ok, refund = shop.posts()
    assert (refund["etat"], refund["mode"], refund["montant"]) == ("ok", "r", "2.07")
    assert (refund["id_client"], refund["divers"]) == ("52", DIVERS)
    assert refund["id_trans"] != ok["id_trans"]
    assert transaction(platform, token).refunded_minor == tx.amount_minor


@pytest.mark.parametrize("scenario", [Scenario.RENEWALS_REFUSED, Scenario.RENEWAL_REFUSED_ONCE])
def test_subscription_cards_pay_a_single_payment_like_accepted(
    client: FlaskClient, platform: Platform, account: Account, shop: ShopServer, scenario: Scenario
) -> None:
    token, _ = paid(client, scenario)

    assert transaction(platform, token).status == TxStatus.ACCEPTED
    assert [post["etat"] for post in shop.posts()] == ["ok"]


def test_a_test_card_in_production_still_confirms_mode_test(
    client: FlaskClient, platform: Platform, account: Account, shop: ShopServer
) -> None:
    set_account(platform, ID_BOUTIQUE, mode="production")

    _, back = paid(client, Scenario.ACCEPTED)

    assert [post["mode"] for post in shop.posts()] == ["test"]
    assert back["mode"] == "test"


def test_each_outcome_records_the_merchant_mails(
    client: FlaskClient, platform: Platform, account: Account
) -> None:
    accepted, _ = paid(client, Scenario.ACCEPTED)
    refused, _ = paid(client, Scenario.REFUSED_CEILING)

    assert mail_kinds(platform, accepted) == ["accepted", "notification", "receipt"]
    assert mail_kinds(platform, refused) == ["notification", "refused"]


# --- Subscriptions -------------------------------------------------------------------------------


def subscribe(client: FlaskClient, occurrences: str) -> str:
    fields = {
        "ID_BOUTIQUE": ID_BOUTIQUE,
        "ID_CLIENT": "abo-7",
        "MONTANT": "9.99",
        "MONTANT_INITIAL": "19.99",
        "NB_OCCURENCES_MAX": occurrences,
        "DEVISE": "EUR",
        "DIVERS": "abo-token",
    }
    return page_token(client.get("/ABOv2/in.php", query_string=fields))


def test_an_accepted_first_debit_starts_the_subscription(
    client: FlaskClient, platform: Platform, account: Account, shop: ShopServer
) -> None:
    token = subscribe(client, "12")

    pay(client, token, card(Scenario.ACCEPTED))

    tx = transaction(platform, token)
    assert (tx.kind, tx.status) == (TxKind.DEBIT, TxStatus.ACCEPTED)
    assert tx.subscription_id is not None
    [post] = shop.posts()
    assert (post["etat"], post["montant"], post["divers"]) == ("ok", "19.99", "abo-token")
    assert post["num_abo"]
    assert post["num_prochaine_presentation"] == "2"
    assert "fini" not in post


def test_a_single_debit_subscription_is_fini_at_once(
    client: FlaskClient, platform: Platform, account: Account, shop: ShopServer
) -> None:
    pay(client, subscribe(client, "1"), card(Scenario.ACCEPTED))

    [post] = shop.posts()
    assert post["fini"] == "oui"
    assert "num_prochaine_presentation" not in post


def test_a_pending_first_debit_confirms_attente_then_ok_with_the_subscription(
    client: FlaskClient, platform: Platform, account: Account, shop: ShopServer, base_clock: FrozenClock
) -> None:
    pay(client, subscribe(client, "12"), card(Scenario.PENDING_THEN_ACCEPTED))

    later(platform, base_clock, platform.config.pending_delay)

    attente, ok = shop.posts()
    assert attente["etat"] == "attente" and "num_abo" not in attente
    assert (ok["etat"], ok["num_prochaine_presentation"]) == ("ok", "2")
    assert ok["num_abo"]


def test_a_refused_first_debit_starts_no_subscription(
    client: FlaskClient, platform: Platform, account: Account, shop: ShopServer
) -> None:
    token = subscribe(client, "12")

    pay(client, token, card(Scenario.REFUSED_CEILING))

    assert transaction(platform, token).subscription_id is None
    [post] = shop.posts()
    assert post["etat"] == "ko"
    assert "num_abo" not in post


# --- Where confirmations go -----------------------------------------------------------------------


def test_url_retour_bo_overrides_the_account_confirmation_url(
    client: FlaskClient, platform: Platform, account: Account
) -> None:
    other = ShopServer().start()
    try:
        host = urlsplit(other.url).netloc
        paid(client, Scenario.ACCEPTED, url_retour_bo=f"{host}/per-payment", set_secure_conf="0")
        assert [request.path for request in other.received] == ["/per-payment"]
    finally:
        other.stop()


def test_without_any_confirmation_url_nothing_is_sent_and_the_buyer_still_returns(
    client: FlaskClient, platform: Platform
) -> None:
    add_account(platform, "nourl", url_retour_ok=SHOP_OK)
    token = page_token(
        client.get(
            "/in.php",
            query_string={"id_boutique": "nourl", "id_client": "1", "montant": "3.00", "devise": "EUR"},
        )
    )

    response = pay(client, token, card(Scenario.ACCEPTED))

    assert returned(response.headers["Location"])["etat"] == "ok"
    [withheld] = deliveries(platform, transaction(platform, token))
    assert (withheld.state, withheld.note) == (DeliveryState.WITHHELD, "no confirmation URL")


# --- Sending: answers, failures, claiming --------------------------------------------------------


@pytest.mark.parametrize("status", [500, 302, 404])
def test_any_http_answer_is_sent_and_kept(
    client: FlaskClient, platform: Platform, account: Account, shop: ShopServer, status: int
) -> None:
    shop.status = status
    shop.answer = b"x" * 2000

    token, _ = paid(client, Scenario.ACCEPTED)

    [delivery] = deliveries(platform, transaction(platform, token))
    assert (delivery.state, delivery.answer_status) == (DeliveryState.SENT, status)
    assert delivery.answer_body == "x" * 500
    assert delivery.sent_at is not None
    assert len(shop.received) == 1  # a redirect is not followed


def test_an_unreachable_shop_fails_once_and_is_not_retried(
    client: FlaskClient, platform: Platform, base_clock: FrozenClock
) -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    add_account(platform, "down", url_confirmation=f"http://127.0.0.1:{port}/confirm", url_retour_ok=SHOP_OK)
    token = page_token(
        client.get(
            "/in.php",
            query_string={"id_boutique": "down", "id_client": "1", "montant": "3.00", "devise": "EUR"},
        )
    )

    response = pay(client, token, card(Scenario.ACCEPTED))

    assert response.status_code == 303
    [delivery] = deliveries(platform, transaction(platform, token))
    assert delivery.state == DeliveryState.FAILED
    assert delivery.answer_status is None
    assert "ConnectionError" in delivery.answer_body
    assert later(platform, base_clock, 3600) == 0


def test_an_unusable_confirmation_url_fails_the_delivery_and_the_buyer_still_returns(
    client: FlaskClient, platform: Platform
) -> None:
    # The account settings take any http(s) URL; requests cannot even parse this host.
    add_account(platform, "badurl", url_confirmation="http://a..b/confirm", url_retour_ok=SHOP_OK)
    token = page_token(
        client.get(
            "/in.php",
            query_string={"id_boutique": "badurl", "id_client": "1", "montant": "3.00", "devise": "EUR"},
        )
    )

    response = pay(client, token, card(Scenario.ACCEPTED))

    assert response.status_code == 303
    assert returned(response.headers["Location"])["etat"] == "ok"
    assert transaction(platform, token).status == TxStatus.ACCEPTED
    [delivery] = deliveries(platform, transaction(platform, token))
    assert (delivery.state, delivery.answer_status) == (DeliveryState.FAILED, None)
    assert "LocationParseError" in delivery.answer_body
    assert "a..b" in delivery.answer_body


def test_a_delivery_is_sent_once_however_many_processes_try(
    client: FlaskClient, platform: Platform, account: Account, shop: ShopServer, base_clock: FrozenClock
) -> None:
    for _ in range(5):
        paid(client, Scenario.CONFIRM_LATE)
    base_clock.advance(timedelta(seconds=platform.config.late_delay))
    counts: list[int] = []
    start = threading.Barrier(4)

    def worker() -> None:
        start.wait()
        counts.append(deliver_due(platform))

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sum(counts) == 5
    assert len(shop.posts()) == 5
    assert len({post["id_trans"] for post in shop.posts()}) == 5


def test_deliver_now_sends_nothing_twice_nor_early(
    client: FlaskClient, platform: Platform, account: Account, shop: ShopServer
) -> None:
    token, _ = paid(client, Scenario.CONFIRM_LATE)
    [late] = deliveries(platform, transaction(platform, token))

    deliver_now(platform, late.id)
    assert shop.received == []

    token, _ = paid(client, Scenario.ACCEPTED)
    [sent] = deliveries(platform, transaction(platform, token))
    deliver_now(platform, sent.id)
    assert len(shop.posts()) == 1


def test_a_claimed_delivery_reads_as_interrupted_until_answered(
    client: FlaskClient, platform: Platform, account: Account, shop: ShopServer, base_clock: FrozenClock
) -> None:
    token, _ = paid(client, Scenario.CONFIRM_LATE)
    shop.gate = threading.Event()
    runner = threading.Thread(target=later, args=(platform, base_clock, platform.config.late_delay))
    runner.start()
    try:
        assert shop.wait_for(1)
        [claimed] = deliveries(platform, transaction(platform, token))
        assert (claimed.state, claimed.answer_body) == (DeliveryState.FAILED, INTERRUPTED)
    finally:
        shop.gate.set()
        runner.join()

    [answered] = deliveries(platform, transaction(platform, token))
    assert (answered.state, answered.answer_status, answered.answer_body) == (DeliveryState.SENT, 200, "OK")


# --- The fields themselves -----------------------------------------------------------------------


def test_confirmation_fields_defaults_and_overrides(
    client: FlaskClient, platform: Platform, account: Account
) -> None:
    tx = transaction(platform, open_payment(client, langue="EN"))

    assert build_confirmation(tx, etat="ok").fields()["mode"] == "test"
    refund = build_confirmation(tx, etat="ok", mode="r", amount=tx.amount.from_minor(100, "EUR")).fields()
    assert (refund["mode"], refund["montant"], refund["langue"]) == ("r", "1.00", "EN")
    tx.test = False
    assert build_confirmation(tx, etat="ko").fields()["mode"] == ""


def test_schedule_is_due_after_the_delay_on_the_sandbox_clock(
    client: FlaskClient, platform: Platform, account: Account, base_clock: FrozenClock
) -> None:
    tx = transaction(platform, open_payment(client))

    with platform.db.transaction() as session:
        delivery = schedule(
            platform, session, tx, build_confirmation(tx, etat="annu").fields(), delay=60, note="by hand"
        )

    assert delivery.due_at == base_clock.now + timedelta(seconds=60)
    assert (delivery.state, delivery.url, delivery.note) == (
        DeliveryState.SCHEDULED,
        tx.url_confirm,
        "by hand",
    )


def test_a_card_type_mismatch_confirms_ko_with_the_card_scenario_ignored(
    client: FlaskClient, platform: Platform, account: Account, shop: ShopServer
) -> None:
    token = open_payment(client)
    twice = card(Scenario.CONFIRM_TWICE)

    client.post(
        f"/p/{token}",
        data={
            "card_type": CardType.CB,
            "number": twice.number,
            "expiry_month": "12",
            "expiry_year": "2030",
            "cvv2": "123",
        },
    )

    assert [post["etat"] for post in shop.posts()] == ["ko"]
