"""Subscriptions (``ABOv2``) in the hub: the first debit pays the order, later
debits are counted on the subscription and told to the shop, each once."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import pytest
from sqlalchemy import update

from bluepaid_plugins.domain import Schedule
from bluepaid_plugins.errors import ValidationError
from bluepaid_plugins.money import Money
from hub.models import PaymentEventRow, Verdict
from hub.orders import create_link_order
from hub.payments import show_payment
from hub.tasks import APPLY_EVENT
from tests.hub.conftest import PLATFORM, HubDriver, Started


def subscribe(driver: HubDriver, occurrences: int = 3, initial: str | None = "5.00") -> Started:
    schedule = Schedule(
        occurrences=occurrences,
        initial=Money.parse(initial, "EUR") if initial else None,
        tolerance_days=3,
        tolerance_max=2,
    )
    order = create_link_order(
        driver.hub.db, driver.shop, Money.parse("9.90", "EUR"), now=driver.hub.clock(), schedule=schedule
    )
    response = driver.client.get(driver.pay_path(order.ref))
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith(f"{PLATFORM}/ABOv2/in.php?")
    fields = dict(parse_qsl(urlsplit(location).query))
    payment_id = fields["URL_RETOUR_OK"].rstrip("/").split("/")[-2]
    # The confirmation echoes lower-case fields, as on in.php.
    return Started(
        payment_id,
        {
            "id_client": fields["ID_CLIENT"],
            "id_boutique": fields["ID_BOUTIQUE"],
            "divers": fields["DIVERS"],
            "montant": fields.get("MONTANT_INITIAL", fields["MONTANT"]),
            "devise": fields["DEVISE"],
            "_request": "&".join(f"{k}={v}" for k, v in fields.items()),
        },
    )


def debit(driver: HubDriver, started: Started, n: int, *, montant: str = "9.90", **extra: str) -> str:
    fields = driver.confirmation(
        started,
        id_trans=f"D{n}",
        montant=montant,
        num_abo="A0000000042",
        num_prochaine_presentation=str(n + 1),
    )
    fields.update(extra)
    driver.post(fields)
    return str(driver.last_inbox().verdict)


def test_a_subscription_link_goes_to_abov2_with_the_schedule(driver: HubDriver) -> None:
    started = subscribe(driver)

    request = started.fields["_request"]
    for part in ("MONTANT=9.90", "MONTANT_INITIAL=5.00", "NB_OCCURENCES_MAX=3", "PERIODE_TYPE=M"):
        assert part in request
    assert "TOLERANCE_JOURS=3" in request and "TOLERANCE_NBMAX=2" in request


def test_first_debit_pays_and_later_debits_are_counted_once(driver: HubDriver) -> None:
    started = subscribe(driver)

    assert debit(driver, started, 1, montant="5.00") == Verdict.ACCEPTED
    assert debit(driver, started, 2) == Verdict.ACCEPTED
    assert debit(driver, started, 2) == Verdict.DUPLICATE
    assert debit(driver, started, 3, fini="oui") == Verdict.ACCEPTED

    shown = show_payment(driver.hub, started.payment_id)
    assert shown["state"] == "paid"
    assert shown["subscription"] == {
        "num_abo": "A0000000042",
        "debits_done": 3,
        "occurrences": 3,
        "every": "1M",
        "amount": "9.90",
        "finished": True,
    }
    assert driver.tasks(APPLY_EVENT) == 3


def test_a_renewal_for_another_amount_is_flagged_and_not_counted(driver: HubDriver) -> None:
    started = subscribe(driver)
    debit(driver, started, 1, montant="5.00")

    assert debit(driver, started, 2, montant="0.99") == Verdict.AMOUNT_MISMATCH

    assert show_payment(driver.hub, started.payment_id)["subscription"]["debits_done"] == 1
    assert driver.tasks(APPLY_EVENT) == 1


def test_a_refused_renewal_is_told_to_the_shop_and_the_payment_stays_paid(driver: HubDriver) -> None:
    started = subscribe(driver)
    debit(driver, started, 1, montant="5.00")

    assert debit(driver, started, 2, etat="ko") == Verdict.ACCEPTED
    driver.run_worker()

    shown = show_payment(driver.hub, started.payment_id)
    assert (shown["state"], shown["subscription"]["debits_done"]) == ("paid", 1)
    assert [e["kind"] for e in shown["events"]] == ["paid", "refused"]
    assert driver.tasks(APPLY_EVENT) == 2


def test_a_debit_of_another_subscription_is_rejected(driver: HubDriver) -> None:
    started = subscribe(driver)
    debit(driver, started, 1, montant="5.00")

    assert debit(driver, started, 2, num_abo="A9999999999") == Verdict.REJECTED
    assert driver.sent[-1].status_code == 403


def test_a_schedule_breaking_the_protocol_is_refused_at_creation(driver: HubDriver) -> None:
    with pytest.raises(ValidationError) as refused:
        create_link_order(
            driver.hub.db,
            driver.shop,
            Money.parse("9.90", "EUR"),
            now=driver.hub.clock(),
            schedule=Schedule(occurrences=0, period_type="Y"),
        )

    fields = {problem.field for problem in refused.value.problems}
    assert {"NB_OCCURENCES_MAX", "PERIODE_TYPE"} <= fields


def test_a_debit_without_a_number_follows_the_debits_counted_before_numbers_were_kept(
    driver: HubDriver,
) -> None:
    started = subscribe(driver)
    debit(driver, started, 1, montant="5.00")
    debit(driver, started, 2)
    with driver.hub.db.transaction() as session:
        session.execute(update(PaymentEventRow).values(debit=None))  # rows written before migration 0007

    assert debit(driver, started, 3, num_prochaine_presentation="") == Verdict.ACCEPTED

    assert show_payment(driver.hub, started.payment_id)["subscription"]["debits_done"] == 3
    assert driver.task_rows(APPLY_EVENT)[-1].payload["debit"] == 3
