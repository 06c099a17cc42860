"""The ``bluepaid`` pytest plugin, installed with the package (entry point ``pytest11``).

Fixtures (each imports the hub only when a test asks for it, so the plugin
costs nothing to test runs that do not use it):

- ``bluepaid_database_url``: a SQLite file in the test's folder; with
  ``BLUEPAID_TEST_POSTGRES_URL`` set, each test using it also runs on a fresh
  schema of that PostgreSQL server;
- ``bluepaid_clock``: a :class:`~hub.testing.clock.FrozenClock`;
- ``bluepaid_make_kit``: ``bluepaid_make_kit(ConnectorClass, settings=..., shop_url=...,
  install=...)`` gives a :class:`~hub.testing.kit.Kit` (a hub with the
  connector loaded, a shop, a driver, the shop's HTTP double);
- ``bluepaid_shop_double``: ``bluepaid_shop_double(base_url, examples=None)``
  gives a running :class:`~hub.testing.shop_double.ShopDouble`;
- ``bluepaid_confirmations``: the
  :class:`~bluepaid_plugins.testing.Confirmations` factory;
- ``bluepaid_sandbox``: ``bluepaid_sandbox(connector=None, settings=None)``
  serves a hub and the sandbox platform over real HTTP
  (:class:`~hub.testing.stack.Stack`).

It also prints the conformance report of every connector whose
:class:`~hub.testing.conformance.ConnectorConformance` tests ran, and writes it
as ``<DIR>/<connector id>.json`` with ``--bluepaid-report DIR``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

POSTGRES_VARIABLE = "BLUEPAID_TEST_POSTGRES_URL"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("bluepaid", "bluepaid connector kit")
    group.addoption(
        "--bluepaid-report",
        metavar="DIR",
        default=None,
        help="Write each connector's conformance report to DIR/<connector id>.json.",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "bluepaid_behaviour(name): the conformance behaviour a test checks")
    config.pluginmanager.register(ConformanceReports(config), "bluepaid-conformance-reports")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "bluepaid_database_url" in metafunc.fixturenames:
        stores = ["sqlite", "postgresql"] if os.environ.get(POSTGRES_VARIABLE) else ["sqlite"]
        metafunc.parametrize("bluepaid_database_url", stores, indirect=True)


@pytest.fixture
def bluepaid_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The hub's database for the test: a SQLite file, or a fresh PostgreSQL schema."""
    if getattr(request, "param", "sqlite") == "sqlite":
        yield f"sqlite:///{tmp_path / 'hub.sqlite3'}"
        return
    from hub.testing.databases import fresh_schema

    with fresh_schema(os.environ[POSTGRES_VARIABLE]) as url:
        yield url


@pytest.fixture
def bluepaid_clock() -> Any:
    """A frozen clock for the kit's hub (``advance(timedelta)`` moves it)."""
    from hub.testing.clock import FrozenClock

    return FrozenClock()


@pytest.fixture
def bluepaid_make_kit(bluepaid_database_url: str, bluepaid_clock: Any) -> Iterator[Callable[..., Any]]:
    """``bluepaid_make_kit(Connector, settings=..., shop_url=..., install=...)``: a hub with
    the connector loaded, one shop using it, a driver and the shop's HTTP double."""
    from hub.testing.kit import connector_kit

    with ExitStack() as stack:

        def make(connector: type, **options: Any) -> Any:
            options.setdefault("clock", bluepaid_clock)
            return stack.enter_context(
                connector_kit(connector, database_url=bluepaid_database_url, **options)
            )

        yield make


@pytest.fixture
def bluepaid_shop_double() -> Iterator[Callable[..., Any]]:
    """``bluepaid_shop_double(base_url, examples=None)``: a shop's HTTP API answered in
    process while the test runs; other addresses are refused."""
    from hub.testing.shop_double import ShopDouble

    with ExitStack() as stack:

        def make(base_url: str, examples: Path | None = None) -> Any:
            return stack.enter_context(ShopDouble(base_url, examples).running())

        yield make


