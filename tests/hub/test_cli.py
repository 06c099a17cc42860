"""The ``bluepaid`` command, run through ``hub.cli.main`` on a temporary SQLite file."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import click
import pytest
from flask import Flask

from hub.app import create_app
from hub.cli import main
from hub.cli.base import cli
from hub.config import HubConfig
from tests.hub.conftest import PLATFORM, PUBLIC


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


def path_and_query(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    for name in list(os.environ):
        if name.startswith("BLUEPAID_"):
            monkeypatch.delenv(name)
    values = {
        "BLUEPAID_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite3'}",
        "BLUEPAID_SECRET_KEY": "s" * 32,
        "BLUEPAID_PUBLIC_URL": PUBLIC,
        "BLUEPAID_PLATFORM_URL": PLATFORM,
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return values


@pytest.fixture
def bluepaid(env: dict[str, str], capsys: pytest.CaptureFixture[str]) -> Any:
    def run(*args: str) -> Run:
        capsys.readouterr()
        code = main(list(args))
        captured = capsys.readouterr()
        return Run(code, captured.out, captured.err)

    return run


@pytest.fixture
def upgraded(bluepaid: Any) -> Any:
    assert bluepaid("db", "upgrade").code == 0
    return bluepaid


@pytest.fixture
def app(env: dict[str, str], upgraded: Any) -> Iterator[Flask]:
    app = create_app(HubConfig.from_env(os.environ))
    yield app
    app.extensions["bluepaid.hub"].db.dispose()


def assert_one_line_error(run: Run, *parts: str) -> None:
    assert run.code == 1
    lines = run.err.strip().splitlines()
    assert len(lines) == 1, run.err
    assert lines[0].startswith("error: ")
    assert "Traceback" not in run.err
    for part in parts:
        assert part in lines[0]


# db


def test_db_upgrade_creates_the_schema(bluepaid: Any, env: dict[str, str]) -> None:
    result = bluepaid("db", "upgrade")

    assert result.code == 0
    assert "database is at revision" in result.out
    assert bluepaid("shop", "list", "--json").json() == []


def test_db_upgrade_json_names_the_revision(bluepaid: Any, env: dict[str, str]) -> None:
    from alembic.script import ScriptDirectory

    from hub.migrate import alembic_config

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()

    assert bluepaid("db", "upgrade", "--json").json() == {"revision": head}


def test_link_with_a_bad_language_or_email_is_refused_at_creation(upgraded: Any) -> None:
    upgraded("shop", "add", "demo", "--id-boutique", "21573www")

    bad_language = upgraded("link", "create", "--shop", "demo", "--amount", "5.00", "--language", "french")
    bad_email = upgraded("link", "create", "--shop", "demo", "--amount", "5.00", "--email", "x")

    assert_one_line_error(bad_language, "language:")
    assert_one_line_error(bad_email, "email:")


def test_db_upgrade_twice_is_harmless(upgraded: Any) -> None:
    upgraded("shop", "add", "demo", "--id-boutique", "21573www")

    again = upgraded("db", "upgrade")

    assert again.code == 0
    assert [s["shop"] for s in upgraded("shop", "list", "--json").json()] == ["demo"]


def test_command_on_a_schema_not_upgraded_gives_one_clear_line(bluepaid: Any) -> None:
    result = bluepaid("shop", "list")

    assert_one_line_error(result, "bluepaid db upgrade")


def test_app_on_a_schema_not_upgraded_refuses_to_start(env: dict[str, str]) -> None:
    from bluepaid_plugins.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="bluepaid db upgrade"):
        create_app(HubConfig.from_env(os.environ))


# shop


def test_shop_add_json_prints_what_to_register(upgraded: Any) -> None:
    result = upgraded("shop", "add", "demo", "--id-boutique", "21573www", "--json")

    assert result.code == 0
    data = result.json()
    assert data["shop"] == "demo"
    assert data["id_boutique"] == "21573www"
    assert data["confirmation_url"].startswith(f"{PUBLIC}/confirm/demo/")
    assert len(data["confirmation_url"].rsplit("/", 1)[1]) >= 24
    assert data["pay_url_template"] == f"{PUBLIC}/pay/demo/{{order_ref}}?key={{key}}"
    assert data["test_mode"] is True
    assert data["platform_url"] == PLATFORM


def test_shop_add_text_output_lists_the_urls(upgraded: Any) -> None:
    result = upgraded("shop", "add", "demo", "--id-boutique", "21573www")

    assert result.code == 0
    assert f"pay_url_template: {PUBLIC}/pay/demo/{{order_ref}}?key={{key}}" in result.out
    assert "confirmation_url: " in result.out


def test_shop_add_twice_is_refused(upgraded: Any) -> None:
    upgraded("shop", "add", "demo", "--id-boutique", "21573www")

    result = upgraded("shop", "add", "demo", "--id-boutique", "21573www")

    assert_one_line_error(result, "shop", "already exists")


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (["Bad Slug", "--id-boutique", "21573www"], "shop:"),
        (["demo", "--id-boutique", "not a merchant id!"], "id_boutique:"),
        (["demo", "--id-boutique", "21573www", "--allow-ip", "999.1.2.3"], "allow_ip:"),
        (["demo", "--id-boutique", "21573www", "--connector", "nope"], "connector:"),
        (["demo", "--id-boutique", "21573www", "--setting", "colour=blue"], "colour:"),
        (["demo", "--id-boutique", "21573www", "--setting", "colour"], "--setting"),
        (["demo", "--id-boutique", "21573www", "--return-url", "shop.example"], "return_url:"),
        (["demo", "--id-boutique", "21573www", "--language", "XX"], "language:"),
    ],
)
def test_shop_add_bad_input_names_the_field_on_one_line(upgraded: Any, args: list[str], field: str) -> None:
    result = upgraded("shop", "add", *args)

    assert_one_line_error(result, field)
    assert result.out == ""
    assert upgraded("shop", "list", "--json").json() == []


def test_shop_add_reports_every_problem_at_once(upgraded: Any) -> None:
    result = upgraded("shop", "add", "Bad Slug", "--id-boutique", "!", "--allow-ip", "nowhere")

    assert_one_line_error(result, "shop:", "id_boutique:", "allow_ip:")


def test_shop_list_json(upgraded: Any) -> None:
    upgraded("shop", "add", "beta", "--id-boutique", "22222www", "--production")
    upgraded("shop", "add", "alpha", "--id-boutique", "11111www")

    shops = upgraded("shop", "list", "--json").json()

    assert [(s["shop"], s["id_boutique"], s["test_mode"]) for s in shops] == [
        ("alpha", "11111www", True),
        ("beta", "22222www", False),
    ]


def test_shop_show_json_matches_what_add_printed(upgraded: Any) -> None:
    added = upgraded("shop", "add", "demo", "--id-boutique", "21573www", "--json").json()

    shown = upgraded("shop", "show", "demo", "--json")

    assert shown.code == 0
    # What the connection check found is news of the moment: add prints it, show does not.
    assert added.pop("connection") == "Payment links: nothing to check, the orders are kept by the hub"
    assert shown.json() == added


def test_shop_show_unknown_is_one_line(upgraded: Any) -> None:
    assert_one_line_error(upgraded("shop", "show", "nowhere"), "nowhere")


# link and the pay URL it prints


def test_link_create_prints_a_pay_url_that_redirects_with_the_amount(upgraded: Any, app: Flask) -> None:
    upgraded("shop", "add", "demo", "--id-boutique", "21573www")

    result = upgraded("link", "create", "--shop", "demo", "--amount", "12.50", "--json")

    assert result.code == 0
    data = result.json()
    assert (data["amount"], data["currency"]) == ("12.50", "EUR")
    assert data["pay_url"].startswith(f"{PUBLIC}/pay/demo/{data['ref']}?key=")
    response = app.test_client().get(path_and_query(data["pay_url"]))
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith(f"{PLATFORM}/in.php?")
    fields = dict(parse_qsl(urlsplit(location).query))
    assert (fields["montant"], fields["devise"], fields["id_client"]) == ("12.50", "EUR", data["ref"])


@pytest.mark.parametrize(("amount", "field"), [("12.505", "amount"), ("abc", "amount"), ("0", "amount")])
def test_link_create_bad_amount_is_one_line(upgraded: Any, amount: str, field: str) -> None:
    upgraded("shop", "add", "demo", "--id-boutique", "21573www")

    result = upgraded("link", "create", "--shop", "demo", "--amount", amount)

    assert_one_line_error(result, field)


def test_link_create_for_an_unknown_shop_is_one_line(upgraded: Any) -> None:
    assert_one_line_error(upgraded("link", "create", "--shop", "nowhere", "--amount", "1.00"), "nowhere")


# payments


def _paid_link(upgraded: Any, app: Flask) -> tuple[dict[str, Any], dict[str, str]]:
    shop = upgraded(
        "shop", "add", "demo", "--id-boutique", "21573www", "--allow-ip", "127.0.0.1", "--json"
    ).json()
    link = upgraded("link", "create", "--shop", "demo", "--amount", "12.50", "--json").json()
    client = app.test_client()
    location = client.get(path_and_query(link["pay_url"])).headers["Location"]
    fields = dict(parse_qsl(urlsplit(location).query))
    confirmation = {
        "etat": "ok",
        "mode": "test",
        "id_trans": "T4242",
        "id_client": fields["id_client"],
        "id_boutique": fields["id_boutique"],
        "divers": fields["divers"],
        "montant": fields["montant"],
        "devise": fields["devise"],
    }
    response = client.post(
        urlsplit(shop["confirmation_url"]).path,
        data=confirmation,
        environ_base={"REMOTE_ADDR": "127.0.0.1"},
    )
    assert response.status_code == 200
    return link, fields


def test_payments_list_json_shows_the_confirmed_payment(upgraded: Any, app: Flask) -> None:
    link, _ = _paid_link(upgraded, app)

    result = upgraded("payments", "list", "--json")

    assert result.code == 0
    (payment,) = result.json()
    assert {k: payment[k] for k in ("shop", "order_ref", "state", "amount", "currency", "id_trans")} == {
        "shop": "demo",
        "order_ref": link["ref"],
        "state": "paid",
        "amount": "12.50",
        "currency": "EUR",
        "id_trans": "T4242",
    }
    assert payment["flags"] == ["test"]


def test_worker_once_json_reports_each_task(upgraded: Any, app: Flask) -> None:
    link, _ = _paid_link(upgraded, app)

    first = upgraded("worker", "--once", "--json")
    second = upgraded("worker", "--once", "--json")

    assert [(t["state"], t["error"]) for t in first.json()] == [("done", "")]
    assert second.json() == []
    assert upgraded("outbox", "list", "--json").json()[0]["order_ref"] == link["ref"]


def test_payments_list_filters_by_state(upgraded: Any, app: Flask) -> None:
    _paid_link(upgraded, app)

    assert upgraded("payments", "list", "--state", "created", "--json").json() == []
    assert len(upgraded("payments", "list", "--state", "paid", "--json").json()) == 1


def test_payments_show_json_has_the_event_log(upgraded: Any, app: Flask) -> None:
    link, _ = _paid_link(upgraded, app)
    (listed,) = upgraded("payments", "list", "--json").json()

    result = upgraded("payments", "show", listed["id"], "--json")

    assert result.code == 0
    shown = result.json()
    assert (shown["state"], shown["order_ref"], shown["amount"], shown["currency"]) == (
        "paid",
        link["ref"],
        "12.50",
        "EUR",
    )
    assert (shown["id_trans"], shown["flags"]) == ("T4242", ["test"])
    assert [(e["kind"], e["from"], e["to"], e["id_trans"]) for e in shown["events"]] == [
        ("paid", "created", "paid", "T4242")
    ]


def test_payments_show_unknown_is_one_line(upgraded: Any) -> None:
    assert_one_line_error(upgraded("payments", "show", "0" * 32), "0" * 32)


# plugins


def test_plugins_json_lists_payment_link(upgraded: Any) -> None:
    result = upgraded("plugins", "--json")

    assert result.code == 0
    plugins = {p["name"]: p for p in result.json()}
    assert plugins["payment_link"]["version"] == version("bluepaid-plugins")
    assert plugins["payment_link"]["hooks"] == ["bluepaid_register_connectors"]
    (connector,) = plugins["payment_link"]["connectors"]
    assert (connector["id"], connector["label"], connector["version"]) == (
        "payment_link",
        "Payment links",
        "1.0",
    )
    assert connector["capabilities"] == ["partial_refunds", "refunds", "subscriptions"]
    assert connector["ownership"] == "hub_token"
    assert plugins["payment_link"]["builtin"] is True


def test_plugins_without_json_is_text_for_people(upgraded: Any) -> None:
    result = upgraded("plugins")

    assert result.code == 0
    with pytest.raises(json.JSONDecodeError):
        json.loads(result.out)
    lines = result.out.splitlines()
    start = lines.index(f"payment_link {version('bluepaid-plugins')} (built in)")
    assert lines[start : start + 5] == [
        f"payment_link {version('bluepaid-plugins')} (built in)",
        "  hooks: bluepaid_register_connectors",
        "  connector payment_link: Payment links 1.0, contract >=1.0,<2",
        "    capabilities: partial_refunds, refunds, subscriptions",
        "    conformance: 5 not applicable, 13 passed",
    ]


# help and listings


def _commands(command: click.Command, path: str = "bluepaid") -> Iterator[tuple[str, click.Command]]:
    yield path, command
    if isinstance(command, click.Group):
        for name, sub in command.commands.items():
            yield from _commands(sub, f"{path} {name}")


def test_every_command_and_option_has_help() -> None:
    """The group as shipped (the plugins' commands are added to a copy, per run)."""
    commands = list(_commands(cli))
    assert {"bluepaid demo", "bluepaid sandbox account add", "bluepaid serve"} <= {
        path for path, _ in commands
    }

    missing = [path for path, command in commands if not (command.help or "").strip()]
    missing += [
        f"{path} {param.opts[0]}"
        for path, command in commands
        for param in command.params
        if isinstance(param, click.Option) and not (param.help or "").strip()
    ]

    assert missing == []


def test_payments_list_and_outbox_list_have_a_header_row(upgraded: Any, app: Flask) -> None:
    link, _ = _paid_link(upgraded, app)

    payments = upgraded("payments", "list").out.splitlines()
    tasks = upgraded("outbox", "list").out.splitlines()

    assert payments[0].split("\t") == ["id", "shop", "order_ref", "amount", "currency", "state", "flags"]
    assert payments[1].split("\t")[1:] == ["demo", link["ref"], "12.50", "EUR", "paid", "test"]
    assert tasks[0].split("\t") == ["id", "kind", "state", "attempts", "order_ref", "last_error"]
    assert tasks[1].split("\t")[2:5] == ["pending", "0", link["ref"]]


# configuration errors


def test_bad_environment_is_one_line(bluepaid: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BLUEPAID_PUBLIC_URL", "hub.test")

    assert_one_line_error(bluepaid("shop", "list"), "BLUEPAID_PUBLIC_URL")


def test_bad_flag_is_one_line(bluepaid: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BLUEPAID_STRICT_PLUGINS", "maybe")

    assert_one_line_error(bluepaid("plugins"), "BLUEPAID_STRICT_PLUGINS")


def test_unknown_command_exits_non_zero_without_traceback(bluepaid: Any) -> None:
    result = bluepaid("no-such-command")

    assert result.code != 0
    assert "Traceback" not in result.err
    assert "no-such-command" in result.err


# demo


def test_demo_no_serve_creates_the_database_and_prints_three_links(bluepaid: Any, tmp_path: Path) -> None:
    folder = tmp_path / "demo"

    result = bluepaid("demo", "--no-serve", "--dir", str(folder))

    assert result.code == 0
    assert (folder / "hub.sqlite3").is_file()
    links = [w for w in result.out.split() if "/pay/demo/" in w]
    assert len(links) == 3
    assert all(link.startswith("http://127.0.0.1:5000/pay/demo/") for link in links)


def test_demo_twice_is_idempotent(bluepaid: Any, tmp_path: Path) -> None:
    folder = tmp_path / "demo"
    first = bluepaid("demo", "--no-serve", "--dir", str(folder))

    second = bluepaid("demo", "--no-serve", "--dir", str(folder))

    assert second.code == 0
    assert second.out == first.out
    assert "creating" not in second.err


def test_demo_links_work_against_the_demo_database(
    bluepaid: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "demo"
    out = bluepaid("demo", "--no-serve", "--dir", str(folder)).out
    links = [w for w in out.split() if "/pay/demo/" in w]
    monkeypatch.setenv("BLUEPAID_DATABASE_URL", f"sqlite:///{folder / 'hub.sqlite3'}")

    listed = bluepaid("shop", "show", "demo", "--json").json()
    app = create_app(HubConfig.from_env(os.environ))
    try:
        response = app.test_client().get(path_and_query(links[0]))
    finally:
        app.extensions["bluepaid.hub"].db.dispose()

    assert listed["id_boutique"] == "DEMO1234"
    # The demo shop posts to the sandbox, so its referrer check sees the hub.
    assert listed["redirect"] == "post"
    assert response.status_code == 200
    assert f'action="{listed["platform_url"]}/in.php"' in response.text
    assert '<input type="hidden" name="montant" value="12.50">' in response.text
