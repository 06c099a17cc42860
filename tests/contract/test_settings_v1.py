"""Contract v1 settings: Secret values that never show, and the choice, mapping and secret types."""

from __future__ import annotations

import json
import logging
import pickle
from typing import Any

import pytest

from bluepaid_plugins import Secret, SettingField
from bluepaid_plugins.errors import Problem, ValidationError
from bluepaid_plugins.settings import MASK, validate_settings

VALUE = "sk_live_4f8a9c2e"


def problem_messages(field: SettingField, raw: Any) -> str:
    with pytest.raises(ValidationError) as caught:
        field.coerce(raw)
    return str(caught.value)


# Secret


@pytest.mark.parametrize(
    "shown",
    [
        str,
        repr,
        format,
        lambda s: f"{s}",
        lambda s: f"{s!r}",
        lambda s: f"{s:>20}",
        lambda s: "%s" % s,  # noqa: UP031
        lambda s: "{}".format(s),  # noqa: UP032
        lambda s: str([s, {"key": s}]),
    ],
    ids=["str", "repr", "format", "f", "f-repr", "f-spec", "percent", "str.format", "nested"],
)
def test_a_secret_never_prints_its_value(shown: Any) -> None:
    text = shown(Secret(VALUE))

    assert VALUE not in text
    assert MASK in text


def test_a_secret_in_a_log_line_shows_the_mask(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)

    logging.getLogger("connector").info("calling the shop with key %s (%r)", Secret(VALUE), Secret(VALUE))

    assert VALUE not in caplog.text
    assert MASK in caplog.text


def test_a_secret_cannot_be_written_as_json() -> None:
    with pytest.raises(TypeError):
        json.dumps({"api_key": Secret(VALUE)})


def test_a_secret_reveals_its_value_on_request() -> None:
    assert Secret(VALUE).reveal() == VALUE


def test_secrets_with_the_same_text_are_equal() -> None:
    assert Secret(VALUE) == Secret(VALUE)
    assert len({Secret(VALUE), Secret(VALUE)}) == 1


@pytest.mark.parametrize("other", [VALUE + "x", VALUE[:-1], "", "sk_live_4f8a9c2é"])
def test_secrets_with_other_text_are_not_equal(other: str) -> None:
    assert Secret(VALUE) != Secret(other)


def test_a_secret_is_never_equal_to_its_plain_text() -> None:
    # Comparing with a str would make `settings["api_key"] == "..."` leak by timing or by accident.
    assert Secret(VALUE) != VALUE
    assert VALUE != Secret(VALUE)  # noqa: SIM300 - the reflected comparison is the point


def test_a_secret_cannot_be_pickled() -> None:
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(Secret(VALUE))


def test_a_secret_holds_only_text() -> None:
    with pytest.raises(TypeError, match="text"):
        Secret(1234)  # type: ignore[arg-type]


def test_an_empty_secret_is_false() -> None:
    assert not Secret("")
    assert Secret(VALUE)


# The choice type


def test_a_choice_setting_takes_one_of_its_choices() -> None:
    field = SettingField("api_version", "API version", type="choice", choices=("v2", "v3"))

    assert field.coerce(" v3 ") == "v3"


def test_a_choice_setting_refuses_another_value_naming_the_choices() -> None:
    field = SettingField("api_version", "API version", type="choice", choices=("v2", "v3"))

    message = problem_messages(field, "v4")

    assert "api_version: expected one of v2, v3, got 'v4'" in message


def test_a_choice_setting_without_choices_cannot_be_declared() -> None:
    with pytest.raises(ValueError, match="'api_version' is a choice without choices"):
        SettingField("api_version", "API version", type="choice")


def test_a_choice_default_must_be_one_of_the_choices() -> None:
    with pytest.raises(ValueError, match="default 'v4' is not one of its choices"):
        SettingField("api_version", "API version", type="choice", choices=("v2", "v3"), default="v4")


# The mapping type


def test_a_mapping_setting_reads_pairs_from_a_command_line() -> None:
    field = SettingField("statuses", "Statuses", type="mapping")

    assert field.coerce("paid = wc-completed, refused=wc-failed") == {
        "paid": "wc-completed",
        "refused": "wc-failed",
    }


def test_a_mapping_setting_takes_a_mapping_as_text() -> None:
    field = SettingField("statuses", "Statuses", type="mapping")

    assert field.coerce({"paid": "wc-completed", "debits": 3}) == {"paid": "wc-completed", "debits": "3"}


