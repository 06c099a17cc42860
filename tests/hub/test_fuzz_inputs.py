"""Fuzzing (issue 13) of what reads or signs outside input, beyond the confirmation
route (``test_fuzz_route.py``): the payment request builder, the signature checks
(the contract's pay-link proofs and ``divers`` tokens, WooCommerce's and Shopware's
webhook signatures) and the catalog import. Whatever comes in, each either gives a
well-formed result or raises our ValidationError, and a check says yes to exactly
what was signed with the secret.

Bounded here; ``BLUEPAID_FUZZ_EXAMPLES`` raises the examples of every test for the
longer run documented in ``benchmarks/README.md``.
"""

from __future__ import annotations

import hashlib
import os
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from bluepaid_plugins.errors import ValidationError
from bluepaid_plugins.money import Money
from bluepaid_plugins.paylink import TokenCheck, check_pay_token, sign_pay_token
from bluepaid_plugins.protocol import PaymentRequest, check_divers, divers_token
from bluepaid_plugins.protocol.request import validate_payment_fields
from bluepaid_plugins.webhooks import WebhookRequest
from cart.catalog import COLUMNS, parse_catalog
from connectors.shopware6 import app as shopware
from connectors.woocommerce import webhooks as woocommerce

FUZZ = settings(max_examples=int(os.environ.get("BLUEPAID_FUZZ_EXAMPLES", "60")), deadline=None)

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
texts = st.text(max_size=80)
secrets_ = st.text(min_size=1, max_size=40)
amounts = st.builds(
    Money.from_minor, st.integers(min_value=0, max_value=10**9), st.sampled_from(["EUR", "USD", "XPF"])
)
urls = st.one_of(st.just(""), texts, st.builds(lambda host: f"https://{host}/ok", texts))


@FUZZ
@given(
    id_boutique=texts,
    amount=amounts,
    id_client=texts,
    divers=texts,
    langue=texts,
    email=texts,
    ok=urls,
    stop=urls,
    bo=urls,
    pays=texts,
    nom=texts,
    prenom=texts,
)
def test_the_request_builder_gives_valid_fields_or_names_the_problems(
    id_boutique: str,
    amount: Money,
    id_client: str,
    divers: str,
    langue: str,
    email: str,
    ok: str,
    stop: str,
    bo: str,
    pays: str,
    nom: str,
    prenom: str,
) -> None:
    request = PaymentRequest(
        id_boutique=id_boutique,
        amount=amount,
        id_client=id_client,
        divers=divers,
        langue=langue,
        email_client=email,
        url_retour_ok=ok,
        url_retour_stop=stop,
        url_retour_bo=bo,
        pays_liv=pays,
        nom=nom,
        prenom=prenom,
    )
    try:
        fields = request.fields()
    except ValidationError as exc:
        assert exc.problems
        return
    # What the builder sends is what the platform's own rules accept, and nothing empty.
    assert validate_payment_fields(fields) == []
    assert all(fields.values())
    assert fields["id_boutique"] == id_boutique and fields["id_client"] == id_client


@FUZZ
@given(secret=secrets_, id_boutique=texts, ref=texts, amount=amounts, payment=texts, other=texts)
def test_divers_is_accepted_as_issued_and_refused_otherwise(
    secret: str, id_boutique: str, ref: str, amount: Money, payment: str, other: str
) -> None:
    token = divers_token(secret, id_boutique, ref, amount, payment)
    assert check_divers(token, secret, id_boutique, ref, amount, payment)
    assert check_divers(other, secret, id_boutique, ref, amount, payment) == (other == token)
    assert not check_divers(token, secret + "x", id_boutique, ref, amount, payment)
    assert not check_divers(token, secret, id_boutique, ref + "x", amount, payment)


