"""``bluepaid sandbox``: the test card list, its settings, and serving it: the background loop,
a busy port, the access log, stopping."""

from __future__ import annotations

import json
import logging
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner
from flask.testing import FlaskClient

from bluepaid_plugins.errors import ConfigurationError
from hub.cli import main
from sandbox import cli
from sandbox.cards import TEST_CARDS, Scenario
from sandbox.cli import background_loop, sandbox
from sandbox.config import SandboxConfig
from sandbox.models import Account
from sandbox.platform import Platform
from sandbox.subscriptions import run_due
from tests.conftest import FrozenClock
from tests.sandbox.backoffice_fixtures import free_port
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


# settings and serving


@pytest.mark.parametrize(
    ("value", "trusted"), [("1", True), ("on", True), ("yes", True), ("off", False), ("", False)]
)
def test_trust_proxy_reads_the_usual_yes_and_no_words(value: str, trusted: bool) -> None:
    assert SandboxConfig.from_env({"BLUEPAID_SANDBOX_TRUST_PROXY": value}).trust_proxy is trusted


def test_trust_proxy_with_another_word_names_the_variable() -> None:
    with pytest.raises(ConfigurationError, match="BLUEPAID_SANDBOX_TRUST_PROXY must be 1 or 0, not 'maybe'"):
        SandboxConfig.from_env({"BLUEPAID_SANDBOX_TRUST_PROXY": "maybe"})


def test_serving_on_a_busy_port_is_one_line_naming_the_option_and_prints_nothing_else(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("BLUEPAID_SANDBOX_DATABASE_URL", f"sqlite:///{tmp_path / 'sandbox.sqlite3'}")
    port = free_port()

    with socket.socket() as other:
        other.bind(("127.0.0.1", port))
        other.listen()
        code = main(["sandbox", "--port", str(port)])

    out, err = capsys.readouterr()
    assert code == 1
    assert out == ""
    (line,) = err.splitlines()
    assert line.startswith(f"error: port {port} is already in use on 127.0.0.1")
    assert "run again with --port " in line


@pytest.mark.slow
def test_the_served_sandbox_logs_requests_masked_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    port = free_port()
    env = {
        **os.environ,
        "BLUEPAID_SANDBOX_DATABASE_URL": f"sqlite:///{tmp_path / 'sandbox.sqlite3'}",
        "BLUEPAID_SANDBOX_PUBLIC_URL": f"http://127.0.0.1:{port}",
    }
    out, err = tmp_path / "out.log", tmp_path / "err.log"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "hub.cli", "sandbox", "--port", str(port)],
            env=env,
            stdout=stdout,
            stderr=stderr,
        )
    token = "confirmation-token-0123456789"
    try:

        def answers() -> bool:
            assert process.poll() is None, err.read_text()
            try:
                requests.get(f"http://127.0.0.1:{port}/console/", timeout=5)
            except requests.ConnectionError:
                return False
            return True

        assert _wait_until(answers, timeout=60)
        console = requests.get(f"http://127.0.0.1:{port}/console/", timeout=10)
        requests.get(
            f"http://127.0.0.1:{port}/in.php",
            params={"url_retour_bo": f"http://shop.test/confirm/demo/{token}"},
            timeout=10,
        )
        process.send_signal(signal.SIGTERM)
        status = process.wait(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()

    assert console.status_code == 200
    assert status == 0
    assert "stopping: finishing the requests" in err.read_text()
    log = out.read_text()
    assert '"GET /console/ HTTP/1.1" 200' in log
    assert re.search(r'"GET /in\.php\?url_retour_bo=\S+ HTTP/1\.1" 400 \d+ ', log), log
    assert token not in log