@pytest.mark.parametrize("raw", ["paid=wc-completed,refused", "=wc-completed", "paid=a,,refused=b"])
def test_a_mapping_setting_refuses_a_bad_pair_naming_it(raw: str) -> None:
    field = SettingField("statuses", "Statuses", type="mapping")

    message = problem_messages(field, raw)

    assert message.startswith("statuses: expected name=value pairs separated by commas")


# The secret type


def test_a_secret_setting_given_as_text_comes_back_as_a_secret() -> None:
    value = SettingField("api_key", "API key", type="secret").coerce(f"  {VALUE} ")

    assert isinstance(value, Secret)
    assert value.reveal() == VALUE


def test_a_secret_setting_given_as_a_secret_stays_that_secret() -> None:
    value = SettingField("api_key", "API key", type="secret").coerce(Secret(VALUE))

    assert value == Secret(VALUE)


def test_the_secret_type_marks_the_field_secret() -> None:
    assert SettingField("api_key", "API key", type="secret").secret is True


def test_a_secret_choice_refused_does_not_echo_the_value() -> None:
    field = SettingField("token", "Token", type="choice", choices=("a", "b"), secret=True)

    message = problem_messages(field, VALUE)

    assert message.startswith("token: expected one of a, b")
    assert VALUE not in message


def test_a_secret_url_refused_does_not_echo_the_value() -> None:
    field = SettingField("hook", "Signed hook URL", type="url", secret=True)

    assert VALUE not in problem_messages(field, VALUE)


@pytest.mark.parametrize("kind", ["int", "bool", "mapping"])
def test_only_text_settings_can_be_secret(kind: Any) -> None:
    # A secret held as a number or a mapping could not be a Secret, and would be stored in clear.
    with pytest.raises(ValueError, match=r"'pin'.*only text"):
        SettingField("pin", "PIN", type=kind, secret=True)


# validate_settings


def test_validate_settings_lists_every_problem_with_the_owner() -> None:
    schema = (
        SettingField("base_url", "Shop", type="url"),
        SettingField("api_key", "API key", type="secret"),
        SettingField("api_version", "API version", type="choice", choices=("v2", "v3")),
        SettingField("statuses", "Statuses", type="mapping", required=False),
    )
    raw = {"base_url": "shop.example", "api_version": "v9", "statuses": "paid", "colour": "blue"}

    with pytest.raises(ValidationError) as caught:
        validate_settings(schema, raw, "acme")

    assert sorted(p.field for p in caught.value.problems) == [
        "api_key",
        "api_version",
        "base_url",
        "colour",
        "statuses",
    ]
    assert str(caught.value).startswith("settings of connector acme: ")


def test_validate_settings_never_echoes_a_secret_value() -> None:
    schema = (
        SettingField("api_key", "API key", type="secret"),
        SettingField("mode", "Mode", type="choice", choices=("live", "test"), secret=True),
    )

    with pytest.raises(ValidationError) as caught:
        validate_settings(schema, {"api_key": VALUE, "mode": VALUE + "-mode"}, "acme")

    assert VALUE not in str(caught.value)


# Bounded numbers


@pytest.mark.parametrize(("raw", "expected"), [("1", 1), ("60", 60), (" 15 ", 15)])
def test_int_setting_within_its_bounds_is_taken(raw: str, expected: int) -> None:
    field = SettingField("timeout", "Timeout", type="int", minimum=1, maximum=60)

    assert field.coerce(raw) == expected


@pytest.mark.parametrize(
    ("field", "raw", "message"),
    [
        (
            SettingField("timeout", "Timeout", type="int", minimum=1, maximum=60),
            "0",
            "expected 1 to 60, got 0",
        ),
        (
            SettingField("timeout", "Timeout", type="int", minimum=1, maximum=60),
            "61",
            "expected 1 to 60, got 61",
        ),
        (SettingField("retries", "Retries", type="int", minimum=0), "-1", "expected at least 0, got -1"),
        (SettingField("page", "Page size", type="int", maximum=100), "101", "expected at most 100, got 101"),
    ],
)
def test_int_setting_out_of_its_bounds_is_refused_saying_the_bounds(
    field: SettingField, raw: str, message: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        field.coerce(raw)

    assert caught.value.problems == [Problem(field.name, message)]


def test_bounds_belong_to_int_settings_only() -> None:
    with pytest.raises(ValueError, match="only an int setting"):
        SettingField("code", "Code", minimum=1)
