"""Shop webhooks: stored raw first, verified by the connector, and closing or reopening orders."""

from __future__ import annotations

import json
from collections.abc import Sequence

import pytest
from sqlalchemy import select
from werkzeug.test import TestResponse

from bluepaid_plugins import ShopChange, WebhookRequest
from bluepaid_plugins.errors import Problem, ValidationError
from hub.models import WebhookMessage
from hub.webhooks import MAX_BODY
from tests.hub.conftest import HubDriver, MakeDriver
from tests.hub.contract_connectors import (
    ORDER_KEY,
    SIGNATURE_HEADER,
    WEBHOOK_SECRET,
    OrderBook,
    WebhookShop,
    book_driver,
    book_shop,
    error_logs,
    page_text,
    sign_body,
)

SIGNED = object()


def hook_shop(make_driver: MakeDriver) -> tuple[HubDriver, OrderBook]:
    book = OrderBook()
    connector = book_shop(book, WebhookShop)
    driver = book_driver(make_driver, connector, settings={"webhook_secret": WEBHOOK_SECRET})
    book.add("A1")
    return driver, book


def change(kind: str, ref: str = "A1") -> bytes:
    return json.dumps({"changes": [{"kind": kind, "order": ref}]}).encode()


def send(
    driver: HubDriver,
    body: bytes,
    *,
    signature: object = SIGNED,
    content_type: str = "application/json",
    path: str = "",
    method: str = "POST",
) -> TestResponse:
    """The shop's request to its webhook URL, signed with the shop's secret unless told otherwise."""
    headers = {"Cookie": "session=shop-admin", "Authorization": "Basic c2hvcDpwdw=="}
    if signature is SIGNED:
        headers[SIGNATURE_HEADER] = sign_body(WEBHOOK_SECRET, body)
    elif isinstance(signature, str):
        headers[SIGNATURE_HEADER] = signature
    return driver.client.open(
        path or f"/webhooks/demo/{driver.shop.webhook_token}",
        method=method,
        data=body,
        content_type=content_type,
        headers=headers,
    )


def stored(driver: HubDriver) -> list[WebhookMessage]:
    with driver.hub.db.transaction() as session:
        return list(session.scalars(select(WebhookMessage).order_by(WebhookMessage.id)))


def verdicts(driver: HubDriver) -> list[tuple[str | None, str]]:
    return [(row.verdict, row.reason) for row in stored(driver)]


# Stored first


def test_a_webhook_is_stored_raw_even_when_refused(make_driver: MakeDriver) -> None:
    driver, _ = hook_shop(make_driver)
    body = change("cancelled")

    send(driver, body, signature=None)

    (row,) = stored(driver)
    assert (row.method, row.body, row.shop_slug, row.shop_id) == ("POST", body, "demo", driver.shop.id)
    assert row.headers["content-type"] == "application/json"
    assert "cookie" not in row.headers
    assert "authorization" not in row.headers
    assert row.processed_at is not None


def test_a_webhook_with_a_wrong_token_is_refused_and_recorded(make_driver: MakeDriver) -> None:
    driver, _ = hook_shop(make_driver)

    response = send(driver, change("cancelled"), path="/webhooks/demo/not-the-token")

    assert response.status_code == 404
    assert verdicts(driver) == [("rejected", "unknown shop or wrong token")]
    assert driver.open_pay("A1", ORDER_KEY).status_code == 302


def test_a_webhook_for_an_unknown_shop_is_refused_and_recorded(make_driver: MakeDriver) -> None:
    driver, _ = hook_shop(make_driver)

    response = send(driver, change("cancelled"), path=f"/webhooks/nowhere/{driver.shop.webhook_token}")

    assert response.status_code == 404
    (row,) = stored(driver)
    assert (row.shop_slug, row.shop_id, row.verdict) == ("nowhere", None, "rejected")


def test_a_connector_without_webhooks_has_no_webhook_url(driver: HubDriver) -> None:
    response = send(driver, change("cancelled"))

    assert response.status_code == 404
    assert verdicts(driver) == [("rejected", "connector payment_link takes no webhooks")]


