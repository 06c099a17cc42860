"""The sandbox console: transactions with filters (FAQ 19, 21), every confirmation sent
with the shop's answer, the clock, languages, escaping and CSRF."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from flask.testing import FlaskClient

from sandbox.accounts import add_account
from sandbox.cards import Scenario
from sandbox.delivery import build_confirmation, deliver_due, schedule
from sandbox.models import Account, Transaction, TxKind, TxStatus
from sandbox.platform import Platform
from tests.sandbox.backoffice_fixtures import add_transaction, csrf_app, csrf_token, start, transactions
from tests.sandbox.conftest import ID_BOUTIQUE, ShopServer, card

START = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


@pytest.fixture
def browser(platform: Platform) -> FlaskClient:
    return csrf_app(platform).test_client()


def listed(browser: FlaskClient, query: str = "") -> list[str]:
    """The ``id_trans`` shown by the transaction list for ``query``."""
    answer = browser.get(f"/console/transactions?{query}")
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return re.findall(r'href="/console/transactions/([^"?]+)"', answer.get_data(as_text=True))


@pytest.fixture
def variety(platform: Platform, account: Account) -> dict[str, Transaction]:
    """Transactions of every sort, on two accounts and three days."""
    add_account(platform, "other_shop")
    return {
        "accepted": add_transaction(platform, id_trans="T-ACCEPTED"),
        "refused": add_transaction(platform, id_trans="T-REFUSED", status=TxStatus.REFUSED.value),
        "pending": add_transaction(platform, id_trans="T-PENDING", status=TxStatus.PENDING.value),
        "live": add_transaction(platform, id_trans="T-LIVE", test=False),
        "other": add_transaction(platform, id_trans="T-OTHER", id_boutique="other_shop"),
        "old": add_transaction(platform, id_trans="T-OLD", created_at=START - timedelta(days=10)),
        "debit": add_transaction(
            platform, id_trans="T-DEBIT", kind=TxKind.DEBIT.value, created_at=START - timedelta(days=3)
        ),
    }


@pytest.mark.usefixtures("variety")
@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("status=refused", {"T-REFUSED"}),
        ("status=pending", {"T-PENDING"}),
        ("test=live", {"T-LIVE"}),
        ("test=test&status=accepted&account=21573www&date_from=2026-11-26",
         {"T-ACCEPTED"}),
        ("account=other_shop", {"T-OTHER"}),
        ("kind=debit", {"T-DEBIT"}),
        ("date_to=2026-11-23", {"T-OLD", "T-DEBIT"}),
        ("date_from=2026-11-20&date_to=2026-11-25", {"T-DEBIT"}),
        ("date_from=2026-11-26&date_to=2026-11-26&account=other_shop", {"T-OTHER"}),
    ],
)  # fmt: skip
def test_the_transaction_list_filters(browser: FlaskClient, query: str, expected: set[str]) -> None:
    assert set(listed(browser, query)) == expected


def test_the_transaction_list_shows_everything_newest_first(
    browser: FlaskClient, variety: dict[str, Transaction]
) -> None:
    shown = listed(browser)

    assert set(shown) == {tx.id_trans for tx in variety.values()}
    assert shown[-2:] == ["T-DEBIT", "T-OLD"]


@pytest.mark.usefixtures("variety")
def test_the_list_filters_by_subscription(platform: Platform, browser: FlaskClient) -> None:
    subscription = start(platform, card(Scenario.ACCEPTED))

    shown = listed(browser, f"num_abo={subscription.num_abo}")

    assert shown == [tx.id_trans for tx in transactions(platform, subscription_id=subscription.id)]


@pytest.mark.usefixtures("variety")
def test_a_malformed_date_filter_is_refused_by_name(browser: FlaskClient) -> None:
    answer = browser.get("/console/transactions?date_from=26/11/2026&lang=en")

    assert answer.status_code == 400
    assert "Not a valid date value." in answer.get_data(as_text=True)


def test_merchant_data_is_escaped_everywhere(
    platform: Platform, browser: FlaskClient, account: Account
) -> None:
    script = "<script>alert(1)</script>"
    tx = add_transaction(
        platform, id_trans="T-XSS", id_client=script, divers=script, request={"ID_CLIENT": script}
    )

    for path in ("/console/transactions", f"/console/transactions/{tx.id_trans}"):
        page = browser.get(path).get_data(as_text=True)
        assert script not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_the_detail_shows_each_confirmation_sent_and_the_shops_answer(
    platform: Platform, browser: FlaskClient, account: Account, shop: ShopServer
) -> None:
    shop.status = 500
    shop.answer = b"<b>order locked</b>"
    tx = add_transaction(platform, id_trans="T-SENT", url_confirm=shop.confirm_url)
    with platform.db.transaction() as session:
        row = session.get(Transaction, tx.id)
        assert row is not None
        schedule(platform, session, row, build_confirmation(row, etat="ok").fields(), note="first try")
        schedule(platform, session, row, build_confirmation(row, etat="ok").fields(), delay=60, note="later")
    deliver_due(platform)

    page = browser.get("/console/transactions/T-SENT?lang=en").get_data(as_text=True)

    rows = re.findall(r'<tr class="delivery">(.*?)</tr>', page, flags=re.S)
    assert len(rows) == 2
    assert "HTTP 500" in rows[0]
    assert "&lt;b&gt;order locked&lt;/b&gt;" in rows[0]
    assert "sent" in rows[0]
    assert "first try" in rows[0]
    assert "id_trans=T-SENT" in rows[0]
    assert "mode=test" in rows[0]
    assert shop.confirm_url in rows[0]
    assert "scheduled" in rows[1]
    assert "HTTP" not in rows[1]
    assert "<b>order locked</b>" not in page


def test_the_detail_of_an_unknown_transaction_is_404(browser: FlaskClient) -> None:
    assert browser.get("/console/transactions/nope").status_code == 404


def test_the_tick_form_advances_the_clock_and_runs_what_is_due(
    platform: Platform, browser: FlaskClient, account: Account, shop: ShopServer
) -> None:
    subscription = start(platform, card(Scenario.ACCEPTED), shop.confirm_url)

    answer = browser.post(
        "/console/tick?lang=en", data={"days": "30", "csrf_token": csrf_token(browser, "/console/")}
    )

    assert answer.status_code == 302
    assert platform.now() == START + timedelta(days=30)
    assert len(transactions(platform, subscription_id=subscription.id)) == 2
    assert len(shop.posts()) == 2  # the first debit's and the second's
    page = browser.get(answer.headers["Location"]).get_data(as_text=True)
    assert "1 subscription debit(s), 2 confirmation(s) sent." in page


def test_the_tick_form_needs_its_csrf_token(platform: Platform, browser: FlaskClient) -> None:
    assert browser.post("/console/tick", data={"days": "30"}).status_code == 400
    assert platform.now() == START


def test_the_tick_form_refuses_a_negative_jump(platform: Platform, browser: FlaskClient) -> None:
    answer = browser.post(
        "/console/tick", data={"days": "-1", "csrf_token": csrf_token(browser, "/console/")}
    )

    assert answer.status_code == 302
    assert platform.now() == START
    assert "Number must be between 0 and 3660" in browser.get("/console/").get_data(as_text=True)


def test_the_index_shows_the_clock_counts_and_test_cards(
    browser: FlaskClient, variety: dict[str, Transaction]
) -> None:
    page = browser.get("/console/?lang=en").get_data(as_text=True)

    assert "Nov 26, 2026, 12:00:00\u202fPM UTC" in page
    assert card(Scenario.REFUSED_CEILING).number in page
    assert 'href="/console/transactions?status=refused">refused</a></td><td>1<' in page


@pytest.mark.parametrize(
    ("query", "headers", "expected"),
    [
        ("?lang=fr", {}, "Console du bac à sable"),
        ("?lang=en", {"Accept-Language": "fr"}, "Sandbox console"),
        ("", {"Accept-Language": "fr-FR,fr;q=0.9"}, "Console du bac à sable"),
        ("", {"Accept-Language": "de"}, "Sandbox console"),
        ("", {}, "Sandbox console"),
    ],
)
def test_the_console_speaks_french_or_english(
    browser: FlaskClient, query: str, headers: dict[str, str], expected: str
) -> None:
    page = browser.get(f"/console/{query}", headers=headers).get_data(as_text=True)

    assert f"<title>{expected}</title>" in page


def test_a_chosen_language_is_remembered(browser: FlaskClient) -> None:
    browser.get("/console/?lang=fr")

    page = browser.get("/console/transactions", headers={"Accept-Language": "en"}).get_data(as_text=True)

    assert "Transactions — Console du bac à sable" in page


def test_the_detail_shows_the_request_variables(
    platform: Platform, browser: FlaskClient, account: Account
) -> None:
    subscription = start(platform, card(Scenario.ACCEPTED))
    [first] = transactions(platform, subscription_id=subscription.id)

    page = browser.get(f"/console/transactions/{first.id_trans}").get_data(as_text=True)

    assert '<th scope="row">NB_OCCURENCES_MAX</th><td class="long">3</td>' in page
    assert subscription.num_abo in page


def test_the_mailbox_links_each_mail_to_its_transaction(
    platform: Platform, browser: FlaskClient, account: Account
) -> None:
    subscription = start(platform, card(Scenario.ACCEPTED))
    [first] = transactions(platform, subscription_id=subscription.id)

    page = browser.get("/console/mails").get_data(as_text=True)

    assert page.count(f'href="/console/transactions/{first.id_trans}"') == 3
    assert ID_BOUTIQUE in page
