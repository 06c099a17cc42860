"""The platform's mails (FAQ 20, 11, 14), received by a real SMTP server on loopback."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest
from flask.testing import FlaskClient

from sandbox import mail
from sandbox.accounts import add_account
from sandbox.cards import Scenario
from sandbox.config import SandboxConfig
from sandbox.models import Transaction, TxStatus
from sandbox.platform import Platform
from sandbox.subscriptions import end_subscription
from tests.conftest import FrozenClock
from tests.sandbox.backoffice_fixtures import (
    SmtpSink,
    add_transaction,
    csrf_app,
    free_port,
    mails,
    start,
)
from tests.sandbox.conftest import ID_BOUTIQUE, card

MERCHANT = "merchant@shop.test"
BUYER = "buyer@example.com"


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    with SmtpSink.running() as sink:
        yield sink


@pytest.fixture
def sandbox_config(sandbox_config: SandboxConfig, smtp: SmtpSink) -> SandboxConfig:
    """The shared configuration, sending its mails to the local SMTP server."""
    return dataclasses.replace(
        sandbox_config, smtp_host="127.0.0.1", smtp_port=smtp.port, mail_from="sandbox@bluepaid.test"
    )


@pytest.fixture
def merchant(platform: Platform) -> None:
    add_account(platform, ID_BOUTIQUE, name="Boutique Démo", merchant_email=MERCHANT)


def outcome_mails(platform: Platform, **values: object) -> Transaction:
    """Record a transaction and its outcome's mails in one database transaction."""
    tx = add_transaction(platform, **values)
    with platform.db.transaction() as session:
        row = session.get(Transaction, tx.id)
        assert row is not None
        mail.payment_mails(platform, session, row)
    return tx


@pytest.mark.usefixtures("merchant")
def test_accepted_payment_sends_notification_then_acceptance_then_receipt(
    platform: Platform, smtp: SmtpSink
) -> None:
    tx = outcome_mails(platform)

    assert [(m.rcpt_tos, m.subject) for m in smtp.received] == [
        ([MERCHANT], f"[TEST] Nouvelle vente / new sale {tx.id_trans} ({ID_BOUTIQUE})"),
        ([MERCHANT], f"[TEST] REGLEMENT ACCEPTE / payment accepted {tx.id_trans}"),
        ([BUYER], f"[TEST] Votre paiement à Boutique Démo est accepté ({tx.id_trans})"),
    ]
    assert {m.mail_from for m in smtp.received} == {"sandbox@bluepaid.test"}
    assert {str(m.message["From"]) for m in smtp.received} == {"sandbox@bluepaid.test"}


@pytest.mark.usefixtures("merchant")
def test_every_test_mail_starts_with_the_test_banner(platform: Platform, smtp: SmtpSink) -> None:
    outcome_mails(platform)

    assert [m.body.splitlines()[0] for m in smtp.received] == [mail.TEST_BANNER] * 3
    assert mail.TEST_BANNER == "*** PAIEMENT DE TEST / TEST PAYMENT ***"


@pytest.mark.usefixtures("merchant")
def test_a_live_payment_has_no_banner(platform: Platform, smtp: SmtpSink) -> None:
    outcome_mails(platform, test=False)

    assert len(smtp.received) == 3
    assert all(mail.TEST_BANNER not in m.body for m in smtp.received)
    assert all(not m.subject.startswith("[TEST]") for m in smtp.received)


@pytest.mark.usefixtures("merchant")
def test_refused_payment_tells_the_merchant_only(platform: Platform, smtp: SmtpSink) -> None:
    tx = outcome_mails(platform, status=TxStatus.REFUSED.value, reason="refused: spending ceiling reached")

    assert [(m.rcpt_tos, m.subject) for m in smtp.received] == [
        ([MERCHANT], f"[TEST] Nouvelle vente / new sale {tx.id_trans} ({ID_BOUTIQUE})"),
        ([MERCHANT], f"[TEST] REGLEMENT REFUSE / payment refused {tx.id_trans}"),
    ]
    assert "refused: spending ceiling reached" in smtp.received[1].body


@pytest.mark.usefixtures("merchant")
def test_merchant_mails_speak_french_and_english_and_name_the_payment(
    platform: Platform, smtp: SmtpSink
) -> None:
    tx = outcome_mails(platform, langue="EN", id_client="order-77")

    accepted = smtp.received[1].body
    assert "Le règlement est accepté." in accepted
    assert "The payment is accepted." in accepted
    assert f"Transaction: {tx.id_trans}" in accepted
    assert "Référence / id_client: order-77" in accepted
    assert "Montant / amount: 2.07 EUR" in accepted
    assert "VISA **** 0004" in accepted


@pytest.mark.usefixtures("merchant")
@pytest.mark.parametrize(
    ("langue", "subject_start", "amount"),
    [
        ("FR", "[TEST] Votre paiement à Boutique Démo", "2,07\xa0€"),
        ("EN", "[TEST] Your payment to Boutique Démo", "€2.07"),
        ("DE", "[TEST] Your payment to Boutique Démo", "€2.07"),
    ],
    ids=["french", "english", "other-falls-back-to-english"],
)
def test_the_receipt_speaks_the_buyers_language(
    platform: Platform, smtp: SmtpSink, langue: str, subject_start: str, amount: str
) -> None:
    outcome_mails(platform, langue=langue)

    receipt = smtp.received[2]
    assert receipt.rcpt_tos == [BUYER]
    assert receipt.subject.startswith(subject_start)
    assert amount in receipt.body


