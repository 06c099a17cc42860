"""Access tokens kept between connector instances: reused while valid, renewed shortly
before they expire, renewed once when the shop refuses one."""

from __future__ import annotations

from datetime import timedelta

import pytest
import requests

from bluepaid_plugins.errors import ShopAuthFailed
from bluepaid_plugins.tokens import RENEW_MARGIN, AccessToken, BearerTokens, MemoryTokenCache
from hub.testing.clock import FrozenClock


class Shop:
    """Hands out numbered tokens of a given lifetime, or refuses the credentials."""

    def __init__(self, lifetime: float = 600) -> None:
        self.lifetime = lifetime
        self.issued = 0
        self.refuse = False

    def obtain(self) -> tuple[str, float]:
        if self.refuse:
            raise ShopAuthFailed("credentials refused", status=401)
        self.issued += 1
        return f"token-{self.issued}", self.lifetime


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture
def cache(clock: FrozenClock) -> MemoryTokenCache:
    return MemoryTokenCache(clock)


def test_a_token_is_reused_by_every_keeper_of_the_same_key(cache: MemoryTokenCache) -> None:
    shop = Shop()
    first = BearerTokens(cache, "shop-a", shop.obtain).current()
    again = BearerTokens(cache, "shop-a", shop.obtain).current()
    assert first == again == "token-1" and shop.issued == 1


def test_another_key_gets_its_own_token(cache: MemoryTokenCache) -> None:
    shop = Shop()
    BearerTokens(cache, "shop-a", shop.obtain).current()
    assert BearerTokens(cache, "shop-b", shop.obtain).current() == "token-2"


def test_a_token_is_renewed_once_less_than_the_margin_is_left(
    cache: MemoryTokenCache, clock: FrozenClock
) -> None:
    shop = Shop(lifetime=600)
    tokens = BearerTokens(cache, "shop-a", shop.obtain)
    tokens.current()
    clock.advance(timedelta(seconds=600) - RENEW_MARGIN - timedelta(seconds=1))
    assert tokens.current() == "token-1"
    clock.advance(timedelta(seconds=1))
    assert tokens.current() == "token-2"


def test_a_refused_token_is_replaced_once(cache: MemoryTokenCache) -> None:
    shop = Shop()
    tokens = BearerTokens(cache, "shop-a", shop.obtain)
    old = tokens.current()
    assert tokens.refused(old) == "token-2"
    assert tokens.current() == "token-2" and shop.issued == 2


def test_a_token_another_keeper_renewed_meanwhile_is_taken_as_is(cache: MemoryTokenCache) -> None:
    shop = Shop()
    one, other = BearerTokens(cache, "k", shop.obtain), BearerTokens(cache, "k", shop.obtain)
    old = one.current()
    renewed = other.refused(old)
    assert one.refused(old) == renewed and shop.issued == 2


def test_refused_credentials_leave_nothing_cached(cache: MemoryTokenCache) -> None:
    shop = Shop()
    shop.refuse = True
    with pytest.raises(ShopAuthFailed):
        BearerTokens(cache, "k", shop.obtain).current()
    assert cache.get("k") is None


def test_a_token_never_shows_in_its_repr(clock: FrozenClock) -> None:
    assert "s3cret" not in repr(AccessToken("s3cret", clock()))


@pytest.mark.parametrize(("status", "calls"), [(401, ["token-1", "token-2"]), (403, ["token-1"])])
def test_a_call_refused_with_a_401_is_made_once_more_with_a_new_token(
    cache: MemoryTokenCache, status: int, calls: list[str]
) -> None:
    shop = Shop()
    tokens = BearerTokens(cache, "shop", shop.obtain)
    sent: list[str] = []

    def send(token: str) -> requests.Response:
        sent.append(token)
        if len(sent) == 1:
            raise ShopAuthFailed("refused", status=status)
        answer = requests.Response()
        answer.status_code = 200
        return answer

    if status == 401:
        assert tokens.call(send).status_code == 200
    else:
        with pytest.raises(ShopAuthFailed):
            tokens.call(send)
    assert sent == calls


def test_a_second_401_goes_to_the_caller(cache: MemoryTokenCache) -> None:
    tokens = BearerTokens(cache, "shop", Shop().obtain)
    sent: list[str] = []

    def send(token: str) -> requests.Response:
        sent.append(token)
        raise ShopAuthFailed("refused", status=401)

    with pytest.raises(ShopAuthFailed):
        tokens.call(send)
    assert sent == ["token-1", "token-2"]