@FUZZ
@given(secret=secrets_, shop=texts, ref=texts, token=texts, days=st.integers(min_value=-3, max_value=3))
def test_pay_link_proofs_are_valid_only_as_signed(
    secret: str, shop: str, ref: str, token: str, days: int
) -> None:
    expires = NOW + timedelta(days=days, seconds=1)
    signed = sign_pay_token(secret, shop, ref, expires)
    assert check_pay_token(secret, shop, ref, signed, NOW) is (
        TokenCheck.VALID if days >= 0 else TokenCheck.EXPIRED
    )
    assert check_pay_token(secret, shop, ref + "x", signed, NOW) is TokenCheck.INVALID
    # Anything else is refused without an error, whatever it holds.
    if token != signed:
        assert check_pay_token(secret, shop, ref, token, NOW) is TokenCheck.INVALID


SIGNED = [
    (woocommerce.is_signed_by, woocommerce.signature, woocommerce.SIGNATURE_HEADER),
    (shopware.is_signed_by, shopware.signature, shopware.SHOP_SIGNATURE),
]


@FUZZ
@given(
    body=st.binary(max_size=200),
    secret=st.text(max_size=40),
    given_signature=texts,
    which=st.sampled_from(SIGNED),
)
def test_webhook_signatures_say_yes_to_the_signed_body_only(
    body: bytes, secret: str, given_signature: str, which: tuple[object, object, str]
) -> None:
    is_signed_by, signature, header = which
    assert callable(is_signed_by) and callable(signature)

    def request(value: str, raw: bytes = body) -> WebhookRequest:
        return WebhookRequest("POST", {header.lower(): value}, raw)

    good = str(signature(body, secret))
    assert is_signed_by(request(good), secret) is bool(secret)
    assert is_signed_by(request(good), secret + "x") is False
    assert is_signed_by(request(good, body + b"\x00"), secret) is False
    matches = given_signature.strip() in (good, good.upper()) and bool(secret)
    assert is_signed_by(request(given_signature), secret) in ((True, False) if matches else (False,))


cells = st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=12)
# Cells that are sometimes valid: a catalog of only random text would never get past the header.
values = {
    "sku": st.one_of(cells, st.from_regex(r"[A-Za-z0-9._-]{1,12}", fullmatch=True)),
    "name": cells,
    "description": cells,
    "price": st.one_of(cells, st.decimals(min_value=0, max_value=10**6, places=2).map(str)),
    "vat_rate": st.one_of(cells, st.sampled_from(["0", "5.5", "20", "20 %"])),
    "image": cells,
    "stock": st.one_of(cells, st.integers(min_value=-2, max_value=10**6).map(str)),
    "active": st.one_of(cells, st.sampled_from(["yes", "no", "1", "0", ""])),
}


@st.composite
def catalogs(draw: st.DrawFn) -> list[str]:
    header = draw(st.lists(st.sampled_from(COLUMNS), min_size=1, max_size=9))
    delimiter = draw(st.sampled_from([",", ";"]))
    rows = draw(st.lists(st.tuples(*(values[name] for name in header)), max_size=8))
    junk = draw(st.lists(cells, max_size=2))
    text = [delimiter.join(header) + "\n"]
    for row in rows:
        text.append(delimiter.join('"' + cell.replace('"', '""') + '"' for cell in row) + "\n")
    # Split as the callers (``bluepaid catalog import``, the demo) split a file's text.
    return "".join(text + [line + "\n" for line in junk]).splitlines(keepends=True)


@FUZZ
@given(
    lines=st.one_of(catalogs(), st.text(max_size=200).map(lambda text: text.splitlines(keepends=True))),
    currency=st.sampled_from(["EUR", "XPF"]),
)
def test_the_catalog_import_reads_rows_or_names_every_problem(lines: list[str], currency: str) -> None:
    try:
        rows = parse_catalog(lines, currency)
    except ValidationError as exc:
        assert exc.problems and all(problem.field.startswith("line ") for problem in exc.problems)
        return
    skus = [row.sku for row in rows]
    assert len(skus) == len(set(skus))
    for row in rows:
        assert row.price.currency == currency and row.price.minor >= 0
        assert row.stock is None or row.stock >= 0
        assert Decimal(0) <= row.vat_rate
        assert hashlib.sha256(row.sku.encode()).digest()  # a str the database can store