@pytest.mark.usefixtures("merchant")
def test_a_subscription_receipt_carries_a_working_cancel_link(platform: Platform, smtp: SmtpSink) -> None:
    subscription = start(platform, card(Scenario.ACCEPTED))

    receipt = next(m for m in smtp.received if m.rcpt_tos == ["abonne@example.com"])
    link = f"http://sandbox.test/abo/resilier/{subscription.cancel_token}"
    assert link in receipt.body.splitlines()
    assert "Pour le résilier, suivez ce lien" in receipt.body
    page = csrf_app(platform).test_client().get(link.removeprefix("http://sandbox.test"))
    assert page.status_code == 200
    assert subscription.num_abo in page.get_data(as_text=True)


@pytest.mark.usefixtures("merchant")
def test_merchant_mail_of_a_subscription_names_it(platform: Platform, smtp: SmtpSink) -> None:
    subscription = start(platform, card(Scenario.ACCEPTED))

    assert f"Abonnement / subscription: {subscription.num_abo}, prélèvement / debit 1 / 3" in (
        smtp.received[0].body
    )


@pytest.mark.usefixtures("merchant")
def test_mails_are_kept_in_the_mailbox_with_their_smtp_result(platform: Platform, smtp: SmtpSink) -> None:
    tx = outcome_mails(platform)

    kept = mails(platform)
    assert [(m.kind, m.to, m.smtp_result, m.transaction_id) for m in kept] == [
        ("notification", MERCHANT, "sent", tx.id),
        ("accepted", MERCHANT, "sent", tx.id),
        ("receipt", BUYER, "sent", tx.id),
    ]
    assert [m.subject for m in kept] == [m.subject for m in smtp.received]


@pytest.mark.usefixtures("merchant")
def test_nothing_is_sent_when_the_transaction_rolls_back(platform: Platform, smtp: SmtpSink) -> None:
    tx = add_transaction(platform)

    with pytest.raises(RuntimeError), platform.db.transaction() as session:
        row = session.get(Transaction, tx.id)
        assert row is not None
        mail.payment_mails(platform, session, row)
        raise RuntimeError("the payment failed after the mails were recorded")

    assert smtp.received == []
    assert mails(platform) == []


def test_a_missing_merchant_address_keeps_the_mail_unsent(platform: Platform, smtp: SmtpSink) -> None:
    add_account(platform, ID_BOUTIQUE)

    outcome_mails(platform)

    assert [(m.kind, m.smtp_result) for m in mails(platform)] == [
        ("notification", "not sent: no address"),
        ("accepted", "not sent: no address"),
        ("receipt", "sent"),
    ]
    assert [m.rcpt_tos for m in smtp.received] == [[BUYER]]


def test_an_unreachable_smtp_server_never_breaks_the_payment(
    sandbox_config: SandboxConfig, base_clock: FrozenClock
) -> None:
    config = dataclasses.replace(sandbox_config, smtp_port=free_port())
    platform = Platform(config, base_clock=base_clock)
    try:
        add_account(platform, ID_BOUTIQUE, merchant_email=MERCHANT)

        tx = outcome_mails(platform)

        kept = mails(platform)
        assert len(kept) == 3
        assert all(m.smtp_result.startswith("failed: ") for m in kept)
        assert all(m.transaction_id == tx.id for m in kept)
    finally:
        platform.dispose()


def test_without_smtp_the_mails_are_only_kept(platform: Platform, smtp: SmtpSink) -> None:
    unsent = Platform(dataclasses.replace(platform.config, smtp_host=""), base_clock=platform.base_clock)
    try:
        add_account(unsent, ID_BOUTIQUE, merchant_email=MERCHANT)

        outcome_mails(unsent)

        assert {m.smtp_result for m in mails(unsent)} == {"not sent: SMTP not configured"}
        assert smtp.received == []
    finally:
        unsent.dispose()


@pytest.mark.usefixtures("merchant")
def test_a_buyer_cancellation_is_mailed_to_the_merchant(platform: Platform, smtp: SmtpSink) -> None:
    subscription = start(platform, card(Scenario.ACCEPTED))
    smtp.received.clear()

    end_subscription(platform, subscription.num_abo, "buyer")

    assert [(m.rcpt_tos, m.subject) for m in smtp.received] == [
        ([MERCHANT], f"RESILIATION / subscription cancelled {subscription.num_abo}")
    ]


@pytest.mark.usefixtures("merchant")
def test_the_mailbox_page_lists_and_shows_mails_escaped(platform: Platform) -> None:
    outcome_mails(platform, id_client="<script>alert(1)</script>")
    browser: FlaskClient = csrf_app(platform).test_client()

    listing = browser.get("/console/mails?lang=en").get_data(as_text=True)
    first = mails(platform)[0]
    page = browser.get(f"/console/mails/{first.id}").get_data(as_text=True)

    assert "REGLEMENT ACCEPTE / payment accepted" in listing
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>alert(1)</script>" not in page
