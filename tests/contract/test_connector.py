"""The Connector contract: typed settings, their validation, and secret masking."""

from __future__ import annotations

from typing import Any

import pytest

from bluepaid_plugins import (
    Connector,
    ConnectorContext,
    Order,
    OrderStatus,
    Secret,
    SettingField,
    WebhookRequest,
)
from bluepaid_plugins.errors import BluepaidError, Problem, ValidationError
from bluepaid_plugins.http import shop_session


class ShopConnector(Connector):
    """A connector with one setting of each kind, for these tests."""

    id = "test_shop"
    label = "Test shop"
    settings_schema = (
        SettingField("base_url", "Shop address", type="url"),
        SettingField("api_key", "API key", secret=True),
        SettingField("api_secret", "API secret", secret=True, required=False),
        SettingField("timeout", "Timeout (s)", type="int", required=False, default=10),
        SettingField("verify_tls", "Check certificates", type="bool", required=False, default=True),
        SettingField("store_code", "Store code", required=False),
    )


def problems_of(raw: dict[str, Any]) -> list[Problem]:
    with pytest.raises(ValidationError) as caught:
        ShopConnector.validate_settings(raw)
    return caught.value.problems


def fields_of(raw: dict[str, Any]) -> list[str]:
    return sorted(p.field for p in problems_of(raw))


# SettingField.coerce


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (True, True),
        (False, False),
        ("1", True),
        ("true", True),
        ("Yes", True),
        (" ON ", True),
        ("0", False),
        ("false", False),
        ("NO", False),
        ("off", False),
        (1, True),
        (0, False),
    ],
)
def test_bool_setting_reads_yes_and_no_words(raw: Any, expected: bool) -> None:
    assert SettingField("flag", "Flag", type="bool").coerce(raw) is expected


@pytest.mark.parametrize("raw", ["maybe", "2", "y", "tru", "nope", 2])
def test_bool_setting_refuses_anything_else_naming_the_field(raw: Any) -> None:
    with pytest.raises(ValidationError) as caught:
        SettingField("flag", "Flag", type="bool").coerce(raw)

    assert [p.field for p in caught.value.problems] == ["flag"]
    assert "yes or no" in caught.value.problems[0].message


@pytest.mark.parametrize(("raw", "expected"), [("42", 42), (42, 42), (" 7 ", 7), ("-3", -3), ("0", 0)])
def test_int_setting_reads_whole_numbers(raw: Any, expected: int) -> None:
    value = SettingField("port", "Port", type="int").coerce(raw)

    assert value == expected
    assert type(value) is int


@pytest.mark.parametrize("raw", ["4.2", "abc", "12 34", "1e3", True])
def test_int_setting_refuses_what_is_not_a_whole_number(raw: Any) -> None:
    with pytest.raises(ValidationError) as caught:
        SettingField("port", "Port", type="int").coerce(raw)

    assert [p.field for p in caught.value.problems] == ["port"]
    assert "expected a number" in caught.value.problems[0].message


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("https://shop.example", "https://shop.example"),
        ("http://127.0.0.1:8080/wp-json", "http://127.0.0.1:8080/wp-json"),
        ("  https://shop.example/  ", "https://shop.example/"),
    ],
)
def test_url_setting_takes_http_and_https_trimmed(raw: str, expected: str) -> None:
    assert SettingField("base_url", "Shop", type="url").coerce(raw) == expected


@pytest.mark.parametrize("raw", ["shop.example", "ftp://shop.example", "javascript:alert(1)", "HTTPS//x"])
def test_url_setting_refuses_other_schemes(raw: str) -> None:
    with pytest.raises(ValidationError) as caught:
        SettingField("base_url", "Shop", type="url").coerce(raw)

    assert [p.field for p in caught.value.problems] == ["base_url"]


def test_text_setting_is_trimmed_text() -> None:
    field = SettingField("store_code", "Store code")

    assert field.coerce("  main  ") == "main"
    assert field.coerce(12) == "12"


@pytest.mark.parametrize("raw", [None, "", "   ", "\t\n"])
def test_missing_or_blank_required_setting_is_refused(raw: Any) -> None:
    with pytest.raises(ValidationError) as caught:
        SettingField("api_key", "API key").coerce(raw)

    assert caught.value.problems == [Problem("api_key", "is required")]


@pytest.mark.parametrize("raw", [None, "", "  "])
def test_missing_optional_setting_takes_its_default(raw: Any) -> None:
    assert SettingField("timeout", "Timeout", type="int", required=False, default=10).coerce(raw) == 10
    assert SettingField("code", "Code", required=False).coerce(raw) is None


