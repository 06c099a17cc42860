"""What the hub checks when a plugin registers a connector, and how hooks reach plugins.

Each refused class comes from an installed fake distribution (plugin
``partner``), as a partner's package would.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, ClassVar

import pytest

from bluepaid_plugins import (
    CONTRACT_VERSION,
    Capability,
    Connector,
    Order,
    PaymentEvent,
    SettingField,
    ShopChange,
    StatusEvent,
    WebhookRequest,
    hookimpl,
)
from bluepaid_plugins.errors import OrderNotFound, PluginError
from hub.config import HubConfig
from hub.plugins import make_plugins
from hub.tasks import EVENT_HOOKS
from tests.hub.conftest import SETTINGS_KEY, MakeDriver, built_in_connectors
from tests.hub.contract_connectors import registering

pytest_plugins = ["tests.hub.contract_fixtures"]

Install = Callable[..., None]

TYPO = """
from bluepaid_plugins import hookimpl

@hookimpl
def bluepaid_register_conectors(register):
    pass
"""


class Implemented(Connector):
    """fetch_order and apply_event as the contract wants them; the rest is up to each class."""

    def fetch_order(self, ref: str) -> Order:
        raise OrderNotFound(ref)

    def apply_event(self, event: PaymentEvent) -> None:
        pass


class NoId(Implemented):
    label = "No id"
    contract = ">=1,<2"


class NoLabel(Implemented):
    id = "no_label"
    contract = ">=1,<2"


class NoFetch(Connector):
    id = "no_fetch"
    label = "No fetch"
    contract = ">=1,<2"

    def apply_event(self, event: PaymentEvent) -> None:
        pass


class NoApply(Connector):
    id = "no_apply"
    label = "No apply"
    contract = ">=1,<2"

    def fetch_order(self, ref: str) -> Order:
        raise OrderNotFound(ref)


class NoContract(Implemented):
    id = "no_contract"
    label = "No contract"


class NextContract(Implemented):
    id = "next_contract"
    label = "Next contract"
    contract = ">=2,<3"


class OldApply(Connector):
    """Written for contract 0: apply_event took the order ref and the event."""

    id = "old_apply"
    label = "Old apply"
    contract = ">=1,<2"

    def fetch_order(self, ref: str) -> Order:
        raise OrderNotFound(ref)

    def apply_event(self, order_ref: str, event: PaymentEvent) -> None:  # type: ignore[override]
        pass


class UnknownStatus(Implemented):
    id = "unknown_status"
    label = "Unknown status"
    contract = ">=1,<2"
    statuses: ClassVar[Mapping[str, str]] = {"processing": "Processing"}
    default_status_mapping: ClassVar[Mapping[StatusEvent, str | None]] = {StatusEvent.PAID: "completed"}


class BadCustomStatuses(Implemented):
    id = "bad_custom_statuses"
    label = "Bad custom statuses"
    contract = ">=1,<2"
    custom_statuses = "[0-9"


class UnknownEvent(Implemented):
    id = "unknown_event"
    label = "Unknown event"
    contract = ">=1,<2"
    statuses: ClassVar[Mapping[str, str]] = {"processing": "Processing"}
    default_status_mapping: ClassVar[Mapping[Any, str | None]] = {"shipped": "processing"}


class UnverifiedWebhooks(Implemented):
    id = "unverified_webhooks"
    label = "Unverified webhooks"
    contract = ">=1,<2"
    capabilities = frozenset({Capability.WEBHOOKS})

    def read_webhook(self, request: WebhookRequest) -> list[ShopChange]:
        return []


class SettingTwice(Implemented):
    id = "setting_twice"
    label = "Setting twice"
    contract = ">=1,<2"
    settings_schema = (SettingField("api_key", "API key", type="secret"), SettingField("api_key", "Key"))


REFUSED = [
    (NoId, "id is missing or not lower-case letters, digits and '_' (at most 64)"),
    (NoLabel, "label is missing"),
    (NoFetch, "fetch_order() is not implemented"),
    (NoApply, "apply_event() is not implemented"),
    (NoContract, "contract is not declared: the contract versions it was written for, like '>=1,<2'"),
    (
        NextContract,
        f"it was written for contract >=2,<3, and this hub speaks contract {CONTRACT_VERSION}:"
        " install a version of the connector made for it",
    ),
    (OldApply, f"apply_event must take (self, event) in contract {CONTRACT_VERSION}"),
    (
        UnknownStatus,
        "default_status_mapping: paid -> 'completed' is not a status of Unknown status (known: processing)",
    ),
    (UnknownEvent, "default_status_mapping: 'shipped' is not an event (paid, refused, cancelled,"),
    (BadCustomStatuses, "custom_statuses '[0-9' is not a regular expression"),
    (UnverifiedWebhooks, "the webhooks capability needs verify_webhook()"),
    (SettingTwice, "setting 'api_key' is declared twice"),
]


@pytest.mark.parametrize(("cls", "problem"), REFUSED, ids=[cls.__name__ for cls, _ in REFUSED])
def test_an_unusable_connector_is_refused_naming_the_plugin_and_the_problem(
    install: Install, caplog: pytest.LogCaptureFixture, cls: type[Connector], problem: str
) -> None:
    install({"partner": registering(cls)})

    plugins = make_plugins()

    assert plugins.failures["partner"].startswith(f"connector {cls.__name__} refused: ")
    assert problem in plugins.failures["partner"]
    assert "partner" not in {p.name for p in plugins.info()}
    assert set(plugins.connectors) == built_in_connectors()
    assert f"plugin 'partner' skipped: connector {cls.__name__} refused" in caplog.text


@pytest.mark.parametrize(("cls", "problem"), REFUSED[:3], ids=[cls.__name__ for cls, _ in REFUSED[:3]])
def test_an_unusable_connector_is_fatal_in_strict_mode(
    install: Install, cls: type[Connector], problem: str
) -> None:
    install({"partner": registering(cls)})

    with pytest.raises(PluginError) as caught:
        make_plugins(strict=True)

    assert str(caught.value).startswith(
        f"plugin 'partner' failed to load: connector {cls.__name__} refused: "
    )
    assert problem in str(caught.value)


class Sketch(Connector):
    """Nothing declared yet."""


def test_every_problem_of_a_class_is_named_at_once(install: Install) -> None:
    install({"partner": registering(Sketch)})

    failure = make_plugins().failures["partner"]

    for problem in ("id is missing", "label is missing", "fetch_order()", "apply_event()", "contract is not"):
        assert problem in failure


# Hooks


def test_a_misspelled_hook_is_reported_with_the_right_name_and_the_plugin_skipped(install: Install) -> None:
    install({"typo": TYPO})

    plugins = make_plugins()

    assert plugins.failures["typo"] == (
        "implements hooks that do not exist:"
        " bluepaid_register_conectors (did you mean bluepaid_register_connectors?)"
    )
    assert "typo" not in {p.name for p in plugins.info()}


def test_a_misspelled_hook_is_fatal_in_strict_mode(install: Install) -> None:
    install({"typo": TYPO})

    with pytest.raises(PluginError, match=r"plugin 'typo' failed to load: .*did you mean"):
        make_plugins(strict=True)


class TersePayments:
    """Takes only the argument it needs, as pluggy allows."""

    __name__ = "terse_payments"

    def __init__(self) -> None:
        self.kinds: list[str] = []

    @hookimpl
    def bluepaid_payment_event(self, event: PaymentEvent) -> None:
        self.kinds.append(event.kind.value)


class TerseChecks:
    __name__ = "terse_checks"

    @hookimpl
    def bluepaid_check_order(self, order: Order) -> str | None:
        return f"order {order.ref} is out of stock"


def test_a_payment_event_hook_taking_only_the_event_gets_it(make_driver: MakeDriver) -> None:
    terse = TersePayments()
    driver = make_driver(terse)
    started = driver.start(driver.new_order())
    driver.post(driver.confirmation(started))

    driver.run_worker()

    assert [task.state for task in driver.task_rows(EVENT_HOOKS)] == ["done"]
    assert terse.kinds == ["paid"]


def test_a_check_order_hook_taking_only_the_order_can_block(make_driver: MakeDriver) -> None:
    driver = make_driver(TerseChecks())
    ref = driver.new_order()

    response = driver.open_pay(ref)

    assert response.status_code == 409
    assert f"order {ref} is out of stock" in response.text
    assert driver.payments_of(ref) == []


# Tracing


def test_tracing_prints_each_hook_call_on_stderr(
    make_driver: MakeDriver, capfd: pytest.CaptureFixture[str]
) -> None:
    driver = make_driver(TerseChecks(), config={"trace_plugins": True})
    capfd.readouterr()

    driver.open_pay(driver.new_order())

    err = capfd.readouterr().err
    assert "[bluepaid plugins]   bluepaid_check_order [hook]" in err
    assert "finish bluepaid_check_order --> ['order " in err


def test_tracing_is_off_by_default(make_driver: MakeDriver, capfd: pytest.CaptureFixture[str]) -> None:
    driver = make_driver(TerseChecks())
    capfd.readouterr()

    driver.open_pay(driver.new_order())

    assert "[bluepaid plugins]" not in capfd.readouterr().err


def test_tracing_never_prints_the_hubs_secrets(
    make_driver: MakeDriver, capfd: pytest.CaptureFixture[str]
) -> None:
    secret_key = "trace-me-not-" + "x" * 24

    make_driver(config={"trace_plugins": True, "secret_key": secret_key})

    err = capfd.readouterr().err
    assert "bluepaid_validate_settings [hook]" in err
    assert secret_key not in err
    assert SETTINGS_KEY not in err


def test_the_configuration_given_to_plugins_holds_its_secrets_but_never_prints_them() -> None:
    config = HubConfig(
        database_url="postgresql+psycopg://hub:db-password-1@db.example/hub",
        secret_key="flask-secret-" + "y" * 20,
        settings_keys=(SETTINGS_KEY,),
    )

    given = config.as_mapping()

    assert given["BLUEPAID_SECRET_KEY"] == config.secret_key
    assert given["BLUEPAID_SETTINGS_KEYS"] == [SETTINGS_KEY]
    for text in (str(given), repr(given), f"{given}"):
        for secret in ("db-password-1", config.secret_key, SETTINGS_KEY):
            assert secret not in text
        assert "db.example" in text
