"""The ``bluepaid`` command for contract v1: connectors, pay URLs, status mappings,
settings sealed at rest and their keys, checks, the outbox's tracebacks."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from importlib.metadata import version
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from cryptography.fernet import Fernet

from bluepaid_plugins import Secret
from bluepaid_plugins.errors import ConfigurationError
from bluepaid_plugins.paylink import TokenCheck, check_pay_token
from hub.shops import get_shop
from hub.testing.report import Report
from hub.vault import Vault
from tests.hub.conftest import PUBLIC, SETTINGS_KEY
from tests.hub.contract_connectors import (
    WEBHOOK_SECRET,
    SettingsShop,
    WebhookShop,
    app_from_env,
    hub_from_env,
    raw_rows,
    registering,
)
from tests.hub.test_cli import Run, _paid_link, assert_one_line_error, path_and_query

pytest_plugins = ["tests.hub.contract_fixtures"]

API_KEY = "sk_live_51Hx7QbT3"
SHIPPED_REPORT = Path(__file__).parents[2] / "connectors" / "conformance" / "payment_link.json"
PAYMENT_LINK_MAPPING = {
    "paid": "paid",
    "refused": "failed",
    "cancelled": "failed",
    "partially_refunded": "partially_refunded",
    "refunded": "refunded",
    "debit_paid": None,
    "debit_refused": None,
}

BUGGY_HOOK = """
from bluepaid_plugins import hookimpl

@hookimpl
def bluepaid_payment_event(event):
    return {}["accounting_code"]
"""


@pytest.fixture
def shops(cli: Any, install: Any) -> Any:
    """``bluepaid`` with the contract test connectors installed (plugin ``contract_shops``)."""
    install({"contract_shops": registering(SettingsShop, WebhookShop)})
    return cli


def add_settings_shop(run: Any, *options: str, api_key: str = API_KEY) -> Run:
    return run(
        "shop",
        "add",
        "s1",
        "--id-boutique",
        "S1",
        "--connector",
        "settings_shop",
        "--setting",
        "base_url=https://shop.example",
        "--setting",
        f"api_key={api_key}",
        *options,
    )


def opened_settings(slug: str = "s1") -> dict[str, Any]:
    """The settings the shop's connector instance gets, as the hub builds it now."""
    with hub_from_env() as hub, hub.connector(get_shop(hub, slug)) as connector:
        return dict(connector.settings)


def sealed_secrets(slug: str = "s1") -> str:
    ((token,),) = raw_rows(f"select connector_secrets from shops where slug = '{slug}'")
    return str(token)


def key_of(url: str) -> str:
    return dict(parse_qsl(urlsplit(url).query))["key"]


def shop_secret(slug: str) -> str:
    ((secret,),) = raw_rows(f"select secret from shops where slug = '{slug}'")
    return str(secret)


# bluepaid connector


def test_connector_list_names_each_connector_with_its_plugin(shops: Any) -> None:
    listed = {c["id"]: c for c in shops("connector", "list", "--json").json()}

    assert listed["payment_link"] == {
        "id": "payment_link",
        "label": "Payment links",
        "version": "1.0",
        "plugin": "payment_link",
        "capabilities": ["partial_refunds", "refunds", "subscriptions"],
    }
    assert (listed["settings_shop"]["plugin"], listed["hook_shop"]["capabilities"]) == (
        "contract_shops",
        ["webhooks"],
    )


def test_connector_list_as_text_is_a_table(shops: Any) -> None:
    lines = shops("connector", "list").out.splitlines()

    assert lines[0] == "id\tlabel\tversion\tplugin\tcapabilities"
    assert "settings_shop\tSettings shop\t2.1\tcontract_shops\t" in lines


def test_connector_show_gives_statuses_mapping_and_the_shipped_conformance_report(cli: Any) -> None:
    shown = cli("connector", "show", "payment_link", "--json").json()

    assert (shown["ownership"], shown["settings"]) == ("hub_token", [])
    assert shown["statuses"]["cancelled"] == "Cancelled: the link no longer works"
    assert shown["default_status_mapping"] == PAYMENT_LINK_MAPPING
    assert shown["conformance"] == Report.from_json(SHIPPED_REPORT.read_text()).lines()
    assert shown["conformance"][0] == "conformance of connector payment_link 1.0 (contract >=1.0,<2)"
    assert "PASS  ownership proof checked" in shown["conformance"]
    assert "N/A   webhooks (the connector declares no webhooks)" in shown["conformance"]


