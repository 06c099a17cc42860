"""docs/reference/hooks.md documents every hook spec through autodoc, each with an example that works.

The text of a hook comes from its docstring (autodoc), so it cannot drift; what
this file keeps true is the rest: every spec has its section, in the order of
the specs, and the example of each section is real code that implements that
hook, loads through the hub's plugin manager and does what the page says.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import sys
import types
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pluggy
import pytest
import responses
from click.testing import CliRunner
from flask import Flask

from bluepaid_plugins import hookspecs
from bluepaid_plugins.domain import Customer, EventKind, Order, PaymentEvent, PaymentView, ShopView
from bluepaid_plugins.errors import PaymentVetoed, Problem
from bluepaid_plugins.money import Money
from hub.config import HubConfig
from hub.plugins import Plugins, make_plugins
from hub.testing.kit import connector_kit
from hub.testing.shop_double import Call, Reply, ShopDouble

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "reference" / "hooks.md"

_SECTION = re.compile(r"^## `(?P<name>[^`]+)`[ \t]*$", re.MULTILINE)
_AUTODOC = re.compile(
    r"^(?:\.\. autofunction::|```\{autofunction\})[ \t]+bluepaid_plugins\.hookspecs\.(?P<name>\w+)[ \t]*$",
    re.MULTILINE,
)
_PYTHON = re.compile(r"^```python\n(?P<code>.*?)^```$", re.MULTILINE | re.DOTALL)


@dataclass(frozen=True)
class Section:
    name: str
    autodoc: list[str]
    example: str


def specified() -> list[str]:
    """The hook specs, in the order of the source."""
    return [
        name
        for name, value in vars(hookspecs).items()
        if callable(value) and hasattr(value, f"{hookspecs.PROJECT}_spec")
    ]


def sections() -> list[Section]:
    """The hook sections of the page: a heading naming the hook, then its autodoc and example."""
    text = DOC.read_text()
    headings = list(_SECTION.finditer(text))
    found = []
    for index, heading in enumerate(headings):
        end = headings[index + 1].start() if index + 1 < len(headings) else len(text)
        body = text[heading.end() : end]
        autodoc = [m["name"] for m in _AUTODOC.finditer(body)]
        after = _AUTODOC.search(body)
        example = _PYTHON.search(body, after.end()) if after else None
        found.append(Section(heading["name"], autodoc, example["code"] if example else ""))
    return found


def section(name: str) -> Section:
    matching = [s for s in sections() if s.name == name]
    assert len(matching) == 1, f"docs/reference/hooks.md has {len(matching)} sections for {name}"
    return matching[0]


def load_example(name: str, monkeypatch: pytest.MonkeyPatch) -> tuple[types.ModuleType, Plugins]:
    """Run the example of hook ``name`` as a module and register it, alone (beside the hub's
    built-in merchant mail, which has nobody to mail here), with the hub's manager."""
    module = types.ModuleType(f"docs_hooks_example_{name}")
    module.__file__ = str(DOC)
    monkeypatch.setitem(sys.modules, module.__name__, module)
    exec(compile(section(name).example, f"{DOC}:{name}", "exec"), module.__dict__)
    return module, make_plugins(allow=frozenset(), extra=[module])


def test_the_specs_are_the_ones_pluggy_sees() -> None:
    manager = pluggy.PluginManager(hookspecs.PROJECT)
    manager.add_hookspecs(hookspecs)

    registered = {name for name in dir(manager.hook) if name.startswith(f"{hookspecs.PROJECT}_")}

    assert registered == set(specified())


def test_every_spec_has_a_section_in_the_order_of_the_specs() -> None:
    assert [s.name for s in sections()] == specified()


def test_each_section_documents_its_own_hook_through_autodoc() -> None:
    assert {s.name: s.autodoc for s in sections()} == {name: [name] for name in specified()}


def test_nothing_else_on_the_page_documents_a_hook() -> None:
    documented = [m["name"] for m in _AUTODOC.finditer(DOC.read_text())]

    assert sorted(documented) == sorted(specified())


@pytest.mark.parametrize("name", specified())
def test_each_hook_has_an_example(name: str) -> None:
    assert "@hookimpl" in section(name).example, f"the section of {name} has no example implementation"


