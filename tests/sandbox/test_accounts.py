"""Sandbox accounts: ``bluepaid sandbox account add|show|set`` and the console's account pages,
with the production lock of FAQ 12 and 28."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from flask.testing import FlaskClient

from bluepaid_plugins.errors import ValidationError
from hub.cli import main
from sandbox.accounts import add_account, get_account
from sandbox.cli import sandbox
from sandbox.models import Account
from sandbox.platform import Platform
from tests.sandbox.backoffice_fixtures import csrf_app, csrf_token


@pytest.fixture
def cli(tmp_path: Path) -> Any:
    """Run ``bluepaid sandbox ...`` on a fresh database file; the click Result."""
    env = {"BLUEPAID_SANDBOX_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite3'}"}

    def run(*args: str) -> Result:
        return CliRunner().invoke(sandbox, list(args), env=env)

    return run


def _json(result: Result) -> dict[str, Any]:
    assert result.exit_code == 0, (result.output, result.exception)
    data: dict[str, Any] = json.loads(result.output)
    return data


def test_add_then_show_gives_the_settings_as_json(cli: Any) -> None:
    _json(
        cli(
            "account", "add", "21573www", "--name", "Boutique", "--url-confirmation",
            "https://shop.example/bluepaid/confirm", "--ban-country", "ru", "--json",
        )
    )  # fmt: skip

    shown = _json(cli("account", "show", "21573www", "--json"))

    assert shown["mode"] == "test"
    assert shown["plan"] == "START"
    assert shown["url_confirmation"] == "https://shop.example/bluepaid/confirm"
    assert shown["banned_countries"] == ["RU"]


def test_form_settings_change_freely_in_test_mode(cli: Any) -> None:
    _json(cli("account", "add", "21573www", "--json"))

    changed = _json(cli("account", "set", "21573www", "--referrer-url", "https://shop.example/", "--json"))

    assert changed["referrer_url"] == "https://shop.example/"


@pytest.mark.parametrize(
    ("option", "field"),
    [
        ("--referrer-url", "referrer_url"),
        ("--url-retour-ok", "url_retour_ok"),
        ("--url-retour-stop", "url_retour_stop"),
        ("--url-confirmation", "url_confirmation"),
    ],
)
def test_production_lock_refuses_each_form_setting_with_the_faq_explanation(
    cli: Any, option: str, field: str
) -> None:
    _json(cli("account", "add", "21573www", "--mode", "production", "--json"))

    result = cli("account", "set", "21573www", option, "https://elsewhere.example/x", "--json")

    assert result.exit_code != 0
    assert isinstance(result.exception, ValidationError)
    assert [problem.field for problem in result.exception.problems] == [field]
    message = str(result.exception)
    assert "locked in production" in message
    assert "FAQ 12 and 28" in message
    assert "switch the account back to test mode" in message
    assert _json(cli("account", "show", "21573www", "--json"))[field] == ""


def test_the_bluepaid_command_prints_the_lock_on_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("BLUEPAID_SANDBOX_DATABASE_URL", f"sqlite:///{tmp_path / 'main.sqlite3'}")
    assert main(["sandbox", "account", "add", "21573www", "--mode", "production", "--json"]) == 0
    capsys.readouterr()

    code = main(["sandbox", "account", "set", "21573www", "--url-confirmation", "https://x.example/c"])

    assert code == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("error: account 21573www not changed: url_confirmation: is locked in production")
    assert "(FAQ 12 and 28)" in err


def test_production_still_allows_the_settings_outside_the_form(cli: Any) -> None:
    _json(cli("account", "add", "21573www", "--mode", "production", "--json"))

    changed = _json(
        cli(
            "account", "set", "21573www", "--name", "Live shop", "--plan", "PRO", "--merchant-email",
            "owner@shop.example", "--ban-country", "DE", "--buyer-form", "--json",
        )
    )  # fmt: skip

    assert (changed["name"], changed["plan"], changed["merchant_email"]) == (
        "Live shop",
        "PRO",
        "owner@shop.example",
    )
    assert changed["banned_countries"] == ["DE"]
    assert changed["buyer_form"] is True


def test_back_in_test_mode_the_form_settings_unlock(cli: Any) -> None:
    _json(cli("account", "add", "21573www", "--mode", "production", "--json"))
    _json(cli("account", "set", "21573www", "--mode", "test", "--json"))

    changed = _json(cli("account", "set", "21573www", "--url-retour-ok", "https://shop.example/ok", "--json"))

    assert changed["url_retour_ok"] == "https://shop.example/ok"


def test_adding_an_existing_account_is_refused(cli: Any) -> None:
    _json(cli("account", "add", "21573www", "--json"))

    result = cli("account", "add", "21573www", "--json")

    assert result.exit_code != 0
    assert "already exists" in str(result.exception)


def test_a_url_without_scheme_is_refused_by_name(cli: Any) -> None:
    result = cli("account", "add", "21573www", "--url-confirmation", "shop.example/confirm")

    assert result.exit_code != 0
    assert isinstance(result.exception, ValidationError)
    assert [p.field for p in result.exception.problems] == ["url_confirmation"]


# ---------------------------------------------------------------- the console's account pages


@pytest.fixture
def browser(platform: Platform) -> FlaskClient:
    return csrf_app(platform).test_client()


def _form(account: Account, **changes: str) -> dict[str, str]:
    values = {
        "name": account.name,
        "mode": account.mode,
        "referrer_url": account.referrer_url,
        "url_retour_ok": account.url_retour_ok,
        "url_retour_stop": account.url_retour_stop,
        "url_confirmation": account.url_confirmation,
        "banned_countries": ", ".join(account.banned_countries),
        "plan": account.plan,
        "merchant_email": account.merchant_email,
    }
    values.update(changes)
    return values


def test_console_saves_an_account_in_test_mode(platform: Platform, browser: FlaskClient) -> None:
    account = add_account(platform, "21573www")
    token = csrf_token(browser, "/console/accounts/21573www")

    answer = browser.post(
        "/console/accounts/21573www",
        data={
            **_form(account, referrer_url="https://shop.example/", banned_countries="ru de"),
            "csrf_token": token,
        },
    )

    assert answer.status_code == 302
    saved = get_account(platform, "21573www")
    assert saved.referrer_url == "https://shop.example/"
    assert saved.banned_countries == ["RU", "DE"]


def test_console_shows_the_production_lock_as_an_error(platform: Platform, browser: FlaskClient) -> None:
    account = add_account(platform, "21573www", mode="production", url_retour_ok="https://shop.example/ok")
    page = browser.get("/console/accounts/21573www?lang=en").get_data(as_text=True)
    assert "are locked (FAQ 12 and 28)" in page
    token = csrf_token(browser, "/console/accounts/21573www")

    answer = browser.post(
        "/console/accounts/21573www",
        data={**_form(account, url_retour_ok="https://elsewhere.example/ok"), "csrf_token": token},
    )

    assert answer.status_code == 400
    text = answer.get_data(as_text=True)
    assert "is locked in production" in text
    assert "FAQ 12 and 28" in text
    assert get_account(platform, "21573www").url_retour_ok == "https://shop.example/ok"


def test_console_account_form_needs_its_csrf_token(platform: Platform, browser: FlaskClient) -> None:
    account = add_account(platform, "21573www")

    answer = browser.post("/console/accounts/21573www", data=_form(account, name="Changed"))

    assert answer.status_code == 400
    assert get_account(platform, "21573www").name == "21573www"


def test_console_creates_an_account(platform: Platform, browser: FlaskClient) -> None:
    token = csrf_token(browser, "/console/accounts")

    answer = browser.post(
        "/console/accounts",
        data={
            "id_boutique": "new_shop",
            "name": "New",
            "merchant_email": "m@shop.example",
            "csrf_token": token,
        },
    )

    assert answer.status_code == 302
    assert get_account(platform, "new_shop").merchant_email == "m@shop.example"


def test_console_refuses_a_bad_account_id_by_name(platform: Platform, browser: FlaskClient) -> None:
    token = csrf_token(browser, "/console/accounts")

    answer = browser.post("/console/accounts", data={"id_boutique": "bad id!", "csrf_token": token})

    assert answer.status_code == 400
    assert "1 to 32 letters, digits, _ or -" in answer.get_data(as_text=True)