def test_connector_show_as_text_explains_each_setting(shops: Any) -> None:
    text = shops("connector", "show", "settings_shop").out.splitlines()

    assert text[:4] == [
        "Settings shop (settings_shop 2.1, contract >=1,<2)",
        "capabilities: none",
        "order proof: shop_secret",
        "settings (--setting NAME=VALUE):",
    ]
    for line in (
        "  api_key (secret, required): API key",
        "      Settings > Advanced > REST API",
        "  store (str, optional): Store code",
        "  processing: Processing",
        "  paid: processing",
        "no conformance report shipped",
    ):
        assert line in text


def test_connector_show_json_lists_each_setting_with_its_help(shops: Any) -> None:
    settings = shops("connector", "show", "settings_shop", "--json").json()["settings"]

    assert [(s["name"], s["type"], s["secret"], s["required"], s["help"]) for s in settings] == [
        ("base_url", "url", False, True, "The address of the shop's front page"),
        ("api_key", "secret", True, True, "Settings > Advanced > REST API"),
        ("store", "str", False, False, "Only for multi-store shops"),
    ]


def test_connector_show_of_an_unknown_connector_is_one_line(cli: Any) -> None:
    assert_one_line_error(cli("connector", "show", "magento"), "no connector 'magento'", "payment_link")


# bluepaid shop pay-url and link create --expires


def test_shop_pay_url_of_a_payment_link_is_signed_by_the_hub_and_opens(cli: Any) -> None:
    cli("shop", "add", "demo", "--id-boutique", "21573www")
    cli("link", "create", "--shop", "demo", "--amount", "12.50", "--ref", "R1")

    url = cli("shop", "pay-url", "demo", "R1", "--json").json()["pay_url"]

    assert url.startswith(f"{PUBLIC}/pay/demo/R1?key=")
    with app_from_env() as app:
        assert app.test_client().get(path_and_query(url)).status_code == 302


def test_shop_pay_url_expires_after_the_days_given(cli: Any) -> None:
    cli("shop", "add", "demo", "--id-boutique", "21573www")

    url = cli("shop", "pay-url", "demo", "R1", "--expires", "2").out.strip()

    now = datetime.now(UTC)
    token = key_of(url)
    assert check_pay_token(shop_secret("demo"), "demo", "R1", token, now) is TokenCheck.VALID
    later = now + timedelta(days=2, minutes=5)
    assert check_pay_token(shop_secret("demo"), "demo", "R1", token, later) is TokenCheck.EXPIRED


def test_shop_pay_url_of_a_payment_link_refuses_a_key(cli: Any) -> None:
    cli("shop", "add", "demo", "--id-boutique", "21573www")

    assert_one_line_error(cli("shop", "pay-url", "demo", "R1", "--key", "k"), "leave out --key")


def test_shop_pay_url_of_a_shop_with_order_secrets_needs_the_key(shops: Any) -> None:
    add_settings_shop(shops)

    missing = shops("shop", "pay-url", "s1", "A1")
    given = shops("shop", "pay-url", "s1", "A1", "--key", "wc_order_Xk2p9")

    assert_one_line_error(missing, "give --key")
    assert given.out.strip() == f"{PUBLIC}/pay/s1/A1?key=wc_order_Xk2p9"


def test_shop_pay_url_of_a_shop_with_order_secrets_refuses_an_expiry(shops: Any) -> None:
    add_settings_shop(shops)

    result = shops("shop", "pay-url", "s1", "A1", "--key", "wc_order_Xk2p9", "--expires", "2")

    assert_one_line_error(result, "--expires")


def test_link_create_expires_prints_a_link_that_works_until_then(cli: Any) -> None:
    cli("shop", "add", "demo", "--id-boutique", "21573www")

    link = cli("link", "create", "--shop", "demo", "--amount", "5.00", "--expires", "3", "--json").json()

    expires, token = datetime.fromisoformat(link["expires"]), key_of(link["pay_url"])
    assert expires > datetime.now(UTC) + timedelta(days=2)
    assert token.split(".")[0] == str(int(expires.timestamp()))
    secret = shop_secret("demo")
    assert check_pay_token(secret, "demo", link["ref"], token, expires) is TokenCheck.EXPIRED
    with app_from_env() as app:
        assert app.test_client().get(path_and_query(link["pay_url"])).status_code == 302


def test_link_create_refuses_a_currency_the_platform_does_not_take(cli: Any) -> None:
    cli("shop", "add", "demo", "--id-boutique", "21573www")

    result = cli("link", "create", "--shop", "demo", "--amount", "12.345", "--currency", "KWD")

    assert_one_line_error(result, "currency: unknown currency 'KWD'; use one of AUD, CAD, CHF, EUR")
    assert raw_rows("select count(*) from link_orders") == [(0,)]


