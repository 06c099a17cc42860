"""The sandbox as a newcomer finds it: a landing page, a card form that can be left as it
is, a refusal that says why, and a console that speaks French throughout."""

from __future__ import annotations

import html
import re

from flask.testing import FlaskClient

from sandbox.cards import CardType, Scenario
from sandbox.models import Account
from sandbox.platform import Platform
from tests.sandbox.backoffice_fixtures import csrf_app
from tests.sandbox.conftest import ID_BOUTIQUE, card, card_form, open_payment, pay

FRENCH = {"Accept-Language": "fr-FR,fr;q=0.9"}


def selected(page: str, name: str) -> str:
    """The value a ``<select name=name>`` of ``page`` starts with."""
    select = re.search(rf'<select[^>]*name="{name}"[^>]*>(.*?)</select>', page, re.S)
    assert select, name
    [value] = re.findall(r'<option selected value="([^"]+)"', select.group(1))
    return value


def test_the_landing_page_says_what_the_sandbox_is_and_where_to_go(client: FlaskClient) -> None:
    response = client.get("/")

    assert response.status_code == 200
    assert "<h1>Bluepaid sandbox</h1>" in response.text
    assert 'href="/console/"' in response.text
    assert "http://sandbox.test/in.php" in response.text
    assert "http://sandbox.test/ABOv2/in.php" in response.text
    # Without an account, the way to make one.
    assert "bluepaid sandbox account add" in response.text


def test_the_landing_page_opens_a_test_payment_for_an_account(client: FlaskClient, account: Account) -> None:
    landing = client.get("/", headers=FRENCH).text
    assert '<html lang="fr">' in landing
    assert f'<option value="{ID_BOUTIQUE}">' in landing

    opened = client.get(
        "/in.php",
        query_string={
            "id_boutique": ID_BOUTIQUE,
            "montant": "12.50",
            "devise": "EUR",
            "langue": "FR",
            "id_client": "test-1",
        },
    )

    assert opened.status_code == 303
    assert opened.headers["Location"].startswith("/p/")


def test_the_card_form_starts_on_an_expiry_that_has_not_passed(
    client: FlaskClient, platform: Platform, account: Account
) -> None:
    today = platform.now().date()
    page = client.get(f"/p/{open_payment(client)}").text

    assert selected(page, "expiry_month") == f"{today.month:02d}"
    assert selected(page, "expiry_year") == str(today.year + 1)


def test_a_card_form_left_as_it_is_pays(client: FlaskClient, platform: Platform, account: Account) -> None:
    today = platform.now().date()
    accepted = card(Scenario.ACCEPTED, CardType.VISA)
    form = card_form(accepted.number, "VISA", month=f"{today.month:02d}", year=str(today.year + 1))

    answer = client.post(f"/p/{open_payment(client)}", data=form)

    assert answer.status_code == 303, answer.text


def test_a_test_card_under_the_wrong_type_is_refused_with_the_reason(
    client: FlaskClient, account: Account
) -> None:
    token = open_payment(client, langue="FR")
    visa = card(Scenario.ACCEPTED, CardType.VISA)

    pay(client, token, visa, card_type="MASTERCARD")
    page = html.unescape(client.get(f"/p/{token}").text)

    assert "Paiement refusé" in page
    assert "Le numéro est celui d'une carte VISA, et le type choisi est MASTERCARD" in page
    # The way back to the shop carries the refusal, as the redirect would have.
    assert re.search(r'href="[^"]*etat=ko[^"]*"', page)


def test_a_refusal_by_the_spending_ceiling_says_so(client: FlaskClient, account: Account) -> None:
    token = open_payment(client, langue="EN")

    pay(client, token, card(Scenario.REFUSED_CEILING))
    page = html.unescape(client.get(f"/p/{token}").text)

    assert "Your card's spending ceiling is reached" in page


def test_the_french_console_shows_states_and_outcomes_in_french(
    platform: Platform, client: FlaskClient, account: Account
) -> None:
    pay(client, open_payment(client), card(Scenario.ACCEPTED, CardType.VISA))
    console = csrf_app(platform).test_client()

    transactions = console.get("/console/transactions?lang=fr").text
    mails = console.get("/console/mails").text

    assert "acceptée" in transactions
    assert ">accepted<" not in transactions
    # No SMTP server is configured in tests: the mailbox says so in French.
    assert re.search("non envoyé[\u00a0\u202f]: SMTP non configuré", html.unescape(mails))
    assert "not sent" not in mails


def test_the_console_keeps_words_whole(platform: Platform) -> None:
    page = csrf_app(platform).test_client().get("/console/transactions").text
    styles = re.sub(
        r"/\*.*?\*/", "", "".join(re.findall(r"<style[^>]*>(.*?)</style>", page, re.S)), flags=re.S
    )

    # Only values that are one long token may break anywhere; words never do.
    breaking = r"word-break:\s*break-all|overflow-wrap:\s*anywhere"
    rules = re.findall(rf"([^{{}}]+)\{{([^}}]*(?:{breaking})[^}}]*)\}}", styles)
    assert rules, "long tokens need a rule that lets them break"
    selectors = [one.strip() for group, _ in rules for one in group.split(",")]
    assert all(one.endswith(".long") or one == "pre" for one in selectors), selectors