def test_required_setting_with_a_default_takes_the_default() -> None:
    assert SettingField("verify", "Verify", type="bool", default=True).coerce(None) is True


def test_false_and_zero_are_values_not_missing() -> None:
    assert SettingField("verify", "Verify", type="bool", default=True).coerce(False) is False
    assert SettingField("retries", "Retries", type="int", default=3).coerce(0) == 0


# Connector.validate_settings


def test_valid_settings_are_coerced_and_completed_with_defaults() -> None:
    clean = ShopConnector.validate_settings(
        {"base_url": " https://shop.example ", "api_key": "ck_123", "timeout": "30"}
    )

    assert clean == {
        "base_url": "https://shop.example",
        "api_key": Secret("ck_123"),
        "api_secret": None,
        "timeout": 30,
        "verify_tls": True,
        "store_code": None,
    }


def test_every_problem_is_listed_at_once() -> None:
    raw = {"base_url": "ftp://shop.example", "timeout": "soon", "verify_tls": "maybe", "api_kee": "typo"}

    assert fields_of(raw) == ["api_kee", "api_key", "base_url", "timeout", "verify_tls"]


def test_unknown_setting_is_refused_even_when_all_else_is_fine() -> None:
    problems = problems_of({"base_url": "https://shop.example", "api_key": "k", "colour": "blue"})

    assert problems == [Problem("colour", "unknown setting")]


def test_missing_required_settings_are_each_named() -> None:
    assert fields_of({}) == ["api_key", "base_url"]


def test_error_message_names_the_connector_and_each_field() -> None:
    with pytest.raises(ValidationError) as caught:
        ShopConnector.validate_settings({"timeout": "x"})

    message = str(caught.value)
    assert message.startswith("settings of connector test_shop: ")
    for name in ("base_url", "api_key", "timeout"):
        assert f"{name}: " in message
    assert "\n" not in message
    assert isinstance(caught.value, BluepaidError)


def test_connector_without_settings_refuses_any() -> None:
    class Bare(Connector):
        id = "bare"
        label = "Bare"

    assert Bare.validate_settings({}) == {}
    with pytest.raises(ValidationError, match="token: unknown setting"):
        Bare.validate_settings({"token": "x"})


def test_validation_does_not_change_its_input() -> None:
    raw = {"base_url": " https://shop.example ", "api_key": "k", "timeout": "5"}
    copy = dict(raw)

    ShopConnector.validate_settings(raw)

    assert raw == copy


# Connector.public_settings


def test_public_settings_mask_every_secret_value() -> None:
    clean = ShopConnector.validate_settings(
        {"base_url": "https://shop.example", "api_key": "ck_live_123", "api_secret": "cs_live_456"}
    )

    shown = ShopConnector.public_settings(clean)

    assert shown["api_key"] == "********"
    assert shown["api_secret"] == "********"
    assert "ck_live_123" not in repr(shown)
    assert "cs_live_456" not in repr(shown)


def test_public_settings_show_non_secret_values_as_they_are() -> None:
    clean = ShopConnector.validate_settings(
        {"base_url": "https://shop.example", "api_key": "k", "timeout": "30", "store_code": "main"}
    )

    shown = ShopConnector.public_settings(clean)

    assert {k: shown[k] for k in ("base_url", "timeout", "verify_tls", "store_code")} == {
        "base_url": "https://shop.example",
        "timeout": 30,
        "verify_tls": True,
        "store_code": "main",
    }


def test_public_settings_tell_an_unset_secret_from_a_set_one() -> None:
    clean = ShopConnector.validate_settings({"base_url": "https://shop.example", "api_key": "k"})

    shown = ShopConnector.public_settings(clean)

    assert shown["api_key"] == "********"
    assert not shown["api_secret"]


def test_public_settings_leave_the_settings_untouched() -> None:
    settings = {"base_url": "https://shop.example", "api_key": "secret-value"}

    ShopConnector.public_settings(settings)

    assert settings["api_key"] == "secret-value"


# The connector's default behaviour


class NoOrders:
    def get(self, ref: str) -> Order | None:
        return None

    def set_status(self, ref: str, status: OrderStatus, note: str) -> bool:
        raise AssertionError("not expected")


def test_webhooks_are_refused_unless_the_connector_checks_them() -> None:
    with shop_session() as http:
        connector = ShopConnector({}, ConnectorContext(shop="demo", http=http, orders=NoOrders()))
        request = WebhookRequest("POST", {"x-signature": "anything"}, b"{}")

        assert connector.handshake(request) is None
        assert connector.verify_webhook(request) is False
        assert connector.read_webhook(request) == ()
