"""Anonymous junk at the confirmation URL costs little and never crowds out the real ones."""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit

from sqlalchemy import func, select

from hub.models import InboxMessage, Verdict
from hub.urls import confirmation_url
from tests.hub.conftest import HubDriver

STRANGER = "203.0.113.9"


def inbox_rows(driver: HubDriver) -> list[InboxMessage]:
    with driver.hub.db.transaction() as session:
        return list(session.scalars(select(InboxMessage).order_by(InboxMessage.id)))


def inbox_bytes(driver: HubDriver) -> int:
    with driver.hub.db.transaction() as session:
        return int(session.scalar(select(func.sum(func.length(InboxMessage.body)))) or 0)


def test_a_wrong_token_from_a_stranger_is_written_down_without_its_body(driver: HubDriver) -> None:
    response = driver.post("etat=ok&" + "x=1&" * 3000, url="/confirm/demo/not-the-token", remote=STRANGER)

    assert response.status_code == 404
    (row,) = inbox_rows(driver)
    assert (row.body, row.headers, row.verdict) == (b"", {}, Verdict.REJECTED)
    assert row.remote_addr == STRANGER and "not kept" in row.reason
    assert "not-the-token" not in row.path


def test_an_unknown_shop_is_junk_too(driver: HubDriver) -> None:
    response = driver.post("etat=ok", url="/confirm/nowhere/abc", remote=STRANGER)

    assert response.status_code == 404
    assert inbox_rows(driver)[0].body == b""


def test_a_flood_from_one_source_writes_a_bounded_number_of_rows(driver: HubDriver) -> None:
    for attempt in range(200):
        driver.post(f"etat=ok&n={attempt}", url=f"/confirm/demo/guess{attempt}", remote=STRANGER)

    assert len(inbox_rows(driver)) == 30
    assert inbox_bytes(driver) == 0
    assert {response.status_code for response in driver.sent} == {404}


def test_a_real_confirmation_during_a_flood_is_stored_whole_and_applied(driver: HubDriver) -> None:
    started = driver.start(driver.new_order())
    for attempt in range(100):
        driver.post("etat=ok", url=f"/confirm/demo/guess{attempt}", remote=STRANGER)

    response = driver.post(driver.confirmation(started))

    assert response.status_code == 200
    assert driver.last_inbox().body == urlencode(driver.confirmation(started)).encode()
    assert driver.payment(started.payment_id).state == "paid"


def test_a_platform_address_with_a_stale_url_is_kept_whole_to_be_replayed(driver: HubDriver) -> None:
    started = driver.start(driver.new_order())
    body = urlencode(driver.confirmation(started))
    stale = urlsplit(confirmation_url(driver.hub, driver.shop)).path.rsplit("/", 1)[0] + "/old-token"

    response = driver.post(body, url=stale)  # from the shop's allowed platform address

    assert response.status_code == 404
    row = driver.last_inbox()
    assert row.body == body.encode()
    assert row.reason == "url token does not match the shop's confirmation URL"


def test_a_flood_from_many_sources_writes_a_bounded_number_of_rows(driver: HubDriver) -> None:
    for attempt in range(400):
        driver.post("etat=ok", url=f"/confirm/demo/guess{attempt}", remote=f"203.0.113.{attempt % 200 + 1}")

    assert len(inbox_rows(driver)) == 300
