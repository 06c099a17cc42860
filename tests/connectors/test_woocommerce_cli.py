"""The merchant guide's commands, as a merchant types them, against the test shop."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from hub.cli import main
from hub.testing.shop_double import ShopDouble
from tests.connectors.woocommerce_shop import BASE_URL, CONSUMER_KEY, CONSUMER_SECRET, WEBHOOK_SECRET, WooShop

ADD = [
    "shop",
    "add",
    "myshop",
    "--id-boutique",
    "21573www",
    "--connector",
    "woocommerce",
    "--setting",
    f"base_url={BASE_URL}",
    "--setting",
    f"consumer_key={CONSUMER_KEY}",
    "--setting",
    f"webhook_secret={WEBHOOK_SECRET}",
]
SECRETS = (CONSUMER_KEY, CONSUMER_SECRET, WEBHOOK_SECRET)


@pytest.fixture
def bluepaid(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Iterator[object]:
    for name in [name for name in os.environ if name.startswith("BLUEPAID_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("BLUEPAID_DATABASE_URL", f"sqlite:///{tmp_path / 'hub.sqlite3'}")
    monkeypatch.setenv("BLUEPAID_SECRET_KEY", "s" * 32)
    monkeypatch.setenv("BLUEPAID_PUBLIC_URL", "https://hub.example")
    monkeypatch.setenv("BLUEPAID_SETTINGS_KEYS", Fernet.generate_key().decode())
    api = ShopDouble(BASE_URL)
    WooShop(api)

    def run(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        code = main(list(args))
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    with api.running():
        assert run("db", "upgrade")[0] == 0
        yield run


def test_shop_add_checks_the_keys_and_prints_the_urls_to_register(bluepaid: object) -> None:
    code, out, err = bluepaid(*ADD, "--setting", f"consumer_secret={CONSUMER_SECRET}")  # type: ignore[operator]

    assert code == 0, err
    code, out, err = bluepaid("shop", "check", "myshop")  # type: ignore[operator]
    assert code == 0, err
    assert "WooCommerce 8.9.1 at https://shop.example: API key accepted for reading and writing orders" in out
    code, out, _ = bluepaid("shop", "show", "myshop", "--json")  # type: ignore[operator]
    shown = json.loads(out)
    assert shown["pay_url_template"] == "https://hub.example/pay/myshop/{order_ref}?key={key}"
    assert shown["webhook_url"].startswith("https://hub.example/webhooks/myshop/")
    assert not any(secret in out for secret in SECRETS)


def test_shop_add_with_a_wrong_secret_says_what_to_check_in_one_line(bluepaid: object) -> None:
    code, out, err = bluepaid(*ADD, "--setting", "consumer_secret=cs_not_the_secret")  # type: ignore[operator]

    assert code == 1
    [line] = err.strip().splitlines()
    assert line.startswith("error: ") and "Consumer key is invalid." in line
    assert "Check the consumer key and secret" in line
    assert not any(secret in out + err for secret in (*SECRETS, "cs_not_the_secret"))
    assert json.loads(bluepaid("shop", "list", "--json")[1]) == []  # type: ignore[operator]