def test_link_create_without_expires_prints_a_link_for_ever(cli: Any) -> None:
    cli("shop", "add", "demo", "--id-boutique", "21573www")

    link = cli("link", "create", "--shop", "demo", "--amount", "5.00", "--json").json()

    assert link["expires"] is None
    assert "." not in key_of(link["pay_url"])


# bluepaid shop mapping


def test_shop_mapping_shows_the_connectors_defaults(cli: Any) -> None:
    cli("shop", "add", "demo", "--id-boutique", "21573www")

    assert cli("shop", "mapping", "demo", "--json").json() == PAYMENT_LINK_MAPPING


def test_shop_mapping_changes_one_event_and_shop_show_has_it(cli: Any) -> None:
    cli("shop", "add", "demo", "--id-boutique", "21573www")

    changed = cli("shop", "mapping", "demo", "--status", "refused=cancelled", "--json").json()

    assert changed == {**PAYMENT_LINK_MAPPING, "refused": "cancelled"}
    assert cli("shop", "show", "demo", "--json").json()["status_mapping"] == changed


def test_shop_mapping_with_an_empty_status_leaves_the_order_alone(cli: Any) -> None:
    cli("shop", "add", "demo", "--id-boutique", "21573www")

    changed = cli("shop", "mapping", "demo", "--status", "refused=", "--json").json()

    assert changed["refused"] is None
    assert "refused: (left alone)" in cli("shop", "mapping", "demo").out.splitlines()


def test_shop_mapping_reset_goes_back_to_the_defaults(cli: Any) -> None:
    cli("shop", "add", "demo", "--id-boutique", "21573www", "--status", "refused=cancelled")

    assert cli("shop", "mapping", "demo", "--reset", "--json").json() == PAYMENT_LINK_MAPPING


@pytest.mark.parametrize(
    ("status", "problem"),
    [
        ("shipped=paid", "shipped: 'shipped' is not an event"),
        ("paid=wc-completed", "paid: paid -> 'wc-completed' is not a status of Payment links"),
        ("paid", "--status 'paid' must be NAME=VALUE"),
    ],
)
def test_shop_mapping_refuses_what_the_connector_does_not_know(cli: Any, status: str, problem: str) -> None:
    cli("shop", "add", "demo", "--id-boutique", "21573www")

    result = cli("shop", "mapping", "demo", "--status", status)

    assert_one_line_error(result, problem)
    assert cli("shop", "mapping", "demo", "--json").json() == PAYMENT_LINK_MAPPING


def test_a_status_of_the_merchants_own_is_taken_where_the_connector_allows_them(shops: Any) -> None:
    add_settings_shop(shops)

    taken = shops("shop", "mapping", "s1", "--status", "paid=wc-awaiting-shipment", "--json")
    refused = shops("shop", "mapping", "s1", "--status", "paid=Awaiting shipment")

    assert taken.json()["paid"] == "wc-awaiting-shipment"
    assert_one_line_error(
        refused,
        "'Awaiting shipment' is not a status of Settings shop (known: processing, "
        "or a status of the shop's own matching wc-[a-z0-9-]+)",
    )
    shown = shops("connector", "show", "settings_shop")
    assert "and the shop's own statuses matching wc-[a-z0-9-]+" in shown.out


def test_shop_add_takes_a_status_mapping(cli: Any) -> None:
    added = cli("shop", "add", "demo", "--id-boutique", "21573www", "--status", "refused=cancelled", "--json")

    assert added.json()["status_mapping"] == {**PAYMENT_LINK_MAPPING, "refused": "cancelled"}


def test_shop_add_refuses_a_status_the_connector_does_not_know_and_creates_nothing(cli: Any) -> None:
    result = cli("shop", "add", "demo", "--id-boutique", "21573www", "--status", "paid=shipped")

    assert_one_line_error(result, "'shipped' is not a status of Payment links")
    assert cli("shop", "list", "--json").json() == []


# Settings sealed at rest


def test_a_secret_setting_is_never_in_clear_in_the_database(shops: Any) -> None:
    added = add_settings_shop(shops, "--json")

    assert added.code == 0
    assert API_KEY not in added.out
    ((settings, secrets),) = raw_rows("select connector_settings, connector_secrets from shops")
    assert API_KEY not in f"{settings}{secrets}"
    plain = json.loads(settings) if isinstance(settings, str) else settings
    assert plain == {"base_url": "https://shop.example", "store": None}
    assert secrets


