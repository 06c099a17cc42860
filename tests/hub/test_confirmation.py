"""The confirmation pipeline through the Flask test client, on SQLite and PostgreSQL."""

from __future__ import annotations

from urllib.parse import urlencode

from hub.models import Verdict
from hub.tasks import APPLY_EVENT
from tests.hub.conftest import HubDriver


def test_accepted_confirmation_marks_payment_paid_and_queues_the_shop_update(driver: HubDriver) -> None:
    started = driver.start(driver.new_order("36.60"))

    response = driver.post(driver.confirmation(started))

    assert response.status_code == 200
    payment = driver.payment(started.payment_id)
    assert payment.state == "paid"
    assert payment.id_trans == "T1000"
    assert "test" in payment.flags
    assert driver.last_inbox().verdict == Verdict.ACCEPTED
    assert driver.tasks(APPLY_EVENT) == 1


def test_decimal_comma_amount_is_accepted(driver: HubDriver) -> None:
    started = driver.start(driver.new_order("36.60"))

    driver.post(driver.confirmation(started, montant="36,60"))

    assert driver.payment(started.payment_id).state == "paid"


def test_duplicate_confirmation_changes_nothing(driver: HubDriver) -> None:
    started = driver.start(driver.new_order())
    driver.post(driver.confirmation(started))

    second = driver.post(driver.confirmation(started))

    assert second.status_code == 200
    assert driver.last_inbox().verdict == Verdict.DUPLICATE
    assert driver.payment(started.payment_id).state == "paid"
    assert driver.tasks(APPLY_EVENT) == 1


def test_late_refusal_after_acceptance_does_not_move_back(driver: HubDriver) -> None:
    started = driver.start(driver.new_order())
    driver.post(driver.confirmation(started, etat="ok", id_trans="T1"))

    driver.post(driver.confirmation(started, etat="ko", id_trans="T0"))

    assert driver.payment(started.payment_id).state == "paid"
    assert driver.last_inbox().verdict == Verdict.STALE
    assert driver.tasks(APPLY_EVENT) == 1


def test_pending_then_accepted_moves_forward_twice(driver: HubDriver) -> None:
    started = driver.start(driver.new_order())

    driver.post(driver.confirmation(started, etat="attente"))
    assert driver.payment(started.payment_id).state == "pending"
    driver.post(driver.confirmation(started, etat="ok"))

    assert driver.payment(started.payment_id).state == "paid"
    assert driver.tasks(APPLY_EVENT) == 2


def test_partial_refunds_add_up_to_refunded(driver: HubDriver) -> None:
    started = driver.start(driver.new_order("36.60"))
    driver.post(driver.confirmation(started))

    driver.post(driver.confirmation(started, mode="r", montant="10.00", id_trans="R1"))
    payment = driver.payment(started.payment_id)
    assert (payment.state, str(payment.refunded)) == ("partially_refunded", "10.00")
    driver.post(driver.confirmation(started, mode="r", montant="26.60", id_trans="R2"))

    payment = driver.payment(started.payment_id)
    assert (payment.state, str(payment.refunded)) == ("refunded", "36.60")


def test_refund_beyond_the_amount_is_flagged_and_not_applied(driver: HubDriver) -> None:
    started = driver.start(driver.new_order("36.60"))
    driver.post(driver.confirmation(started))

    driver.post(driver.confirmation(started, mode="r", montant="40.00", id_trans="R1"))

    payment = driver.payment(started.payment_id)
    assert payment.state == "paid"
    assert "amount_mismatch" in payment.flags
    assert driver.last_inbox().verdict == Verdict.AMOUNT_MISMATCH


def test_buyer_edited_amount_is_stored_flagged_acknowledged_and_not_paid(driver: HubDriver) -> None:
    started = driver.start(driver.new_order("36.60"))
    # The buyer edits montant=36.60 into 0.01 in the platform URL; the platform
    # then confirms the cheap payment with the divers it was given.
    response = driver.post(driver.confirmation(started, montant="0.01"))

    assert response.status_code == 200
    inbox = driver.last_inbox()
    assert inbox.verdict == Verdict.AMOUNT_MISMATCH
    assert b"montant=0.01" in inbox.body
    payment = driver.payment(started.payment_id)
    assert payment.state == "created"
    assert "amount_mismatch" in payment.flags
    assert driver.tasks(APPLY_EVENT) == 0


# Each of the six authenticity checks of the protocol document, failing alone.


def _assert_rejected_and_unpaid(
    driver: HubDriver, payment_id: str, verdict: Verdict, reason_part: str
) -> None:
    inbox = driver.last_inbox()
    assert inbox.verdict == verdict
    assert reason_part in inbox.reason
    assert driver.payment(payment_id).state == "created"
    assert driver.tasks(APPLY_EVENT) == 0