@pytest.mark.parametrize("name", specified())
def test_the_example_implements_the_hook_it_claims(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    module, plugins = load_example(name, monkeypatch)

    implemented = {caller.name for caller in plugins.manager.get_hookcallers(module) or []}

    assert implemented == {name}


# What each example does, called as the hub calls it.

SHOP = ShopView(slug="acme", id_boutique="21573www", name="Acme", connector="acme", test_mode=True)
EVENT_TIME = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def order(total: str = "36.60", country: str = "FRA", language: str = "") -> Order:
    return Order("1042", Money.parse(total, "EUR"), customer=Customer(country=country), language=language)


def paid_event(kind: EventKind = EventKind.PAID, test: bool = False) -> PaymentEvent:
    amount = Money.parse("36.60", "EUR")
    return PaymentEvent(
        id="ev_1042_1",
        payment_id="p" * 32,
        kind=kind,
        order_ref="1042",
        amount=amount,
        paid_total=amount,
        refunded_total=Money.parse("0", "EUR"),
        id_trans="BP000000000001",
        occurred_at=EVENT_TIME,
        test=test,
    )


def acme_api(api: ShopDouble) -> None:
    """The Acme shop of the example: orders with a status and notes."""

    def read(call: Call, match: re.Match[str]) -> Reply:
        found = api.orders.get(match[1])
        return Reply(json=found) if found else Reply(404, json={"message": "no such order"})

    def write(call: Call, match: re.Match[str]) -> Reply:
        stored = api.orders[match[1]]
        change = call.json()
        stored["status"] = change["status"]
        stored["notes"].append(change["note"])
        return Reply(json=stored)

    api.route("GET", r"/api/orders/(\w+)", read)
    api.route("PUT", r"/api/orders/(\w+)", write)


def test_the_connector_example_reads_orders_and_applies_an_event_once(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    module, plugins = load_example("bluepaid_register_connectors", monkeypatch)
    assert plugins.connectors == {"acme": module.AcmeConnector}
    settings = {"base_url": "https://shop.example", "api_key": "acme-key"}

    with connector_kit(
        module.AcmeConnector,
        database_url=f"sqlite:///{tmp_path / 'hub.sqlite3'}",
        settings=settings,
        shop_url="https://shop.example",
        install=acme_api,
    ) as kit:
        assert kit.api is not None
        kit.api.orders["1042"] = {
            "total": "36.60",
            "currency": "EUR",
            "status": "pending",
            "order_key": "wc_order_k",
            "notes": [],
        }
        with kit.connector() as connector:
            fetched = connector.fetch_order("1042")
            connector.apply_event(paid_event())
            connector.apply_event(paid_event())

        assert (fetched.total, fetched.payable, fetched.secret) == (
            Money.parse("36.60", "EUR"),
            True,
            "wc_order_k",
        )
        assert kit.api.orders["1042"]["status"] == "processing"
        assert kit.api.orders["1042"]["notes"] == [paid_event().note]
        assert [(c.method, c.path) for c in kit.api.writes] == [("PUT", "/api/orders/1042")]
        assert all(c.headers["authorization"] == "Bearer acme-key" for c in kit.api.calls)


@pytest.mark.parametrize(
    ("fields", "buyer", "expected"),
    [
        ({"langue": "FR"}, order(country="DEU"), {"langue": "EN"}),
        ({"LANGUE": "FR"}, order(country="DEU"), {"LANGUE": "EN"}),
        ({"langue": "FR"}, order(country="BEL"), {"langue": "FR"}),
        ({"langue": "FR"}, order(country="DEU", language="DE"), {"langue": "FR"}),
    ],
)
def test_the_payment_request_example_chooses_the_language(
    fields: dict[str, str], buyer: Order, expected: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _module, plugins = load_example("bluepaid_payment_request", monkeypatch)

    plugins.hook.bluepaid_payment_request(shop=SHOP, order=buyer, fields=fields)

    assert fields == expected


def test_the_payment_request_example_vetoes_what_the_merchant_does_not_ship(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _module, plugins = load_example("bluepaid_payment_request", monkeypatch)

    with pytest.raises(PaymentVetoed, match=r"^Acme does not deliver to this country"):
        plugins.hook.bluepaid_payment_request(shop=SHOP, order=order(country="AUS"), fields={})
    with pytest.raises(PaymentVetoed, match=r"^Acme ne livre pas dans ce pays"):
        plugins.hook.bluepaid_payment_request(shop=SHOP, order=order(country="AUS", language="FR"), fields={})


@pytest.mark.parametrize(
    ("buyer", "expected"),
    [
        (order("12.00"), []),
        (order("0.50"), ["Un paiement par carte doit être d'au moins 1.00 EUR."]),
        (order("0.50", language="EN"), ["A card payment must be at least 1.00 EUR."]),
    ],
)
def test_the_check_order_example_refuses_tiny_payments(
    buyer: Order, expected: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _module, plugins = load_example("bluepaid_check_order", monkeypatch)

    assert plugins.hook.bluepaid_check_order(shop=SHOP, order=buyer) == expected


@responses.activate
def test_the_payment_event_example_books_payments_with_the_event_id(monkeypatch: pytest.MonkeyPatch) -> None:
    _module, plugins = load_example("bluepaid_payment_event", monkeypatch)
    responses.post("https://ledger.example/api/entries", json={"id": 1}, status=201)
    payment = PaymentView(
        "p" * 32,
        "acme",
        "1042",
        "paid",
        Money.parse("36.60", "EUR"),
        "BP000000000001",
        (),
        Money.from_minor(0, "EUR"),
    )

    for event in (paid_event(), paid_event(test=True), paid_event(EventKind.PENDING)):
        plugins.hook.bluepaid_payment_event(shop=SHOP, payment=payment, event=event, mail=lambda *_: False)

    assert len(responses.calls) == 1
    sent = responses.calls[0].request
    assert sent.headers["Idempotency-Key"] == "ev_1042_1"
    assert json.loads(sent.body or b"") == {
        "date": "2026-11-26",
        "account": "acme",
        "reference": "1042 / BP000000000001",
        "amount": "36.60",
        "currency": "EUR",
    }


def test_the_blueprint_example_serves_its_page(monkeypatch: pytest.MonkeyPatch) -> None:
    _module, plugins = load_example("bluepaid_register_blueprints", monkeypatch)
    app = Flask("hub-under-test")

    def register(blueprint: Any, url_prefix: str | None = None) -> None:
        app.register_blueprint(blueprint, url_prefix=url_prefix)

    def no_desk(connector_id: str) -> Any:
        raise AssertionError(f"the example asked for the order desk of {connector_id!r}")

    plugins.hook.bluepaid_register_blueprints(register=register, orders=no_desk)

    answer = app.test_client().get("/acme/health")
    assert (answer.status_code, answer.json) == (200, {"status": "ok"})


def test_the_command_example_signs_a_body(monkeypatch: pytest.MonkeyPatch) -> None:
    _module, plugins = load_example("bluepaid_register_commands", monkeypatch)
    commands: list[Any] = []
    plugins.hook.bluepaid_register_commands(register=commands.append)

    result = CliRunner().invoke(commands[0], ["-", "--secret", "s3cret"], input=b'{"id": 1042}')

    expected = base64.b64encode(hmac.new(b"s3cret", b'{"id": 1042}', hashlib.sha256).digest()).decode()
    assert [c.name for c in commands] == ["acme-sign"]
    assert (result.exit_code, result.output.strip()) == (0, expected)


@pytest.mark.parametrize(
    ("public_url", "expected"),
    [
        ("http://127.0.0.1:5000", []),
        ("https://pay.example.com", []),
        (
            "http://pay.example.com",
            [Problem("BLUEPAID_PUBLIC_URL", "the Acme connector needs an https:// address")],
        ),
    ],
)
def test_the_settings_example_wants_an_https_hub(
    public_url: str, expected: list[Problem], monkeypatch: pytest.MonkeyPatch
) -> None:
    _module, plugins = load_example("bluepaid_validate_settings", monkeypatch)
    config = HubConfig(public_url=public_url).as_mapping()

    found = [
        problem for answer in plugins.hook.bluepaid_validate_settings(config=config) for problem in answer
    ]

    assert found == expected