# Handshake and verification


def test_the_shops_handshake_is_answered_without_a_signature(make_driver: MakeDriver) -> None:
    driver, _ = hook_shop(make_driver)

    response = send(
        driver, b"webhook_id=42", signature=None, content_type="application/x-www-form-urlencoded"
    )

    assert (response.status_code, response.text) == (200, "pong 42")
    assert verdicts(driver) == [("handshake", "answered 200")]


@pytest.mark.parametrize(
    "signature",
    [None, "", sign_body("another-secret", change("cancelled")), sign_body(WEBHOOK_SECRET, b"{}")],
    ids=["unsigned", "empty", "other-secret", "other-body"],
)
def test_a_webhook_that_is_not_signed_by_the_shop_is_refused(
    make_driver: MakeDriver, signature: object
) -> None:
    driver, _ = hook_shop(make_driver)

    response = send(driver, change("cancelled"), signature=signature)

    assert response.status_code == 401
    assert verdicts(driver) == [("unverified", "signature missing or wrong")]
    assert driver.open_pay("A1", ORDER_KEY).status_code == 302


def test_a_webhook_signed_over_another_serialisation_of_its_body_is_refused(make_driver: MakeDriver) -> None:
    driver, _ = hook_shop(make_driver)
    body = json.dumps({"changes": [{"kind": "cancelled", "order": "A1"}]}, indent=2).encode()

    response = send(driver, body, signature=sign_body(WEBHOOK_SECRET, change("cancelled")))

    assert response.status_code == 401
    assert verdicts(driver)[0][0] == "unverified"


def test_a_webhook_that_is_not_a_post_is_refused(make_driver: MakeDriver) -> None:
    driver, _ = hook_shop(make_driver)

    response = send(driver, b"", method="GET")

    assert response.status_code == 405
    assert verdicts(driver) == [("rejected", "method GET refused")]


# Changes


@pytest.mark.parametrize("kind", ["cancelled", "paid_elsewhere", "deleted", "refunded"])
def test_an_order_the_shop_closed_can_no_longer_be_paid_here(make_driver: MakeDriver, kind: str) -> None:
    driver, _ = hook_shop(make_driver)

    answer = send(driver, change(kind))
    english = driver.open_pay("A1", ORDER_KEY, language="en")
    french = driver.open_pay("A1", ORDER_KEY, language="fr")

    assert (answer.status_code, answer.text) == (200, "OK")
    assert verdicts(driver) == [("accepted", f"{kind} A1")]
    assert (english.status_code, french.status_code) == (409, 409)
    assert "This order can no longer be paid here." in page_text(english)
    assert "Cette commande ne peut plus être payée ici." in page_text(french)
    assert driver.payments_of("A1") == []


def test_a_payment_of_an_order_the_shop_closed_is_flagged(make_driver: MakeDriver) -> None:
    driver, _ = hook_shop(make_driver)
    started = driver.start("A1", ORDER_KEY)

    send(driver, change("cancelled"))

    assert "order_closed" in driver.payment(started.payment_id).flags


def test_a_paid_order_refunded_in_the_shop_flags_the_money_still_held_at_bluepaid(
    make_driver: MakeDriver,
) -> None:
    driver, _ = hook_shop(make_driver)
    started = driver.start("A1", ORDER_KEY)
    driver.post(driver.confirmation(started))

    send(driver, change("refunded"))

    payment = driver.payment(started.payment_id)
    assert "refunded_in_shop" in payment.flags
    assert payment.state == "paid"  # no money moved at Bluepaid
    assert verdicts(driver) == [("accepted", "refunded A1")]


def test_an_order_refunded_at_bluepaid_then_in_the_shop_is_not_flagged(make_driver: MakeDriver) -> None:
    driver, _ = hook_shop(make_driver)
    started = driver.start("A1", ORDER_KEY)
    driver.post(driver.confirmation(started))
    driver.post(driver.confirmation(started, mode="r", id_trans="R1"))

    send(driver, change("refunded"))

    assert "refunded_in_shop" not in driver.payment(started.payment_id).flags


