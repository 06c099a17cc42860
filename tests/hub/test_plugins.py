"""Loading plugins from the ``bluepaid`` entry points of installed distributions.

Each test installs a fake distribution (a ``.dist-info`` folder and its modules)
on ``sys.path``, exactly what ``pip install`` of a partner's package leaves.
"""

from __future__ import annotations

import importlib
import os
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask

from bluepaid_plugins.errors import ConfigurationError, PluginError
from hub import migrate
from hub.app import create_app
from hub.cli import main
from hub.config import HubConfig
from hub.context import Hub, build_hub
from hub.plugins import make_plugins
from tests.hub.conftest import PLATFORM, PUBLIC, built_in_connectors

Install = Callable[..., None]

GOOD = """
    from bluepaid_plugins import Connector, hookimpl

    class FakeConnector(Connector):
        id = "fake"
        label = "Fake shop"
        version = "2.3"
        contract = ">=1,<2"

        def fetch_order(self, ref):
            raise NotImplementedError

        def apply_event(self, event):
            raise NotImplementedError

    @hookimpl
    def bluepaid_register_connectors(register):
        register(FakeConnector)
"""

BROKEN = """
    raise RuntimeError("fakeplug_broken cannot start: missing API key")
"""

DUPLICATE = """
    from bluepaid_plugins import Connector, hookimpl

    class Impostor(Connector):
        id = "payment_link"
        label = "Impostor"
        contract = ">=1,<2"

        def fetch_order(self, ref):
            raise NotImplementedError

        def apply_event(self, event):
            raise NotImplementedError

    @hookimpl
    def bluepaid_register_connectors(register):
        register(Impostor)
"""

NOT_A_CONNECTOR = """
    from bluepaid_plugins import hookimpl

    class Lookalike:
        id = "lookalike"

    @hookimpl
    def bluepaid_register_connectors(register):
        register(Lookalike)
"""

BLUEPRINT = """
    from flask import Blueprint
    from bluepaid_plugins import hookimpl

    bp = Blueprint("fakeplug_status", __name__)

    @bp.get("/status")
    def status():
        return "fakeplug is fine"

    @hookimpl
    def bluepaid_register_blueprints(register):
        register(bp, url_prefix="/fakeplug")
"""

SHADOWING_BLUEPRINT = """
    from flask import Blueprint
    from bluepaid_plugins import hookimpl

    @hookimpl
    def bluepaid_register_blueprints(register):
        register(Blueprint("hub", __name__))
"""

COMMAND = """
    import click
    from bluepaid_plugins import hookimpl

    @click.command("fake-hello")
    @click.argument("name")
    def hello(name):
        click.echo(f"hello {name} from fakeplug")

    @hookimpl
    def bluepaid_register_commands(register):
        register(hello)
"""

CLASHING_COMMAND = """
    import click
    from bluepaid_plugins import hookimpl

    @click.command("plugins")
    def plugins():
        click.echo("hijacked")

    @hookimpl
    def bluepaid_register_commands(register):
        register(plugins)
"""

SETTINGS = """
    from bluepaid_plugins import hookimpl
    from bluepaid_plugins.errors import Problem

    @hookimpl
    def bluepaid_validate_settings(config):
        if not config["BLUEPAID_SMTP_HOST"]:
            return [Problem("BLUEPAID_SMTP_HOST", "fakeplug needs a mail server")]
        return None
"""


@pytest.fixture
def install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Install]:
    """Install ``{entry point name: module source}`` as the distribution fakeplug 1.0.

    It goes first on ``sys.path``, or last with ``last=True`` (installed after the hub).
    """
    site = tmp_path / "site"
    site.mkdir()
    names: list[str] = []

    def install(plugins: dict[str, str], *, last: bool = False) -> None:
        info = site / "fakeplug-1.0.dist-info"
        info.mkdir()
        (info / "METADATA").write_text("Metadata-Version: 2.1\nName: fakeplug\nVersion: 1.0\n")
        lines = ["[bluepaid]"]
        for name, source in plugins.items():
            module = f"fakeplug_{name}"
            (site / f"{module}.py").write_text(textwrap.dedent(source))
            lines.append(f"{name} = {module}")
            names.append(module)
        (info / "entry_points.txt").write_text("\n".join(lines) + "\n")
        if last:
            monkeypatch.setattr(sys, "path", [*sys.path, str(site)])
        else:
            monkeypatch.syspath_prepend(str(site))
        importlib.invalidate_caches()

    yield install
    for module in names:
        sys.modules.pop(module, None)


