"""The conformance suite: what every connector must do, checked the same way for all.

A partner subclasses :class:`ConnectorConformance` in a test file, names the
connector and its settings, and writes the three harness methods that tell the
suite how to put an order in the shop (``given_order``) and read it back
(``shop_status``, ``shop_notes``). For a shop with an HTTP API, ``shop_url``
and ``shop_api`` set up a :class:`~hub.testing.shop_double.ShopDouble`::

    class TestAcmeConformance(ConnectorConformance):
        connector = AcmeConnector
        settings = {"base_url": "https://shop.example", "api_key": "test-key"}
        shop_url = "https://shop.example"

        def shop_api(self, api): ...
        def given_order(self, kit, order): ...
        def shop_status(self, kit, ref): ...
        def shop_notes(self, kit, ref): ...

Each test is one behaviour; a failure says what the connector did and what was
expected. Behaviours that do not apply (refunds for a connector that declares
none) are not run and are reported as not applicable, with the reason. The
pytest plugin prints the report at the end of the run and writes it with
``--bluepaid-report DIR``.
"""

from __future__ import annotations

import itertools
import json
import logging
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import parse_qsl

import pytest
from sqlalchemy import select

from bluepaid_plugins.connector import Capability, Connector
from bluepaid_plugins.domain import (
    Customer,
    EventKind,
    LineItem,
    Order,
    OrderStatus,
    PaymentEvent,
    Schedule,
    StatusEvent,
)
from bluepaid_plugins.errors import (
    ConnectorError,
    OrderNotFound,
    ShopAuthFailed,
    ShopRefused,
    ShopUnavailable,
)
from bluepaid_plugins.money import Money
from bluepaid_plugins.settings import Secret
from bluepaid_plugins.testing import Confirmations
from bluepaid_plugins.webhooks import ShopChange, ShopChangeKind
from hub.models import OutboxTask, TaskState
from hub.plugins import make_plugins
from hub.registry import connector_problems
from hub.shops import shop_summary
from hub.tasks import APPLY_EVENT, event_from_payload
from hub.testing.driver import Started
from hub.testing.kit import Kit, connector_kit
from hub.testing.shop_double import Call, Reply, ShopDouble

#: Every behaviour of the suite, in the order of the report.
BEHAVIOURS = (
    "registration",
    "entry point",
    "order mapping",
    "currencies with 0, 2 and 3 decimals",
    "order states",
    "non-payable orders refused",
    "ownership proof checked",
    "unknown order is not found",
    "each event applied exactly once",
    "re-applying an event is a no-op",
    "partial and full refunds",
    "subscription debits",
    "retryable versus permanent errors",
    "a timeout on every call",
    "no redirect followed",
    "check_connection",
    "webhooks",
    "secrets absent from logs and error messages",
)

_WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")

_HTTP_ONLY = {"retryable versus permanent errors", "a timeout on every call", "no redirect followed"}

#: Where redirects are sent to see that they are not followed: a cloud metadata service.
PRIVATE_TARGET = "https://169.254.169.254/latest/meta-data/"


def behaviour(name: str) -> pytest.MarkDecorator:
    """Mark a test as checking behaviour ``name`` of :data:`BEHAVIOURS`."""
    if name not in BEHAVIOURS:
        raise ValueError(f"unknown behaviour {name!r}")
    return pytest.mark.bluepaid_behaviour(name)


@dataclass(frozen=True)
class GivenOrder:
    """An order the suite asks the harness to put in the shop, in the suite's terms.

    The harness writes it in the shop's own form (its status codes, its amount
    format) and returns the order's proof: the shop's per-order secret, or ""
    for connectors whose links the hub signs.
    """

    ref: str
    total: Money
    status: OrderStatus = OrderStatus.OPEN
    customer: Customer = field(default_factory=lambda: Customer("ada@example.com", "Ada", "Lovelace", "FRA"))
    items: tuple[LineItem, ...] = ()
    schedule: Schedule | None = None
    #: The buyer's language, as the protocol writes it (``langue``).
    language: str = "EN"


