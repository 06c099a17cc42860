"""``bluepaid sandbox``: the test card list, and the background loop behind ``bluepaid sandbox`` serve."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from datetime import timedelta

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient

from sandbox import cli
from sandbox.cards import TEST_CARDS, Scenario
from sandbox.cli import background_loop, sandbox
from sandbox.models import Account
from sandbox.platform import Platform
from sandbox.subscriptions import run_due
from tests.conftest import FrozenClock
from tests.sandbox.conftest import ShopServer, card, open_payment, pay


def test_cards_json_lists_every_test_card_with_its_scenario() -> None:
    result = CliRunner().invoke(sandbox, ["cards", "--json"])

    assert result.exit_code == 0, (result.output, result.exception)
    assert json.loads(result.output) == [
        {
            "number": test_card.number,
            "type": test_card.type.value,
            "scenario": test_card.scenario.value,
            "description": test_card.description,
        }
        for test_card in TEST_CARDS
    ]


def test_cards_without_json_is_the_table_for_people() -> None:
    result = CliRunner().invoke(sandbox, ["cards"])

    assert result.exit_code == 0, (result.output, result.exception)
    assert all(test_card.number in result.output for test_card in TEST_CARDS)
    with pytest.raises(json.JSONDecodeError):
        json.loads(result.output)


def test_the_background_loop_survives_a_failed_round_and_keeps_delivering(
    client: FlaskClient,
    platform: Platform,
    account: Account,
    shop: ShopServer,
    base_clock: FrozenClock,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    assert pay(client, open_payment(client), card(Scenario.CONFIRM_LATE)).status_code == 303
    base_clock.advance(timedelta(seconds=platform.config.late_delay))
    debit_rounds: list[int] = []

    def debits_that_break_once(platform: Platform) -> int:
        # Stands for any fault in one round: a database hiccup, a bug in a debit.
        debit_rounds.append(1)
        if len(debit_rounds) == 1:
            raise RuntimeError("database hiccup")
        return run_due(platform)

    monkeypatch.setattr(cli, "run_due", debits_that_break_once)
    stop = threading.Event()
    loop = threading.Thread(target=background_loop, args=(platform, stop, 0.01), daemon=True)

    with caplog.at_level(logging.ERROR, logger=cli.__name__):
        loop.start()
        try:
            assert shop.wait_for(1), "the late confirmation was never sent"
            assert _wait_until(lambda: len(debit_rounds) >= 3), "the loop stopped after the fault"
        finally:
            stop.set()
            loop.join(timeout=5)

    assert not loop.is_alive()
    assert shop.posts()[0]["etat"] == "ok"
    [logged] = [record for record in caplog.records if record.exc_info]
    assert logged.exc_info is not None and isinstance(logged.exc_info[1], RuntimeError)


def _wait_until(condition: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True