@pytest.fixture
def hub_factory(tmp_path: Path) -> Iterator[Callable[..., Hub]]:
    built: list[Hub] = []

    def make(**options: object) -> Hub:
        config = HubConfig(
            database_url=f"sqlite:///{tmp_path / 'plugins.sqlite3'}",
            secret_key="k" * 32,
            public_url=PUBLIC,
            platform_url=PLATFORM,
            **options,  # type: ignore[arg-type]
        )
        hub = build_hub(config)
        built.append(hub)
        migrate.upgrade(hub.db)
        return hub

    yield make
    for hub in built:
        hub.db.dispose()


# Loading


def test_good_plugin_registers_its_connector_with_its_distribution_version(install: Install) -> None:
    install({"good": GOOD})

    plugins = make_plugins()

    assert plugins.connector("fake").label == "Fake shop"
    info = {p.name: p for p in plugins.info()}
    assert info["good"].version == "1.0"
    assert info["good"].hooks == ("bluepaid_register_connectors",)
    assert plugins.failures == {}


def test_broken_plugin_is_reported_and_skipped(install: Install, caplog: pytest.LogCaptureFixture) -> None:
    install({"broken": BROKEN, "good": GOOD})

    plugins = make_plugins()

    assert "missing API key" in plugins.failures["broken"]
    assert "RuntimeError" in plugins.failures["broken"]
    names = {p.name for p in plugins.info()}
    assert "broken" not in names
    assert {"good", "payment_link"} <= names
    assert set(plugins.connectors) == {"fake", *built_in_connectors()}
    assert "broken" in caplog.text


def test_broken_plugin_is_fatal_in_strict_mode(install: Install) -> None:
    install({"broken": BROKEN, "good": GOOD})

    with pytest.raises(PluginError, match=r"broken.*missing API key"):
        make_plugins(strict=True)


def test_strict_mode_comes_from_the_environment(install: Install) -> None:
    install({"broken": BROKEN})
    config = HubConfig.from_env({"BLUEPAID_STRICT_PLUGINS": "1"})

    with pytest.raises(PluginError, match="broken"):
        make_plugins(allow=config.load_plugins, strict=config.strict_plugins)


def test_allow_list_loads_only_the_listed_plugins(install: Install) -> None:
    install({"broken": BROKEN, "good": GOOD})

    plugins = make_plugins(allow=frozenset({"good"}))

    # The hub's own merchant mail is no entry point: an allow-list never drops it.
    assert [p.name for p in plugins.info()] == ["good", "merchant_mail"]
    assert set(plugins.connectors) == {"fake"}
    assert plugins.failures == {}


def test_allow_list_comes_from_the_environment(install: Install) -> None:
    install({"broken": BROKEN, "good": GOOD})
    config = HubConfig.from_env({"BLUEPAID_LOAD_PLUGINS": "payment_link, good"})

    plugins = make_plugins(allow=config.load_plugins, strict=config.strict_plugins)

    assert [p.name for p in plugins.info()] == ["good", "merchant_mail", "payment_link"]


def test_empty_allow_list_loads_no_entry_point(install: Install) -> None:
    install({"good": GOOD})

    plugins = make_plugins(allow=frozenset())

    assert [(p.name, p.builtin, p.connectors) for p in plugins.info()] == [("merchant_mail", True, ())]
    with pytest.raises(PluginError, match="no connector 'payment_link'"):
        plugins.connector("payment_link")


# Registering connectors


def test_duplicate_connector_id_is_reported_and_the_installed_one_kept(install: Install) -> None:
    install({"dup": DUPLICATE}, last=True)

    plugins = make_plugins()

    assert (
        "connector id 'payment_link' is already registered by plugin 'payment_link'"
        in plugins.failures["dup"]
    )
    assert plugins.connector("payment_link").label == "Payment links"


