"""Pay links: the hub-signed proof that a buyer holds an order, and the URLs that carry it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bluepaid_plugins.paylink import TokenCheck, check_pay_token, pay_url, pay_url_template, sign_pay_token

SECRET = "shop-secret-of-demo"
NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def check(
    token: str, *, secret: str = SECRET, shop: str = "demo", ref: str = "A1", now: datetime = NOW
) -> TokenCheck:
    return check_pay_token(secret, shop, ref, token, now)


def flipped(text: str, at: int = -1) -> str:
    """``text`` with one character changed."""
    index = at % len(text)
    return text[:index] + ("A" if text[index] != "A" else "B") + text[index + 1 :]


# Signing and checking


def test_a_signed_token_is_valid() -> None:
    assert check(sign_pay_token(SECRET, "demo", "A1")) is TokenCheck.VALID


def test_a_token_without_expiry_stays_valid() -> None:
    token = sign_pay_token(SECRET, "demo", "A1")

    assert "." not in token
    assert check(token, now=NOW + timedelta(days=3650)) is TokenCheck.VALID


def test_a_tampered_token_is_invalid() -> None:
    token = sign_pay_token(SECRET, "demo", "A1")

    assert check(flipped(token)) is TokenCheck.INVALID
    assert check(flipped(token, 0)) is TokenCheck.INVALID


@pytest.mark.parametrize(
    ("other", "value"), [("shop", "other-shop"), ("ref", "A2"), ("secret", "another-secret")]
)
def test_a_token_for_another_shop_order_or_secret_is_invalid(other: str, value: str) -> None:
    token = sign_pay_token(SECRET, "demo", "A1")

    assert check(token, **{other: value}) is TokenCheck.INVALID  # type: ignore[arg-type]


def test_a_token_signed_for_a_longer_ref_is_not_valid_for_its_prefix() -> None:
    token = sign_pay_token(SECRET, "demo", "A12")

    assert check(token, ref="A1") is TokenCheck.INVALID


def test_a_token_is_valid_until_its_expiry() -> None:
    token = sign_pay_token(SECRET, "demo", "A1", expires=NOW + timedelta(days=1))

    assert check(token, now=NOW + timedelta(hours=23)) is TokenCheck.VALID


def test_a_token_past_its_expiry_is_expired() -> None:
    token = sign_pay_token(SECRET, "demo", "A1", expires=NOW + timedelta(days=1))

    assert check(token, now=NOW + timedelta(days=1)) is TokenCheck.EXPIRED
    assert check(token, now=NOW + timedelta(days=30)) is TokenCheck.EXPIRED


def test_an_expired_token_with_a_wrong_signature_is_only_invalid() -> None:
    token = sign_pay_token(SECRET, "demo", "A1", expires=NOW - timedelta(days=1))

    assert check(flipped(token)) is TokenCheck.INVALID
    assert check(token, secret="another-secret") is TokenCheck.INVALID


def test_moving_the_expiry_of_a_token_makes_it_invalid() -> None:
    token = sign_pay_token(SECRET, "demo", "A1", expires=NOW - timedelta(days=1))
    stamp, _, signature = token.partition(".")

    later = f"{int(stamp) + 86400 * 30}.{signature}"

    assert check(later) is TokenCheck.INVALID


def test_an_expiring_token_without_its_stamp_is_invalid() -> None:
    token = sign_pay_token(SECRET, "demo", "A1", expires=NOW + timedelta(days=1))

    assert check(token.partition(".")[2]) is TokenCheck.INVALID


@pytest.mark.parametrize(
    "token",
    ["", ".", "garbage", "12x.abc", "1" * 13 + ".abc", "١٢٣.abc", "é", "\x00", "a.b.c", " " * 40],
)
def test_a_malformed_token_is_invalid(token: str) -> None:
    assert check(token) is TokenCheck.INVALID


# URLs


def test_pay_url_carries_the_proof_as_key() -> None:
    url = pay_url("https://hub.example", "demo", "A1", "abc_-123")

    assert url == "https://hub.example/pay/demo/A1?key=abc_-123"


def test_pay_url_quotes_the_shop_the_ref_and_the_proof() -> None:
    url = pay_url("https://hub.example/", "demo", "A/1 ?&#é", "1700000000.a+b/c=")

    assert url == "https://hub.example/pay/demo/A%2F1%20%3F%26%23%C3%A9?key=1700000000.a%2Bb%2Fc%3D"


def test_pay_url_without_a_proof_has_no_query() -> None:
    assert pay_url("https://hub.example", "demo", "A1", "") == "https://hub.example/pay/demo/A1"


def test_pay_url_template_leaves_the_ref_and_the_key_to_the_shop() -> None:
    template = pay_url_template("https://hub.example/", "my shop")

    assert template == "https://hub.example/pay/my%20shop/{order_ref}?key={key}"
    assert template.format(order_ref="A1", key="k") == "https://hub.example/pay/my%20shop/A1?key=k"