def test_check_1_get_confirmation_is_rejected(driver: HubDriver) -> None:
    started = driver.start(driver.new_order())

    response = driver.client.get(
        f"/confirm/demo/{driver.shop.confirm_token}?{urlencode(driver.confirmation(started))}",
        environ_base={"REMOTE_ADDR": "127.0.0.1"},
    )

    assert response.status_code == 405
    _assert_rejected_and_unpaid(driver, started.payment_id, Verdict.REJECTED, "method GET")


def test_check_2_unknown_source_address_is_rejected(driver: HubDriver) -> None:
    started = driver.start(driver.new_order())

    response = driver.post(driver.confirmation(started), remote="203.0.113.9")

    assert response.status_code == 403
    _assert_rejected_and_unpaid(driver, started.payment_id, Verdict.REJECTED, "203.0.113.9")


def test_check_3_forged_divers_is_rejected(driver: HubDriver) -> None:
    started = driver.start(driver.new_order())

    response = driver.post(driver.confirmation(started, divers="0" * 32))

    assert response.status_code == 403
    _assert_rejected_and_unpaid(driver, started.payment_id, Verdict.REJECTED, "divers")


def test_check_4_other_merchant_id_is_rejected(driver: HubDriver) -> None:
    started = driver.start(driver.new_order())

    response = driver.post(driver.confirmation(started, id_boutique="99999www"))

    assert response.status_code == 403
    _assert_rejected_and_unpaid(driver, started.payment_id, Verdict.REJECTED, "id_boutique")


def test_check_4_other_currency_is_an_amount_mismatch(driver: HubDriver) -> None:
    started = driver.start(driver.new_order("36.60"))

    response = driver.post(driver.confirmation(started, devise="USD"))

    assert response.status_code == 200
    _assert_rejected_and_unpaid(driver, started.payment_id, Verdict.AMOUNT_MISMATCH, "devise USD")


def test_check_5_wrong_url_token_is_rejected(driver: HubDriver) -> None:
    started = driver.start(driver.new_order())

    response = driver.post(driver.confirmation(started), url="/confirm/demo/not-the-token")

    assert response.status_code == 404
    _assert_rejected_and_unpaid(driver, started.payment_id, Verdict.REJECTED, "url token")


def test_check_6_test_payment_on_a_shop_refusing_tests_is_not_applied(driver: HubDriver) -> None:
    from hub.models import Shop

    with driver.hub.db.transaction() as session:
        shop = session.get(Shop, driver.shop.id)
        assert shop is not None
        shop.accept_test = False
    started = driver.start(driver.new_order())

    response = driver.post(driver.confirmation(started, mode="test"))

    assert response.status_code == 200
    _assert_rejected_and_unpaid(driver, started.payment_id, Verdict.TEST_REFUSED, "test payment")
    assert "test_refused" in driver.payment(started.payment_id).flags


def test_live_payment_is_accepted_on_a_shop_refusing_tests(driver: HubDriver) -> None:
    from hub.models import Shop

    with driver.hub.db.transaction() as session:
        shop = session.get(Shop, driver.shop.id)
        assert shop is not None
        shop.accept_test = False
    started = driver.start(driver.new_order())

    driver.post(driver.confirmation(started, mode=""))

    payment = driver.payment(started.payment_id)
    assert payment.state == "paid"
    assert "test" not in payment.flags


def test_malformed_body_is_stored_and_rejected(driver: HubDriver) -> None:
    response = driver.post("etat=maybe&etat=ok&montant=abc")

    assert response.status_code == 400
    inbox = driver.last_inbox()
    assert inbox.verdict == Verdict.REJECTED
    assert inbox.body == b"etat=maybe&etat=ok&montant=abc"
    assert "etat" in inbox.reason


def test_ipv4_client_seen_through_an_ipv6_socket_is_allowed(driver: HubDriver) -> None:
    started = driver.start(driver.new_order())

    response = driver.post(driver.confirmation(started), remote="::ffff:127.0.0.1")

    assert response.status_code == 200
    assert driver.payment(started.payment_id).state == "paid"


def test_test_payment_never_marks_a_live_order_paid(driver: HubDriver) -> None:
    from hub.models import Shop

    with driver.hub.db.transaction() as session:
        shop = session.get(Shop, driver.shop.id)
        assert shop is not None
        shop.test_mode, shop.accept_test = False, True  # live, even if test payments are "accepted"
    started = driver.start(driver.new_order())

    response = driver.post(driver.confirmation(started, mode="test"))

    assert response.status_code == 200
    _assert_rejected_and_unpaid(driver, started.payment_id, Verdict.TEST_REFUSED, "live shop")


def test_refund_of_nothing_changes_nothing(driver: HubDriver) -> None:
    started = driver.start(driver.new_order("36.60"))
    driver.post(driver.confirmation(started))

    driver.post(driver.confirmation(started, mode="r", montant="0.00", id_trans="R0"))

    assert driver.payment(started.payment_id).state == "paid"
    assert driver.last_inbox().verdict == Verdict.STALE
    assert driver.tasks(APPLY_EVENT) == 1