def test_shop_show_masks_a_secret_setting(shops: Any) -> None:
    add_settings_shop(shops)

    shown = shops("shop", "show", "s1", "--json")

    assert shown.json()["connector_settings"] == {
        "base_url": "https://shop.example",
        "store": None,
        "api_key": "********",
    }
    assert API_KEY not in shops("shop", "show", "s1").out


def test_the_connector_gets_the_secret_setting_as_a_secret(shops: Any) -> None:
    add_settings_shop(shops)

    settings = opened_settings()

    assert isinstance(settings["api_key"], Secret)
    assert settings["api_key"].reveal() == API_KEY
    assert settings["base_url"] == "https://shop.example"


def test_a_secret_setting_without_settings_keys_is_one_clear_line(
    shops: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("BLUEPAID_SETTINGS_KEYS")

    result = add_settings_shop(shops)

    assert_one_line_error(result, "set BLUEPAID_SETTINGS_KEYS", "bluepaid keys new")
    assert shops("shop", "list", "--json").json() == []


def test_a_settings_key_that_is_not_a_fernet_key_is_one_line_that_does_not_repeat_it(
    cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BLUEPAID_SETTINGS_KEYS", f"{SETTINGS_KEY} not-a-key-7f3a")

    result = cli("shop", "list")

    assert_one_line_error(result, "BLUEPAID_SETTINGS_KEYS: key number 2 is not a Fernet key")
    assert "not-a-key-7f3a" not in result.err


def test_keys_new_prints_a_fresh_fernet_key(cli: Any) -> None:
    first, second = cli("keys", "new").out.strip(), cli("keys", "new", "--json").json()

    Fernet(first.encode())
    Fernet(second["key"].encode())
    assert first != second["key"]
    assert second["variable"] == "BLUEPAID_SETTINGS_KEYS"


def test_keys_rotate_seals_every_secret_with_the_new_first_key(
    shops: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_settings_shop(shops)
    new = Fernet.generate_key().decode()
    monkeypatch.setenv("BLUEPAID_SETTINGS_KEYS", f"{new},{SETTINGS_KEY}")

    rotated = shops("keys", "rotate", "--json")

    assert rotated.json() == {"shops": 1}
    assert Vault([new]).open(sealed_secrets(), "shop 's1'") == {"api_key": Secret(API_KEY)}
    with pytest.raises(ConfigurationError):
        Vault([SETTINGS_KEY]).open(sealed_secrets(), "shop 's1'")


def test_keys_rotate_without_the_sealing_key_is_one_line_naming_the_shop(
    shops: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_settings_shop(shops)
    monkeypatch.setenv("BLUEPAID_SETTINGS_KEYS", Fernet.generate_key().decode())

    result = shops("keys", "rotate")

    assert_one_line_error(result, "the connector secrets of shop 's1' were sealed with a key that is not in")
    monkeypatch.setenv("BLUEPAID_SETTINGS_KEYS", SETTINGS_KEY)
    assert opened_settings()["api_key"] == Secret(API_KEY)


def test_after_a_rotation_the_old_key_can_go(shops: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    add_settings_shop(shops)
    new = Fernet.generate_key().decode()
    monkeypatch.setenv("BLUEPAID_SETTINGS_KEYS", f"{new} {SETTINGS_KEY}")
    shops("keys", "rotate")
    monkeypatch.setenv("BLUEPAID_SETTINGS_KEYS", new)

    checked = shops("shop", "check", "s1")

    assert (checked.code, checked.out.strip()) == (
        0,
        "Settings shop at https://shop.example: API key accepted",
    )


def test_secrets_sealed_with_a_key_no_longer_listed_are_one_line_naming_the_shop(
    shops: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_settings_shop(shops)
    monkeypatch.setenv("BLUEPAID_SETTINGS_KEYS", Fernet.generate_key().decode())

    result = shops("shop", "check", "s1")

    assert_one_line_error(result, "the connector secrets of shop 's1' were sealed with a key that is not in")


def test_shop_set_changes_one_setting_and_keeps_the_others(shops: Any) -> None:
    add_settings_shop(shops)

    changed = shops("shop", "set", "s1", "--setting", "store=main")

    assert changed.code == 0
    assert opened_settings() == {
        "base_url": "https://shop.example",
        "store": "main",
        "api_key": Secret(API_KEY),
    }


def test_shop_set_changes_a_secret_and_keeps_the_others(shops: Any) -> None:
    add_settings_shop(shops, "--setting", "store=main")

    shops("shop", "set", "s1", "--setting", "api_key=sk_live_rotated")

    assert opened_settings() == {
        "base_url": "https://shop.example",
        "store": "main",
        "api_key": Secret("sk_live_rotated"),
    }
    assert "sk_live_rotated" not in sealed_secrets()


def test_shop_check_prints_what_the_connector_found(shops: Any) -> None:
    add_settings_shop(shops)

    checked = shops("shop", "check", "s1", "--json").json()

    assert checked == {
        "shop": "s1",
        "ok": True,
        "message": "Settings shop at https://shop.example: API key accepted",
    }


def test_shop_check_of_refused_credentials_is_one_line_without_the_key(shops: Any) -> None:
    add_settings_shop(shops)
    shops("shop", "set", "s1", "--setting", "api_key=bad_key_9f2")

    result = shops("shop", "check", "s1")

    assert_one_line_error(result, "Settings shop at https://shop.example refused the API key")
    assert "bad_key_9f2" not in result.err


def test_shop_check_of_a_shop_down_says_to_check_again_not_that_it_will_retry(shops: Any) -> None:
    add_settings_shop(shops)
    shops("shop", "set", "s1", "--setting", "api_key=down_for_now")

    result = shops("shop", "check", "s1")

    assert_one_line_error(result, "Settings shop answered 503 for its status")
    assert result.err.rstrip().endswith("; run the check again once it answers")
    assert "will retry" not in result.err


def test_shop_add_checks_the_connection_and_creates_nothing_when_it_fails(shops: Any) -> None:
    result = add_settings_shop(shops, api_key="bad_key_9f2")

    assert_one_line_error(result, "refused the API key")
    assert shops("shop", "list", "--json").json() == []


def test_shop_add_says_what_the_check_found(shops: Any) -> None:
    added = add_settings_shop(shops)

    assert "Settings shop at https://shop.example: API key accepted" in added.out


def test_shop_add_json_has_what_the_check_found(shops: Any) -> None:
    added = add_settings_shop(shops, "--json").json()

    assert added["connection"] == "Settings shop at https://shop.example: API key accepted"


def test_shop_add_without_a_check_says_nothing_of_the_connection(shops: Any) -> None:
    assert "connection" not in add_settings_shop(shops, "--no-check", "--json").json()


def test_shop_add_no_check_creates_the_shop_without_calling_it(shops: Any) -> None:
    result = add_settings_shop(shops, "--no-check", api_key="bad_key_9f2")

    assert result.code == 0
    assert [s["shop"] for s in shops("shop", "list", "--json").json()] == ["s1"]


def test_shop_show_gives_a_webhook_url_only_to_connectors_with_webhooks(shops: Any) -> None:
    shops("shop", "add", "demo", "--id-boutique", "21573www")
    setting = f"webhook_secret={WEBHOOK_SECRET}"
    shops("shop", "add", "h1", "--id-boutique", "H1", "--connector", "hook_shop", "--setting", setting)

    with_hooks = shops("shop", "show", "h1", "--json").json()
    without = shops("shop", "show", "demo", "--json").json()

    ((token,),) = raw_rows("select webhook_token from shops where slug = 'h1'")
    assert with_hooks["webhook_url"] == f"{PUBLIC}/webhooks/h1/{token}"
    assert "webhook_url" not in without


# bluepaid outbox show, --version, tracing


def test_outbox_show_gives_the_traceback_of_a_plugins_bug(cli: Any, install: Any) -> None:
    install({"buggy": BUGGY_HOOK})
    with app_from_env() as app:
        _paid_link(cli, app)
    cli("worker", "--once")
    (dead,) = cli("outbox", "list", "--state", "dead", "--json").json()

    shown = cli("outbox", "show", str(dead["id"]))

    assert shown.code == 0
    assert (
        "last_error: plugin 'buggy' failed in bluepaid_payment_event: KeyError: 'accounting_code'"
        in shown.out
    )
    assert "plugin: buggy" in shown.out
    assert "Traceback (most recent call last)" in shown.out
    assert (
        cli("outbox", "show", str(dead["id"]), "--json")
        .json()["detail"]
        .rstrip()
        .endswith("KeyError: 'accounting_code'")
    )


def test_outbox_show_of_an_unknown_task_is_one_line(cli: Any) -> None:
    assert_one_line_error(cli("outbox", "show", "4242"), "no outbox task 4242")


def test_version_prints_the_installed_version(bluepaid: Any) -> None:
    result = bluepaid("--version")

    assert (result.code, result.out) == (0, f"bluepaid {version('bluepaid-plugins')}\n")


def test_trace_plugins_prints_hook_calls_of_a_command(bluepaid: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BLUEPAID_TRACE_PLUGINS", "1")

    result = bluepaid("connector", "list")

    assert result.code == 0
    assert "[bluepaid plugins]   bluepaid_register_commands [hook]" in result.err