class ConnectorConformance:
    """Base class of a connector's conformance tests. See the module's documentation."""

    connector: ClassVar[type[Connector]]
    settings: ClassVar[Mapping[str, Any]] = {}
    #: Base URL of the shop's API answered by the double; empty for connectors with no shop API.
    shop_url: ClassVar[str] = ""
    #: The folder of recorded examples of the shop's API, for ``api.example(name)``.
    examples: ClassVar[Path | None] = None
    #: The order fields the shop keeps and the connector must read back; add
    #: ``"language"`` when the shop keeps the buyer's (the harness then writes
    #: :attr:`GivenOrder.language`, ``EN``, in the shop's own form).
    order_fields: ClassVar[tuple[str, ...]] = (
        "total",
        "items",
        "email",
        "first_name",
        "last_name",
        "country",
    )
    #: The order states the harness can put an order in.
    states_given: ClassVar[tuple[OrderStatus, ...]] = tuple(OrderStatus)
    #: A currency with 3 decimals the shop can hold; empty for a shop that keeps
    #: amounts with two decimals at most (pretix): the suite then checks 0 and 2.
    three_decimal_currency: ClassVar[str] = "KWD"

    #: Behaviours that do not apply to this connector, with the reason (set for each subclass).
    not_applicable: ClassVar[dict[str, str]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if not hasattr(cls, "connector"):
            return
        capabilities = cls.connector.capabilities
        skipped: dict[str, str] = {}
        if not cls.shop_url:
            skipped.update(dict.fromkeys(_HTTP_ONLY, "no shop API: the orders are kept by the hub"))
        if Capability.REFUNDS not in capabilities:
            skipped["partial and full refunds"] = "the connector declares no refunds"
        if Capability.SUBSCRIPTIONS not in capabilities:
            skipped["subscription debits"] = "the connector declares no subscriptions"
        if Capability.WEBHOOKS not in capabilities:
            skipped["webhooks"] = "the connector declares no webhooks"
        if not _secret_names(cls.connector):
            skipped["secrets absent from logs and error messages"] = "the connector has no secret settings"
        cls.not_applicable = skipped
        if Capability.IDEMPOTENCY_KEYS not in capabilities:
            cls.test_a_retried_write_carries_the_same_idempotency_key = None  # type: ignore[assignment, method-assign]
        for name, attribute in list(vars(ConnectorConformance).items()):
            marks = getattr(attribute, "pytestmark", [])
            if any(m.name == "bluepaid_behaviour" and m.args[0] in skipped for m in marks):
                setattr(cls, name, None)

    # The harness: what a partner writes for their shop.

    def shop_api(self, api: ShopDouble) -> None:
        """Add the shop API's routes to ``api`` (for connectors with ``shop_url``)."""

    def given_order(self, kit: Kit, order: GivenOrder) -> str:
        """Put ``order`` in the shop; return its proof (or "" for hub-signed links)."""
        raise NotImplementedError("write given_order(kit, order) for your shop")

    def shop_status(self, kit: Kit, ref: str) -> str:
        """The shop's own status code of order ``ref`` now."""
        raise NotImplementedError("write shop_status(kit, ref) for your shop")

    def shop_notes(self, kit: Kit, ref: str) -> list[str]:
        """The notes in the history of order ``ref`` in the shop."""
        raise NotImplementedError("write shop_notes(kit, ref) for your shop")

    def error_body(self, status: int) -> Any:
        """The JSON body the shop answers an error ``status`` with (override with the
        shop's real error format; for a shop that does not answer JSON, override
        :meth:`error_reply` instead)."""
        return {"code": f"error_{status}", "message": f"the shop answered {status}"}

    def error_reply(self, status: int) -> Reply:
        """The whole answer the shop gives for an error ``status``: by default
        :meth:`error_body` as JSON. A shop answering XML (PrestaShop's
        ``<prestashop><errors>``) returns its own body and content type here."""
        return Reply(status, json=self.error_body(status))

    def signed_webhook(self, kit: Kit, change: ShopChange) -> tuple[dict[str, str], bytes]:
        """Headers and raw body of a webhook the shop would send for ``change``, signed
        (for connectors with webhooks)."""
        raise NotImplementedError("write signed_webhook(kit, change) for your shop")

    def handshake_webhook(self, kit: Kit) -> tuple[dict[str, str], bytes] | None:
        """Headers and body of the shop's handshake when a webhook is created, if it sends one."""
        return None

    # Fixtures

    @pytest.fixture
    def bluepaid_kit(self, bluepaid_database_url: str) -> Iterator[Kit]:
        with connector_kit(
            self.connector,
            database_url=bluepaid_database_url,
            settings=self.settings,
            shop_url=self.shop_url,
            examples=self.examples,
            install=self.shop_api,
        ) as kit:
            yield kit

    # Helpers

    _refs = itertools.count(4201)

    def place(self, kit: Kit, **changes: Any) -> tuple[GivenOrder, str]:
        """Put a new order in the shop (36.60 EUR, open, two lines unless changed)."""
        values: dict[str, Any] = {
            "ref": str(next(self._refs)),
            "total": Money.parse("36.60", "EUR"),
            "items": (LineItem("T-shirt", 2, Decimal("12.50")), LineItem("Mug", 1, Decimal("11.60"))),
        }
        values.update(changes)
        order = GivenOrder(**values)
        return order, self.given_order(kit, order)

    def fetch(self, kit: Kit, ref: str) -> Order:
        with kit.connector() as connector:
            return connector.fetch_order(ref)

    def pay(self, kit: Kit, order: GivenOrder, proof: str) -> tuple[Started, Confirmations]:
        started = kit.driver.start(order.ref, proof)
        return started, Confirmations(started.fields)

    def confirm(self, kit: Kit, message: dict[str, str], verdict: str = "accepted") -> None:
        response = kit.driver.post(message)
        assert response.status_code == 200, f"the hub answered {response.status_code} to the confirmation"
        row = kit.driver.last_inbox()
        assert row.verdict == verdict, (
            f"the hub's verdict is {row.verdict} ({row.reason}), expected {verdict}"
        )

    def deliver(self, kit: Kit) -> None:
        """Run the outbox until idle; every apply_event task must end done."""
        for _ in range(5):
            if not kit.driver.run_worker():
                break
        for task in kit.driver.task_rows(APPLY_EVENT):
            assert task.state == TaskState.DONE.value, (
                f"apply_event for {task.payload['kind']} ended {task.state}: {task.last_error}\n{task.detail}"
            )

    def expected_status(self, kit: Kit, event: StatusEvent, before: str) -> str:
        with kit.connector() as connector:
            mapped = connector.status_mapping.get(event)
        return before if mapped is None else mapped

    def last_event(self, kit: Kit) -> PaymentEvent:
        tasks = kit.driver.task_rows(APPLY_EVENT)
        assert tasks, "the hub wrote no apply_event task"
        return event_from_payload(tasks[-1].payload, tasks[-1].id)

    def assert_note_once(self, kit: Kit, ref: str, id_trans: str) -> None:
        notes = [note for note in self.shop_notes(kit, ref) if id_trans in note]
        assert len(notes) == 1, (
            f"order {ref} has {len(notes)} notes with transaction {id_trans}, expected exactly 1: "
            f"{self.shop_notes(kit, ref)}"
        )

    # Registration

    @behaviour("registration")
    def test_the_hub_accepts_the_class(self) -> None:
        problems = connector_problems(self.connector)
        assert problems == [], f"the hub refuses {self.connector.__name__}: {'; '.join(problems)}"

    @behaviour("entry point")
    def test_an_installed_distribution_registers_it(self) -> None:
        plugins = make_plugins()
        found = plugins.connectors.get(self.connector.id)
        assert found is not None, (
            f"no installed distribution registers connector {self.connector.id!r} through the "
            "'bluepaid' entry point group: declare [project.entry-points.bluepaid] and pip install the "
            f"package (plugins that failed: {plugins.failures or 'none'})"
        )
        assert found.__qualname__ == self.connector.__qualname__, (
            f"the entry point registers {found.__module__}.{found.__qualname__} as {self.connector.id!r}, "
            f"expected {self.connector.__module__}.{self.connector.__qualname__}"
        )

    # Orders

    @behaviour("order mapping")
    def test_the_order_is_read_as_the_shop_has_it(self, bluepaid_kit: Kit) -> None:
        given, _proof = self.place(bluepaid_kit)
        order = self.fetch(bluepaid_kit, given.ref)
        got = _order_fields(order)
        want = _order_fields(
            Order(given.ref, given.total, customer=given.customer, items=given.items, language=given.language)
        )
        checked = {k: got[k] for k in self.order_fields}
        expected = {k: want[k] for k in self.order_fields}
        assert checked == expected, f"fetch_order({given.ref!r}) read {checked}, the shop holds {expected}"

    @behaviour("currencies with 0, 2 and 3 decimals")
    def test_amounts_are_exact_in_every_currency(self, bluepaid_kit: Kit) -> None:
        amounts = [("3660", "JPY"), ("36.60", "EUR"), ("36.605", self.three_decimal_currency)]
        for text, currency in (amount for amount in amounts if amount[1]):
            given, _proof = self.place(bluepaid_kit, total=Money.parse(text, currency))
            order = self.fetch(bluepaid_kit, given.ref)
            read = f"{order.total} {order.total.currency}"
            assert order.total == given.total, (
                f"fetch_order read a total of {read}; the shop holds {text} {currency}"
            )

    @behaviour("order states")
    def test_each_order_state_is_read(self, bluepaid_kit: Kit) -> None:
        for status in self.states_given:
            given, _proof = self.place(bluepaid_kit, status=status)
            order = self.fetch(bluepaid_kit, given.ref)
            assert order.status is status, f"an order the shop holds as {status} was read as {order.status}"
            assert order.payable is status.payable, (
                f"an order the shop holds as {status} was read as {'' if order.payable else 'not '}payable; "
                f"a {status} order is {'' if status.payable else 'not '}payable"
            )

    @behaviour("non-payable orders refused")
    def test_an_order_that_cannot_be_paid_starts_no_payment(self, bluepaid_kit: Kit) -> None:
        for status in (s for s in self.states_given if not s.payable):
            given, proof = self.place(bluepaid_kit, status=status)
            response = bluepaid_kit.driver.open_pay(given.ref, proof)
            assert response.status_code in (409, 410), (
                f"the pay link of a {status} order answered {response.status_code}, expected a refusal page"
            )
            assert "Location" not in response.headers and "<form" not in response.text, (
                f"the pay link of a {status} order sends the buyer on to "
                f"{response.headers.get('Location') or 'a form'}, expected a refusal page"
            )
            started = bluepaid_kit.driver.payments_of(given.ref)
            assert started == [], f"the pay link of a {status} order started {len(started)} payment(s)"

    @behaviour("ownership proof checked")
    def test_a_pay_link_needs_the_orders_proof(self, bluepaid_kit: Kit) -> None:
        driver = bluepaid_kit.driver
        given, proof = self.place(bluepaid_kit)
        unknown = driver.client.get("/pay/kit/NO-SUCH-ORDER?key=x")
        bare = driver.client.get(f"/pay/kit/{given.ref}")
        wrong = driver.client.get(f"/pay/kit/{given.ref}?key=not-the-proof")
        for name, response in (("without a proof", bare), ("with a wrong proof", wrong)):
            assert response.status_code == 404, (
                f"the pay link {name} answered {response.status_code}, not 404"
            )
            assert response.text == unknown.text, f"the pay link {name} tells more than an unknown order does"
            assert given.customer.email not in response.text, f"the pay link {name} shows the buyer's e-mail"
        started = driver.payments_of(given.ref)
        assert started == [], f"pay links without the order's proof started {len(started)} payment(s)"
        right = driver.open_pay(given.ref, proof)
        assert right.status_code in (200, 302), (
            f"the pay link with the order's proof answered {right.status_code}"
        )

    @behaviour("unknown order is not found")
    def test_an_unknown_order_is_order_not_found(self, bluepaid_kit: Kit) -> None:
        expect_error(
            OrderNotFound,
            "fetch_order('999999') of an order the shop does not have",
            lambda: self.fetch(bluepaid_kit, "999999"),
        )

    # Events

    @behaviour("each event applied exactly once")
    @pytest.mark.parametrize("outcome", ["paid", "refused", "cancelled"])
    def test_each_event_reaches_the_shop_once(self, bluepaid_kit: Kit, outcome: str) -> None:
        given, proof = self.place(bluepaid_kit)
        before = self.shop_status(bluepaid_kit, given.ref)
        _started, confirmations = self.pay(bluepaid_kit, given, proof)
        message = {"paid": confirmations.accepted, "refused": confirmations.refused}.get(
            outcome, confirmations.cancelled
        )()
        self.confirm(bluepaid_kit, message)
        self.deliver(bluepaid_kit)
        want = self.expected_status(bluepaid_kit, StatusEvent(outcome), before)
        got = self.shop_status(bluepaid_kit, given.ref)
        assert got == want, (
            f"after a {outcome} event the shop's order is {got!r}; the status mapping says {want!r}"
        )
        self.assert_note_once(bluepaid_kit, given.ref, message["id_trans"])
        tasks = bluepaid_kit.driver.tasks(APPLY_EVENT)
        self.confirm(bluepaid_kit, confirmations.duplicate(message), verdict="duplicate")
        self.deliver(bluepaid_kit)
        assert bluepaid_kit.driver.tasks(APPLY_EVENT) == tasks, "a duplicate confirmation wrote another task"
        self.assert_note_once(bluepaid_kit, given.ref, message["id_trans"])

    @behaviour("each event applied exactly once")
    def test_a_retried_write_carries_the_same_idempotency_key(self, bluepaid_kit: Kit) -> None:
        """Run only for a connector that declares ``idempotency_keys``: every write of
        ``apply_event`` carries ``event.id`` (a header, a query parameter or a top-level
        field of the body), the same on the retry after a write failed."""
        api = bluepaid_kit.api
        assert api is not None, (
            "the connector declares idempotency_keys, so the suite needs its shop API (shop_url) "
            "to see the key on its writes"
        )
        given, _proof = self.place(bluepaid_kit)
        event = self.paid_event(given)
        api.answer_next(self.error_reply(503), methods=_WRITE_METHODS)
        expect_error(
            ShopUnavailable,
            "apply_event with the shop answering 503 to its write",
            lambda: _apply(bluepaid_kit, event),
        )
        _apply(bluepaid_kit, event)
        writes = api.writes
        assert len(writes) >= 2, (
            f"apply_event made {len(writes)} write(s) over a failed attempt and its retry, expected one each"
        )
        missing = [f"{c.method} {c.path}" for c in writes if not _carries(c, event.id)]
        assert missing == [], (
            f"the connector declares idempotency_keys, but these writes do not carry the event's id "
            f"{event.id!r} as the shop's idempotency key: {', '.join(missing)}"
        )

    @behaviour("re-applying an event is a no-op")
    def test_applying_the_same_event_again_writes_nothing(self, bluepaid_kit: Kit) -> None:
        given, proof = self.place(bluepaid_kit)
        _started, confirmations = self.pay(bluepaid_kit, given, proof)
        message = confirmations.accepted()
        self.confirm(bluepaid_kit, message)
        self.deliver(bluepaid_kit)
        status, notes = self.shop_status(bluepaid_kit, given.ref), self.shop_notes(bluepaid_kit, given.ref)
        writes = len(bluepaid_kit.api.writes) if bluepaid_kit.api else 0
        with bluepaid_kit.connector() as connector:
            connector.apply_event(self.last_event(bluepaid_kit))
        again = self.shop_status(bluepaid_kit, given.ref)
        assert again == status, (
            f"applying the paid event again changed the order from {status!r} to {again!r}"
        )
        after = self.shop_notes(bluepaid_kit, given.ref)
        assert after == notes, f"applying the paid event again added a note: {after[len(notes) :]}"
        if bluepaid_kit.api is not None:
            rewritten = bluepaid_kit.api.writes[writes:]
            assert rewritten == [], (
                f"applying the paid event again wrote to the shop: {[(c.method, c.path) for c in rewritten]}"
            )

    @behaviour("partial and full refunds")
    def test_refunds_reach_the_shop(self, bluepaid_kit: Kit) -> None:
        given, proof = self.place(bluepaid_kit)
        _started, confirmations = self.pay(bluepaid_kit, given, proof)
        self.confirm(bluepaid_kit, confirmations.accepted())
        self.deliver(bluepaid_kit)
        paid = self.shop_status(bluepaid_kit, given.ref)
        partial = confirmations.refund("10.00")
        self.confirm(bluepaid_kit, partial)
        self.deliver(bluepaid_kit)
        if Capability.PARTIAL_REFUNDS in self.connector.capabilities:
            want = self.expected_status(bluepaid_kit, StatusEvent.PARTIALLY_REFUNDED, paid)
            got = self.shop_status(bluepaid_kit, given.ref)
            assert got == want, f"after a partial refund the order is {got!r}; the mapping says {want!r}"
            self.assert_note_once(bluepaid_kit, given.ref, partial["id_trans"])
        rest = confirmations.refund("26.60")
        self.confirm(bluepaid_kit, rest)
        self.deliver(bluepaid_kit)
        want = self.expected_status(bluepaid_kit, StatusEvent.REFUNDED, paid)
        got = self.shop_status(bluepaid_kit, given.ref)
        assert got == want, f"after the full refund the order is {got!r}; the mapping says {want!r}"
        self.assert_note_once(bluepaid_kit, given.ref, rest["id_trans"])

    @behaviour("subscription debits")
    def test_later_debits_reach_the_shop_once(self, bluepaid_kit: Kit) -> None:
        schedule = Schedule(occurrences=3)
        given, proof = self.place(bluepaid_kit, total=Money.parse("9.90", "EUR"), items=(), schedule=schedule)
        started, confirmations = self.pay(bluepaid_kit, given, proof)
        assert started.action.endswith("/ABOv2/in.php"), "a subscription order was not sent to ABOv2/in.php"
        self.confirm(bluepaid_kit, confirmations.accepted())
        self.deliver(bluepaid_kit)
        paid = self.shop_status(bluepaid_kit, given.ref)
        second = confirmations.debit(2)
        self.confirm(bluepaid_kit, second)
        self.deliver(bluepaid_kit)
        want = self.expected_status(bluepaid_kit, StatusEvent.DEBIT_PAID, paid)
        got = self.shop_status(bluepaid_kit, given.ref)
        assert got == want, f"after debit 2 of a subscription the order is {got!r}; the mapping says {want!r}"
        self.assert_note_once(bluepaid_kit, given.ref, second["id_trans"])
        debit = self.last_event(bluepaid_kit).debit
        assert debit == 2, f"the hub told the shop debit {debit} for the second debit of a subscription"
        self.confirm(bluepaid_kit, confirmations.duplicate(second), verdict="duplicate")
        self.deliver(bluepaid_kit)
        self.assert_note_once(bluepaid_kit, given.ref, second["id_trans"])

    # Errors

    @behaviour("retryable versus permanent errors")
    @pytest.mark.parametrize(
        ("status", "error", "retryable"),
        [
            (429, ShopUnavailable, True),
            (500, ShopUnavailable, True),
            (503, ShopUnavailable, True),
            (401, ShopAuthFailed, False),
            (403, ShopAuthFailed, False),
            (404, OrderNotFound, False),
            (400, ShopRefused, False),
            (422, ShopRefused, False),
        ],
    )
    def test_shop_errors_are_classified(
        self, bluepaid_kit: Kit, status: int, error: type[ConnectorError], retryable: bool
    ) -> None:
        api = bluepaid_kit.api
        assert api is not None
        given, _proof = self.place(bluepaid_kit)
        headers = {"Retry-After": "120"} if status == 429 else {}
        api.answer_next(_with_headers(self.error_reply(status), headers), times=10)
        caught = expect_error(
            error,
            f"fetch_order with the shop answering {status}",
            lambda: self.fetch(bluepaid_kit, given.ref),
        )
        assert caught.retryable is retryable, f"{status} on fetch_order raised {caught!r}"
        if status == 429:
            after = getattr(caught, "retry_after", None)
            assert after == 120, (
                f"429 with Retry-After: 120 on fetch_order raised retry_after={after!r}, expected 120"
            )
        api.answer_next(_with_headers(self.error_reply(status), headers), times=10)
        event = self.paid_event(given)
        applied = expect_error(
            error, f"apply_event with the shop answering {status}", lambda: _apply(bluepaid_kit, event)
        )
        assert applied.retryable is retryable, f"{status} on apply_event raised {applied!r}"

    @behaviour("a timeout on every call")
    def test_every_call_has_a_timeout_and_a_timeout_is_retried(self, bluepaid_kit: Kit) -> None:
        api = bluepaid_kit.api
        assert api is not None
        given, _proof = self.place(bluepaid_kit)
        self.fetch(bluepaid_kit, given.ref)
        with bluepaid_kit.connector() as connector:
            connector.apply_event(self.paid_event(given))
            connector.check_connection()
        untimed = [(c.method, c.path) for c in api.calls if not _finite_timeout(c.timeout)]
        assert api.calls and untimed == [], f"calls made without a timeout: {untimed}"
        api.time_out_next(times=10)
        expect_error(
            ShopUnavailable,
            "fetch_order with the shop not answering",
            lambda: self.fetch(bluepaid_kit, given.ref),
        )

    @behaviour("no redirect followed")
    def test_a_redirect_to_a_private_address_is_not_followed(self, bluepaid_kit: Kit) -> None:
        api = bluepaid_kit.api
        assert api is not None
        given, _proof = self.place(bluepaid_kit)
        api.redirect_next(PRIVATE_TARGET, times=10)
        redirected = f"with the shop redirecting to {PRIVATE_TARGET}"
        expect_error(ShopRefused, f"fetch_order {redirected}", lambda: self.fetch(bluepaid_kit, given.ref))
        event = self.paid_event(given)
        expect_error(ShopRefused, f"apply_event {redirected}", lambda: _apply(bluepaid_kit, event))

    @behaviour("check_connection")
    def test_check_connection_says_what_it_found(self, bluepaid_kit: Kit) -> None:
        with bluepaid_kit.connector() as connector:
            found = connector.check_connection()
        assert isinstance(found, str) and found.strip(), f"check_connection() returned {found!r}"
        if bluepaid_kit.api is not None:
            bluepaid_kit.api.answer_next(self.error_reply(401), times=10)
            expect_error(
                ShopAuthFailed, "check_connection with the shop answering 401", lambda: _check(bluepaid_kit)
            )

    # Webhooks

    @behaviour("webhooks")
    def test_webhooks_are_verified_then_close_the_order(self, bluepaid_kit: Kit) -> None:
        driver = bluepaid_kit.driver
        given, proof = self.place(bluepaid_kit)
        path = f"/webhooks/kit/{bluepaid_kit.shop.webhook_token}"
        handshake = self.handshake_webhook(bluepaid_kit)
        if handshake is not None:
            answered = driver.client.post(path, headers=handshake[0], data=handshake[1])
            assert answered.status_code < 300, (
                f"the shop's handshake was answered {answered.status_code}, expected 2xx: "
                "handshake() did not recognise it"
            )
        headers, body = self.signed_webhook(bluepaid_kit, ShopChange(ShopChangeKind.CANCELLED, given.ref))
        tampered = driver.client.post(path, headers=headers, data=body + b" ")
        assert tampered.status_code == 401, (
            f"a webhook with an altered body was answered {tampered.status_code}"
        )
        unsigned = {k: v for k, v in headers.items() if k.lower() == "content-type"}
        bare = driver.client.post(path, headers=unsigned, data=body)
        assert bare.status_code == 401, (
            f"a webhook without its signature headers was answered {bare.status_code}"
        )
        signed = driver.client.post(path, headers=headers, data=body)
        assert signed.status_code == 200, (
            f"the signed webhook was answered {signed.status_code}, expected 200: "
            "verify_webhook() refused it or read_webhook() failed"
        )
        closed = driver.open_pay(given.ref, proof)
        assert closed.status_code == 409, (
            f"the pay link of an order the shop cancelled answered {closed.status_code}, expected 409: "
            "read_webhook() did not tell the hub it was cancelled"
        )

    # Secrets

    @behaviour("secrets absent from logs and error messages")
    def test_secrets_never_show(self, bluepaid_kit: Kit, caplog: pytest.LogCaptureFixture) -> None:
        caplog.set_level(logging.DEBUG)
        secrets = [
            _reveal(self.settings[name]) for name in _secret_names(self.connector) if self.settings.get(name)
        ]
        assert secrets, "give the secret settings a value in `settings`"
        seen: list[str] = []
        given, _proof = self.place(bluepaid_kit)
        api = bluepaid_kit.api
        faults: list[Callable[[], None]] = [lambda: None]
        if api is not None:
            faults = [
                lambda: api.answer_next(self.error_reply(401), times=10),
                lambda: api.answer_next(self.error_reply(500), times=10),
                lambda: api.time_out_next(times=10),
                lambda: api.redirect_next(PRIVATE_TARGET, times=10),
            ]
        for arm in faults:
            arm()
            for call in (
                lambda: self.fetch(bluepaid_kit, given.ref),
                lambda: _apply(bluepaid_kit, self.paid_event(given)),
                lambda: _check(bluepaid_kit),
            ):
                try:
                    call()
                except Exception as exc:
                    # Whatever escapes, ours or not, is what a log or a page would show.
                    seen += [str(exc), repr(exc)]
            if api is not None:
                api.clear_faults()
        with bluepaid_kit.connector() as connector:
            seen += [repr(connector.settings), str(connector.settings), repr(vars(connector))]
        seen.append(json.dumps(shop_summary(bluepaid_kit.hub, bluepaid_kit.shop), default=str))
        with bluepaid_kit.hub.db.transaction() as session:
            seen += [t.last_error + t.detail for t in session.scalars(select(OutboxTask))]
        seen += [record.getMessage() for record in caplog.records]
        seen.append(caplog.text)
        leaks = sorted({secret for secret in secrets for text in seen if secret in text})
        assert not leaks, "a secret setting appears in a log line, an error message or the shop's summary"

    def paid_event(self, given: GivenOrder) -> PaymentEvent:
        """A paid event for ``given``, as the hub would hand it to the connector."""
        return PaymentEvent(
            id="ev_conformance",
            payment_id="p" * 32,
            kind=EventKind.PAID,
            order_ref=given.ref,
            amount=given.total,
            paid_total=given.total,
            refunded_total=Money.from_minor(0, given.total.currency),
            id_trans="BP000000009999",
            occurred_at=datetime(2026, 11, 26, 12, 0, tzinfo=UTC),
            test=True,
        )


def expect_error(error: type[ConnectorError], doing: str, call: Callable[[], object]) -> ConnectorError:
    """The ``error`` ``call()`` raises; fails saying what it did instead (``doing`` names the call)."""
    try:
        result = call()
    except error as exc:
        return exc
    except Exception as exc:
        raise AssertionError(
            f"{doing} raised {type(exc).__name__}: {exc}; expected {error.__name__}"
        ) from exc
    raise AssertionError(f"{doing} returned {result!r}; expected it to raise {error.__name__}")


def _carries(call: Call, key: str) -> bool:
    """Whether ``call`` sends ``key`` as a header, a query parameter or a top-level body field."""
    fields: Any = {}
    try:
        fields = call.json()
    except ValueError:
        fields = dict(parse_qsl(call.text))
    values = [*call.headers.values(), *call.query.values()]
    if isinstance(fields, dict):
        values += [str(value) for value in fields.values()]
    return key in values


def _with_headers(reply: Reply, headers: Mapping[str, str]) -> Reply:
    return replace(reply, headers={**reply.headers, **headers})


def _apply(kit: Kit, event: PaymentEvent) -> None:
    with kit.connector() as connector:
        connector.apply_event(event)


def _check(kit: Kit) -> None:
    with kit.connector() as connector:
        connector.check_connection()


def _order_fields(order: Order) -> dict[str, Any]:
    return {
        "total": (str(order.total), order.total.currency),
        "items": [(i.name, i.quantity, Decimal(i.unit_price)) for i in order.items],
        "email": order.customer.email,
        "first_name": order.customer.first_name,
        "last_name": order.customer.last_name,
        "country": order.customer.country,
        "language": order.language,
    }


def _secret_names(cls: type[Connector]) -> list[str]:
    return [f.name for f in cls.settings_schema if f.secret]


def _reveal(value: Any) -> str:
    return value.reveal() if isinstance(value, Secret) else str(value)


def _finite_timeout(timeout: Any) -> bool:
    values = timeout if isinstance(timeout, tuple) else (timeout,)
    return all(isinstance(v, int | float) and 0 < v < 3600 for v in values)