def test_an_order_the_shop_reopened_can_be_paid_again(make_driver: MakeDriver) -> None:
    driver, _ = hook_shop(make_driver)
    send(driver, change("cancelled"))

    send(driver, change("reopened"))

    assert driver.open_pay("A1", ORDER_KEY).status_code == 302
    assert verdicts(driver)[-1] == ("accepted", "reopened A1")


def test_a_webhook_changing_nothing_is_accepted(make_driver: MakeDriver) -> None:
    driver, _ = hook_shop(make_driver)

    response = send(driver, json.dumps({"changes": []}).encode())

    assert response.status_code == 200
    assert verdicts(driver) == [("accepted", "nothing to change")]


# Limits and bugs


def test_a_webhook_over_256_kib_is_refused_and_recorded(make_driver: MakeDriver) -> None:
    driver, _ = hook_shop(make_driver)
    body = b"{" + b" " * MAX_BODY + b"}"

    response = send(driver, body)

    assert response.status_code == 413
    (row,) = stored(driver)
    assert (row.verdict, row.reason) == ("rejected", f"body over {MAX_BODY} bytes")
    assert len(row.body) == MAX_BODY


def test_a_bug_in_read_webhook_is_an_error_kept_with_its_traceback(
    make_driver: MakeDriver, caplog: pytest.LogCaptureFixture
) -> None:
    driver, book = hook_shop(make_driver)
    book.fail("read_webhook", KeyError("changes"))

    response = send(driver, change("cancelled"))

    assert response.status_code == 500
    ((verdict, reason),) = verdicts(driver)
    assert (verdict, reason) == ("error", "plugin 'kit-WebhookShop' failed in webhook: KeyError: 'changes'")
    logged = error_logs(caplog)
    assert len(logged) == 1
    assert "Traceback (most recent call last)" in logged[0]
    assert driver.open_pay("A1", ORDER_KEY).status_code == 302


class SloppyWebhookShop(WebhookShop):
    """Reads webhooks into plain dicts instead of ShopChange values (a bug)."""

    def read_webhook(self, request: WebhookRequest) -> Sequence[ShopChange]:
        return json.loads(request.body)["changes"]  # type: ignore[no-any-return]


def test_a_connector_reading_a_webhook_into_something_else_is_an_error(make_driver: MakeDriver) -> None:
    book = OrderBook()
    driver = book_driver(
        make_driver, book_shop(book, SloppyWebhookShop), settings={"webhook_secret": WEBHOOK_SECRET}
    )
    book.add("A1")

    response = send(driver, change("cancelled"))

    assert response.status_code == 500
    ((verdict, reason),) = verdicts(driver)
    assert verdict == "error"
    assert reason.startswith("plugin 'kit-SloppyWebhookShop' failed in webhook:")
    assert driver.open_pay("A1", ORDER_KEY).status_code == 302


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (ValidationError(Problem("topic", "not a Hook shop event")), "topic: not a Hook shop event"),
        (ConnectionError("connection reset"), "ConnectionError: connection reset"),
    ],
    ids=["refused", "network"],
)
def test_a_connector_failing_on_a_webhook_is_recorded_as_an_error(
    make_driver: MakeDriver, error: Exception, reason: str
) -> None:
    driver, book = hook_shop(make_driver)
    book.fail("read_webhook", error)

    response = send(driver, change("cancelled"))

    assert response.status_code == 500
    assert verdicts(driver) == [("error", reason)]


def test_a_payment_of_a_reopened_order_is_no_longer_flagged_closed(make_driver: MakeDriver) -> None:
    driver, _ = hook_shop(make_driver)
    started = driver.start("A1", ORDER_KEY)
    send(driver, change("cancelled"))

    send(driver, change("reopened"))
    again = driver.start("A1", ORDER_KEY)

    assert again.payment_id == started.payment_id
    assert "order_closed" not in driver.payment(started.payment_id).flags