def test_duplicate_connector_id_is_fatal_in_strict_mode(install: Install) -> None:
    install({"dup": DUPLICATE})

    with pytest.raises(PluginError, match="already registered"):
        make_plugins(strict=True)


def test_registering_something_that_is_not_a_connector_is_reported(install: Install) -> None:
    install({"odd": NOT_A_CONNECTOR})

    plugins = make_plugins()

    assert "is not a subclass of bluepaid_plugins.Connector" in plugins.failures["odd"]
    assert "lookalike" not in plugins.connectors


def test_unknown_connector_names_the_installed_ones(install: Install) -> None:
    install({"good": GOOD})

    with pytest.raises(PluginError, match=r"no connector 'magento' is installed \(installed: ") as caught:
        make_plugins().connector("magento")

    named = str(caught.value).split("installed: ")[1].rstrip(")").split(", ")
    assert {"fake", "payment_form", "payment_link", "cart", "woocommerce"} <= set(named)
    assert named == sorted(named)


# Blueprints, commands, settings


def test_plugin_blueprint_adds_a_route(install: Install, hub_factory: Callable[..., Hub]) -> None:
    install({"web": BLUEPRINT})

    app: Flask = create_app(hub=hub_factory())
    response = app.test_client().get("/fakeplug/status")

    assert response.status_code == 200
    assert response.text == "fakeplug is fine"
    assert response.headers["X-Frame-Options"] == "DENY"


def test_plugin_blueprint_cannot_take_the_hubs_name(
    install: Install, hub_factory: Callable[..., Hub]
) -> None:
    install({"web": SHADOWING_BLUEPRINT})

    with pytest.raises(PluginError, match="'hub' is already registered"):
        create_app(hub=hub_factory())


def _clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith("BLUEPAID_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("BLUEPAID_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.sqlite3'}")


def test_plugin_command_is_added_to_the_cli(
    install: Install,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    install({"cmd": COMMAND})
    _clean_environment(monkeypatch, tmp_path)

    code = main(["fake-hello", "Ada"])

    assert code == 0
    assert capsys.readouterr().out == "hello Ada from fakeplug\n"


def test_plugin_command_survives_a_second_run_without_a_clash(
    install: Install,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    install({"cmd": COMMAND})
    _clean_environment(monkeypatch, tmp_path)
    main(["fake-hello", "Ada"])
    capsys.readouterr()

    code = main(["fake-hello", "Grace"])

    captured = capsys.readouterr()
    assert code == 0
    assert captured.out == "hello Grace from fakeplug\n"
    assert captured.err == ""


def test_plugin_command_is_gone_once_the_plugin_is(
    install: Install,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    install({"cmd": COMMAND})
    _clean_environment(monkeypatch, tmp_path)
    main(["fake-hello", "Ada"])
    monkeypatch.setenv("BLUEPAID_LOAD_PLUGINS", "payment_link")
    capsys.readouterr()

    code = main(["fake-hello", "Ada"])

    assert code != 0
    assert "hello" not in capsys.readouterr().out


def test_plugin_command_clashing_with_the_hubs_is_skipped_with_a_warning(
    install: Install,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    install({"cmd": CLASHING_COMMAND})
    _clean_environment(monkeypatch, tmp_path)
    main(["db", "upgrade"])
    capsys.readouterr()

    code = main(["plugins"])

    captured = capsys.readouterr()
    assert code == 0
    assert "hijacked" not in captured.out
    assert "'plugins' clashes" in captured.err
    assert "payment_link 0.1.0 (built in)" in captured.out


def test_settings_problem_from_a_plugin_stops_the_app(
    install: Install, hub_factory: Callable[..., Hub]
) -> None:
    install({"settings": SETTINGS})

    with pytest.raises(ConfigurationError, match="BLUEPAID_SMTP_HOST: fakeplug needs a mail server"):
        create_app(hub=hub_factory())


def test_settings_accepted_by_a_plugin_let_the_app_start(
    install: Install, hub_factory: Callable[..., Hub]
) -> None:
    install({"settings": SETTINGS})

    app = create_app(hub=hub_factory(smtp_host="mail.example"))

    assert app.test_client().get("/pay/none/none").status_code == 404
