"""``bluepaid demo`` as a newcomer runs it: again, on other ports, with a port taken,
pasting what it prints; served for real where the behaviour needs it."""

from __future__ import annotations

import os
import re
import shlex
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest
from sqlalchemy import select

from bluepaid_plugins.db import Database
from hub.demo import DEMO_FILES, ID_BOUTIQUE
from hub.models import LinkOrder
from hub.testing.stack import Stack, free_port, pay_with_card
from sandbox.accounts import get_account
from sandbox.cards import TEST_CARDS
from sandbox.config import SandboxConfig
from sandbox.platform import Platform
from tests.hub import test_cli
from tests.hub.shop_stub import wait_until
from tests.hub.test_cli import Run, assert_one_line_error

env = test_cli.env
bluepaid = test_cli.bluepaid

#: The ``bluepaid`` script of this virtualenv, as a newcomer runs it (``.venv/bin/bluepaid``).
SCRIPT = Path(sys.executable).parent / "bluepaid"


def links_of(out: str) -> list[str]:
    return [word for word in out.split() if "/pay/demo/" in word]


def link_lines(out: str) -> list[str]:
    return [line for line in out.splitlines() if "/pay/demo/" in line]


def account(folder: Path) -> Any:
    platform = Platform(SandboxConfig(database_url=f"sqlite:///{folder / 'sandbox.sqlite3'}"))
    try:
        return get_account(platform, ID_BOUTIQUE)
    finally:
        platform.dispose()


def link_states(folder: Path) -> list[str]:
    db = Database(f"sqlite:///{folder / 'hub.sqlite3'}")
    try:
        with db.transaction() as session:
            return list(session.scalars(select(LinkOrder.status).order_by(LinkOrder.id)))
    finally:
        db.dispose()


@contextmanager
def listening(port: int) -> Iterator[None]:
    """Something else listening on 127.0.0.1:``port`` for the block."""
    with socket.socket() as other:
        other.bind(("127.0.0.1", port))
        other.listen()
        yield


@pytest.mark.parametrize(("busy", "option"), [("hub", "--port"), ("sandbox", "--sandbox-port")])
def test_a_busy_port_is_one_line_naming_the_option_before_anything_is_printed(
    bluepaid: Any, tmp_path: Path, busy: str, option: str
) -> None:
    hub_port, sandbox_port = free_port(), free_port()
    taken = hub_port if busy == "hub" else sandbox_port

    with listening(taken):
        result = bluepaid(
            "demo",
            "--dir",
            str(tmp_path / "demo"),
            "--port",
            str(hub_port),
            "--sandbox-port",
            str(sandbox_port),
        )

    assert_one_line_error(result, f"port {taken} is already in use", f"run again with {option} ")
    suggested = int(result.err.split(f"{option} ")[1].split()[0])
    assert suggested not in (hub_port, sandbox_port)
    assert result.out == ""
    assert not (tmp_path / "demo").exists()