@pytest.fixture
def bluepaid_confirmations() -> Any:
    """The ``Confirmations`` class: ``bluepaid_confirmations(request_fields)`` builds the
    platform's accepted, refused, pending, cancelled, duplicate, refund and debit messages."""
    from bluepaid_plugins.testing import Confirmations

    return Confirmations


@pytest.fixture
def bluepaid_sandbox(tmp_path: Path) -> Iterator[Callable[..., Any]]:
    """``bluepaid_sandbox(connector=None, settings=None)``: a hub and the sandbox platform
    served over real HTTP on loopback until the test ends."""
    from hub.testing.stack import live_stack

    with ExitStack() as stack:
        count = 0

        def make(connector: type | None = None, settings: dict[str, Any] | None = None) -> Any:
            nonlocal count
            count += 1
            folder = tmp_path / f"stack-{count}"
            folder.mkdir()
            return stack.enter_context(live_stack(folder, connector=connector, settings=settings))

        yield make


class ConformanceReports:
    """Collects the outcome of each conformance behaviour, per connector."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.items: dict[str, tuple[str, str]] = {}  # node id -> (connector id, behaviour)
        self.classes: dict[str, Any] = {}
        self.outcomes: dict[tuple[str, str], list[str]] = {}

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        for item in items:
            mark = item.get_closest_marker("bluepaid_behaviour")
            cls = getattr(item, "cls", None)
            connector = getattr(cls, "connector", None)
            if mark is None or connector is None:
                continue
            self.items[item.nodeid] = (connector.id, mark.args[0])
            self.classes[connector.id] = cls

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        key = self.items.get(report.nodeid)
        if key is None or (report.when != "call" and not report.failed):
            return
        outcome = "failed" if report.failed else ("passed" if report.passed else "skipped")
        self.outcomes.setdefault(key, []).append(outcome)

    def reports(self) -> list[Any]:
        from bluepaid_plugins.connector import Capability
        from hub.testing.conformance import BEHAVIOURS, ConnectorConformance
        from hub.testing.report import FAILED, NOT_APPLICABLE, PASSED, Behaviour, Report

        made = []
        for connector_id, cls in sorted(self.classes.items()):
            capabilities = cls.connector.capabilities
            behaviours = []
            for name in BEHAVIOURS:
                outcomes = self.outcomes.get((connector_id, name), [])
                if name in cls.not_applicable:
                    behaviours.append(Behaviour(name, NOT_APPLICABLE, cls.not_applicable[name]))
                elif not outcomes:
                    behaviours.append(Behaviour(name, "not run"))
                else:
                    passed = all(outcome == "passed" for outcome in outcomes)
                    reason = ""
                    if name == "order mapping" and cls.order_fields != ConnectorConformance.order_fields:
                        reason = f"the shop keeps: {', '.join(cls.order_fields)}"
                    if name == "currencies with 0, 2 and 3 decimals" and not cls.three_decimal_currency:
                        reason = "the shop keeps two decimals at most: 0 and 2 checked"
                    if (
                        name == "each event applied exactly once"
                        and Capability.IDEMPOTENCY_KEYS in capabilities
                    ):
                        reason = "event.id sent as the shop's idempotency key"
                    behaviours.append(Behaviour(name, PASSED if passed else FAILED, reason))
            connector = cls.connector
            made.append(Report(connector.id, connector.version, connector.contract, tuple(behaviours)))
        return made

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if not self.classes:
            return
        folder = self.config.getoption("--bluepaid-report")
        for report in self.reports():
            terminalreporter.section(f"bluepaid conformance: {report.connector}")
            for line in report.lines():
                terminalreporter.line(line)
            if folder:
                target = Path(folder) / f"{report.connector}.json"
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(report.to_json(), encoding="utf-8")
                terminalreporter.line(f"written to {target}")
