"""The confirmation route under arbitrary input: never a 500, always one stored request.

Anyone can reach a confirmation URL with anything. Whatever arrives, the hub
stores it raw (one inbox row per request) and answers with a verdict, never an
error page. Hypothesis drives these on SQLite, for speed; the same checks on
PostgreSQL for the inputs one database accepts and the other may not are at the end.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

import pytest
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from bluepaid_plugins.money import Money
from bluepaid_plugins.protocol import CONFIRMATION_FIELDS
from hub import inbox, migrate
from hub.app import create_app
from hub.config import HubConfig
from hub.context import Hub, build_hub
from hub.models import InboxMessage, Payment, Shop, Verdict
from hub.orders import create_link_order
from hub.shops import add_shop
from tests.conftest import FrozenClock
from tests.hub.conftest import PLATFORM, PUBLIC, SANDBOX_IP

FUZZ = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# What the route may answer: accepted or acknowledged, malformed, refused, unknown, wrong method.
ANSWERS = {200, 400, 403, 404, 405, 413}

# The methods the route stores; others (OPTIONS, TRACE, made-up verbs) Flask answers by itself.
STORED_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


@dataclass
class Target:
    """A hub on SQLite with one shop and one started payment, shared by a test's examples."""

    hub: Hub
    client: FlaskClient
    shop: Shop
    valid: dict[str, str]

    @property
    def path(self) -> str:
        return f"/confirm/{self.shop.slug}/{self.shop.confirm_token}"

    def inbox_rows(self) -> int:
        with self.hub.db.transaction() as session:
            return int(session.scalar(select(func.count()).select_from(InboxMessage)) or 0)

    def last_inbox(self) -> InboxMessage:
        with self.hub.db.transaction() as session:
            row = session.scalars(select(InboxMessage).order_by(InboxMessage.id.desc()).limit(1)).first()
        assert row is not None
        return row

    def send(
        self,
        body: bytes | str,
        *,
        method: str = "POST",
        path: str = "",
        content_type: str | None = "application/x-www-form-urlencoded",
        remote: str = SANDBOX_IP,
    ) -> int:
        """Send one request; check it was answered and stored exactly once. Returns the status."""
        before = self.inbox_rows()
        raw = body.encode() if isinstance(body, str) else body
        # Raw bytes as the stream, so the test client sends them as they are, whatever the type.
        response = self.client.open(
            path or self.path,
            method=method,
            input_stream=io.BytesIO(raw),
            content_length=len(raw),
            content_type=content_type,
            environ_base={"REMOTE_ADDR": remote},
        )
        assert response.status_code in ANSWERS, response.text[:500]
        assert self.inbox_rows() == before + 1
        stored = self.last_inbox()
        if stored.body or stored.verdict is None or "not kept" not in stored.reason:
            # Kept whole (one byte past the limit shows the body was cut).
            assert stored.body == raw[: inbox.MAX_BODY + 1]
        assert stored.verdict is not None
        return response.status_code


def make_target(database_url: str, clock: FrozenClock) -> Target:
    config = HubConfig(
        database_url=database_url, secret_key="k" * 32, public_url=PUBLIC, platform_url=PLATFORM
    )
    hub = build_hub(config, clock=clock)
    migrate.upgrade(hub.db)
    shop = add_shop(hub, slug="demo", id_boutique="21573www", test_mode=True, allowed_ips=[SANDBOX_IP])
    app = create_app(hub=hub)
    # Every example comes from one address: write down each junk request here.
    app.extensions["bluepaid.junk"].per_minute = app.extensions["bluepaid.junk"].in_all_per_minute = 10**9
    client = app.test_client()
    ref = create_link_order(hub.db, shop, Money.parse("36.60", "EUR"), now=clock()).ref
    pay = urlsplit(hub.pay_url(shop, ref))
    location = client.get(f"{pay.path}?{pay.query}").headers["Location"]
    sent = dict(parse_qsl(urlsplit(location).query))
    valid = {
        "etat": "ok",
        "mode": "test",
        "id_trans": "T1000",
        "id_client": sent["id_client"],
        "divers": sent["divers"],
        "langue": "FR",
        "id_boutique": sent["id_boutique"],
        "montant": sent["montant"],
        "devise": sent["devise"],
    }
    return Target(hub, client, shop, valid)


@pytest.fixture
def target(tmp_path: Path, clock: FrozenClock) -> Iterator[Target]:
    built = make_target(f"sqlite:///{tmp_path / 'fuzz.sqlite3'}", clock)
    yield built
    built.hub.db.dispose()


@pytest.fixture
def target_on_each_store(database_url: str, clock: FrozenClock) -> Iterator[Target]:
    built = make_target(database_url, clock)
    yield built
    built.hub.db.dispose()


texts = st.text(max_size=80)
names = st.one_of(st.sampled_from(CONFIRMATION_FIELDS), st.text(max_size=20))
form_pairs = st.lists(st.tuples(names, texts), max_size=20).map(urlencode)
huge_values = st.builds(
    lambda name, size, char: urlencode({name: char * size}),
    st.sampled_from(CONFIRMATION_FIELDS),
    st.integers(min_value=100, max_value=300_000),
    st.sampled_from(["9", "a", ",", "%", "\x00", "é", "€"]),
)
content_types = st.one_of(
    st.none(),
    st.sampled_from(
        [
            "application/x-www-form-urlencoded",
            "application/x-www-form-urlencoded; charset=latin-1",
            "multipart/form-data",
            "multipart/form-data; boundary=x",
            "application/json",
            "text/plain",
        ]
    ),
    st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=40),
)
remotes = st.sampled_from([SANDBOX_IP, "203.0.113.9", "::1", "not-an-address", ""])