def test_a_run_on_other_ports_points_the_shop_and_the_sandbox_account_at_them(
    bluepaid: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "demo"
    assert bluepaid("demo", "--no-serve", "--dir", str(folder)).code == 0

    moved = bluepaid("demo", "--no-serve", "--dir", str(folder), "--port", "5002", "--sandbox-port", "5003")

    assert moved.code == 0
    assert all(link.startswith("http://127.0.0.1:5002/pay/demo/") for link in links_of(moved.out))
    assert "this run's ports:" in moved.err
    monkeypatch.setenv("BLUEPAID_DATABASE_URL", f"sqlite:///{folder / 'hub.sqlite3'}")
    shop: Run = bluepaid("shop", "show", "demo", "--json")
    assert shop.json()["platform_url"] == "http://127.0.0.1:5003"
    token = shop.json()["confirmation_url"].rsplit("/", 1)[1]
    registered = account(folder)
    assert registered.referrer_url == "http://127.0.0.1:5002"
    assert registered.url_confirmation == f"http://127.0.0.1:5002/confirm/demo/{token}"


def test_fresh_starts_afresh_and_keeps_what_else_the_folder_holds(bluepaid: Any, tmp_path: Path) -> None:
    folder = tmp_path / "demo"
    first = bluepaid("demo", "--no-serve", "--dir", str(folder))
    (folder / "notes.txt").write_text("mine")

    fresh = bluepaid("demo", "--no-serve", "--fresh", "--dir", str(folder))

    assert fresh.code == 0
    assert "starting afresh" in fresh.err
    assert set(links_of(fresh.out)).isdisjoint(links_of(first.out))
    assert (folder / "notes.txt").read_text() == "mine"
    assert "notes.txt" not in DEMO_FILES


def test_each_link_is_listed_with_its_state_and_the_way_to_start_afresh(
    bluepaid: Any, tmp_path: Path
) -> None:
    result = bluepaid("demo", "--no-serve", "--dir", str(tmp_path / "demo"))

    assert [line.split()[-2] for line in link_lines(result.out)] == ["open", "open", "open"]
    (afresh,) = [line for line in result.out.splitlines() if line.strip().startswith("start afresh")]
    assert " demo --fresh --dir " in afresh


@dataclass
class Served:
    """A ``bluepaid demo`` process and where it prints."""

    process: subprocess.Popen[bytes]
    out: Path
    err: Path

    def printed(self) -> str:
        return self.out.read_text(errors="replace")

    def messages(self) -> str:
        return self.err.read_text(errors="replace")


@contextmanager
def demo_process(
    command: list[str], cwd: Path, environ: dict[str, str], ports: tuple[int, int]
) -> Iterator[Served]:
    """Run ``command`` (a served demo) until its hub and sandbox ``ports`` answer; SIGTERM it
    when the block ends."""
    out, err = cwd / "demo.out", cwd / "demo.err"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        process = subprocess.Popen(command, cwd=cwd, env=environ, stdout=stdout, stderr=stderr)
    served = Served(process, out, err)
    try:

        def running() -> bool:
            assert process.poll() is None, f"the demo exited:\n{served.messages()}"
            return all(answers(port) for port in ports)

        wait_until(running, "the demo to run", timeout=90, interval=0.1)
        yield served
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def answers(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def newcomer_environment() -> dict[str, str]:
    """A shell's environment without the virtualenv activated, and no BLUEPAID_ settings."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("BLUEPAID_") and k != "VIRTUAL_ENV"}
    environ["PATH"] = "/usr/bin:/bin"
    return environ


@pytest.mark.slow
def test_a_demo_moved_to_other_ports_gets_its_payments_confirmed(bluepaid: Any, tmp_path: Path) -> None:
    folder = tmp_path / "demo"
    assert bluepaid("demo", "--no-serve", "--dir", str(folder)).code == 0
    hub_port, sandbox_port = free_port(), free_port()
    command = [
        str(SCRIPT),
        "demo",
        "--dir",
        str(folder),
        "--port",
        str(hub_port),
        "--sandbox-port",
        str(sandbox_port),
    ]

    with demo_process(command, tmp_path, newcomer_environment(), (hub_port, sandbox_port)) as served:
        link = links_of(served.printed())[0]
        stack = SimpleNamespace(
            hub_url=f"http://127.0.0.1:{hub_port}", sandbox_url=f"http://127.0.0.1:{sandbox_port}"
        )
        paid = pay_with_card(cast(Stack, stack), link, TEST_CARDS[0])
        assert paid.status_code == 200
        wait_until(lambda: link_states(folder)[0] == "paid", "the worker to mark the order paid", timeout=30)
        served.process.send_signal(signal.SIGTERM)
        assert served.process.wait(timeout=60) == 0

    again = bluepaid("demo", "--no-serve", "--dir", str(folder), "--port", str(hub_port))
    assert [line.split()[-2] for line in link_lines(again.out)] == ["paid", "open", "open"]


@pytest.mark.slow
def test_the_commands_it_prints_work_pasted_in_a_shell_without_the_virtualenv(tmp_path: Path) -> None:
    folder = tmp_path / "demo"
    hub_port, sandbox_port = free_port(), free_port()
    environ = newcomer_environment()
    ports = ["--port", str(hub_port), "--sandbox-port", str(sandbox_port)]
    setup = subprocess.run(
        [str(SCRIPT), "demo", "--no-serve", "--dir", str(folder), *ports],
        cwd=tmp_path,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert setup.returncode == 0, setup.stderr
    payments = re.search(r"payments\s*: (.+)", setup.stdout)
    afresh = re.search(r"start afresh\s*: (.+?)  \(or delete the folder\)", setup.stdout)
    assert payments and afresh, setup.stdout
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()

    listed = subprocess.run(
        ["bash", "-c", payments.group(1)],
        cwd=elsewhere,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
    )
    pasted = ["bash", "-c", f"exec {afresh.group(1)}"]
    with demo_process(pasted, elsewhere, environ, (hub_port, sandbox_port)) as served:
        fresh_links = links_of(served.printed())

    assert (listed.returncode, listed.stdout, listed.stderr) == (0, "no payments\n", "")
    assert shlex.split(afresh.group(1))[1:] == ["demo", "--fresh", "--dir", str(folder), *ports]
    assert "starting afresh" in served.messages()
    assert fresh_links and set(fresh_links).isdisjoint(links_of(setup.stdout))
    assert all(link.startswith(f"http://127.0.0.1:{hub_port}/") for link in fresh_links)