@FUZZ
@given(body=st.one_of(st.binary(max_size=2000), form_pairs, huge_values), content_type=content_types)
def test_arbitrary_bodies_are_stored_and_answered_without_error(
    target: Target, body: bytes | str, content_type: str | None
) -> None:
    target.send(body, content_type=content_type)


@st.composite
def mutations(draw: st.DrawFn, valid: dict[str, str]) -> list[tuple[str, str]]:
    """A valid confirmation with fields dropped, doubled, changed, added or renamed."""
    pairs = list(valid.items())
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        if not pairs:
            break
        index = draw(st.integers(min_value=0, max_value=len(pairs) - 1))
        name, value = pairs[index]
        operation = draw(st.sampled_from(["drop", "double", "change", "add", "rename", "grow", "trim"]))
        if operation == "drop":
            del pairs[index]
        elif operation == "double":
            pairs.insert(index, (name, draw(st.one_of(st.just(value), texts))))
        elif operation == "change":
            pairs[index] = (name, draw(texts))
        elif operation == "add":
            pairs.append((draw(names), draw(texts)))
        elif operation == "rename":
            pairs[index] = (draw(st.sampled_from([name.upper(), f" {name}", f"{name}[]", ""])), value)
        elif operation == "grow":
            pairs[index] = (name, value * draw(st.integers(min_value=2, max_value=5000)))
        else:
            pairs[index] = (name, value[: draw(st.integers(min_value=0, max_value=len(value)))])
    return pairs


@FUZZ
@given(data=st.data())
def test_mutated_confirmations_are_stored_and_answered_without_error(
    target: Target, data: st.DataObject
) -> None:
    pairs = data.draw(mutations(target.valid))

    target.send(urlencode(pairs), remote=data.draw(remotes))

    with target.hub.db.transaction() as session:
        payment = session.scalars(select(Payment)).one()
    # Only the exact confirmation of the payment can make it paid.
    if payment.state == "paid":
        assert Verdict.ACCEPTED in {Verdict(v) for v in _verdicts(target)}


def _verdicts(target: Target) -> list[str]:
    with target.hub.db.transaction() as session:
        return [str(v) for v in session.scalars(select(InboxMessage.verdict))]


@FUZZ
@given(
    method=st.one_of(st.sampled_from(STORED_METHODS), st.sampled_from(STORED_METHODS).map(str.lower)),
    body=st.one_of(st.binary(max_size=200), form_pairs),
)
def test_every_method_the_route_serves_is_stored_and_only_post_is_read(
    target: Target, method: str, body: bytes | str
) -> None:
    status = target.send(body, method=method)

    if method.upper() != "POST":
        assert status == 405
        assert target.last_inbox().verdict == Verdict.REJECTED


@FUZZ
@given(
    method=st.one_of(
        st.sampled_from(["OPTIONS", "TRACE", "CONNECT", "PROPFIND"]),
        st.text(
            alphabet=st.characters(min_codepoint=ord("A"), max_codepoint=ord("Z")), min_size=1, max_size=12
        ).filter(lambda method: method not in STORED_METHODS),
    )
)
def test_other_methods_never_error_nor_change_a_payment(target: Target, method: str) -> None:
    response = target.client.open(target.path, method=method, data=urlencode(target.valid))

    assert response.status_code < 500
    with target.hub.db.transaction() as session:
        assert session.scalars(select(Payment.state)).one() == "created"


segments = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="/"), min_size=1, max_size=200
)


@FUZZ
@given(shop=segments, token=segments, body=form_pairs)
def test_arbitrary_confirmation_urls_are_stored_and_answered_without_error(
    target: Target, shop: str, token: str, body: str
) -> None:
    status = target.send(body, path=f"/confirm/{quote(shop, safe='')}/{quote(token, safe='')}")

    assert status in {400, 403, 404}


# On both stores: inputs SQLite takes and PostgreSQL may refuse.


@pytest.mark.parametrize(
    "path",
    ["/confirm/demo%00/x", "/confirm/demo/{token}%00", "/confirm/%00%00/%00", "/confirm/d%C3%A9mo/%E2%82%AC"],
)
def test_odd_confirmation_urls_are_stored_and_rejected_on_each_store(
    target_on_each_store: Target, path: str
) -> None:
    target = target_on_each_store

    status = target.send(urlencode(target.valid), path=path.format(token=target.shop.confirm_token))

    assert status == 404
    assert target.last_inbox().verdict == Verdict.REJECTED


@pytest.mark.parametrize(
    ("body", "answer"),
    [
        (b"\x00\xff\xfe", 400),
        (b"etat=ok&id_trans=%00&montant=1", 400),
        (("etat=" + "9" * 100_000).encode(), 413),  # past the size limit: refused, never read cut
        (b"id_client=%ED%A0%80&etat=ok", 400),
    ],
)
def test_odd_bodies_are_stored_and_rejected_on_each_store(
    target_on_each_store: Target, body: bytes, answer: int
) -> None:
    target = target_on_each_store

    status = target.send(body)

    assert status == answer
    assert target.last_inbox().verdict == Verdict.REJECTED


def test_valid_confirmation_still_goes_through_on_each_store(target_on_each_store: Target) -> None:
    target = target_on_each_store

    assert target.send(urlencode(target.valid)) == 200
    assert target.last_inbox().verdict == Verdict.ACCEPTED
