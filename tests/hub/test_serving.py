"""``bluepaid serve`` on a production server (gunicorn, waitress), in a process of its own:
confirmations posted while the hub is under load are all answered, its access log
keeps the secrets out, a busy port is one line, SIGTERM stops it cleanly, and
``--with-worker`` delivers the outbox."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
import requests
from sqlalchemy import select

from bluepaid_plugins.money import Money
from hub import migrate
from hub.config import HubConfig
from hub.context import Hub, build_hub
from hub.models import OutboxTask, Payment, Shop
from hub.orders import create_link_order
from hub.serving import SERVERS
from hub.shops import add_shop
from hub.testing.stack import free_port
from tests.hub.shop_stub import REPO_ROOT, wait_until

pytestmark = pytest.mark.slow

#: The ``bluepaid`` command, from the code of this checkout.
BLUEPAID = [sys.executable, "-m", "hub.cli"]
#: Confirmations posted at once, and the buyers opening pay links meanwhile.
CONFIRMATIONS = 60
BUYERS = 8


@dataclass
class Served:
    """A ``bluepaid serve`` process, what it prints, and the hub's database seen from here."""

    process: subprocess.Popen[bytes]
    url: str
    out: Path
    err: Path
    hub: Hub
    shop: Shop

    def stop(self) -> int:
        """SIGTERM, as a supervisor stops it; the exit status."""
        self.process.terminate()
        return self.process.wait(timeout=60)

    def log(self) -> str:
        return self.out.read_text(errors="replace") + self.err.read_text(errors="replace")


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[Hub]:
    config = HubConfig(
        database_url=f"sqlite:///{tmp_path / 'hub.sqlite3'}",
        secret_key="serve-secret-key-" + "k" * 16,
        public_url="http://hub.test",
        platform_url="http://platform.test",
    )
    built = build_hub(config)
    migrate.upgrade(built.db)
    yield built
    built.db.dispose()


def environment(config: HubConfig) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BLUEPAID_")}
    return {
        **env,
        "BLUEPAID_DATABASE_URL": config.database_url,
        "BLUEPAID_SECRET_KEY": config.secret_key,
        "BLUEPAID_PUBLIC_URL": config.public_url,
        "BLUEPAID_PLATFORM_URL": config.platform_url,
    }


@contextmanager
def serving(hub: Hub, tmp_path: Path, *args: str) -> Iterator[Served]:
    """``bluepaid serve ARGS`` on a free port until the block ends (SIGTERM, then KILL)."""
    shop = add_shop(hub, slug="demo", id_boutique="21573www", allowed_ips=["127.0.0.1"])
    port = free_port()
    out, err = tmp_path / "serve.out", tmp_path / "serve.err"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        process = subprocess.Popen(
            [*BLUEPAID, "serve", "--port", str(port), *args],
            cwd=REPO_ROOT,
            env=environment(hub.config),
            stdout=stdout,
            stderr=stderr,
        )
    served = Served(process, f"http://127.0.0.1:{port}", out, err, hub, shop)
    try:

        def answers() -> bool:
            assert process.poll() is None, f"bluepaid serve exited:\n{served.log()}"
            try:
                requests.get(f"{served.url}/return/none/none/ok", timeout=5)
            except requests.ConnectionError:
                return False
            return True

        wait_until(answers, "bluepaid serve to answer", timeout=60, interval=0.1)
        yield served
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=30)


def pay_links(served: Served, count: int) -> list[str]:
    """``count`` payment links of the served hub's shop, as a buyer opens them."""
    links = []
    for _ in range(count):
        order = create_link_order(
            served.hub.db, served.shop, Money.parse("12.50", "EUR"), now=served.hub.clock()
        )
        links.append(
            served.hub.pay_url(served.shop, order.ref).replace(served.hub.config.public_url, served.url)
        )
    return links


def confirmation_of(served: Served, link: str) -> dict[str, str]:
    """Start the payment of ``link`` (the hub redirects to the platform) and build the
    platform's ``etat=ok`` confirmation of it."""
    started = requests.get(link, allow_redirects=False, timeout=30)
    assert started.status_code == 302, started.text
    fields = dict(parse_qsl(urlsplit(started.headers["Location"]).query))
    echoed = ("id_client", "id_boutique", "divers", "montant", "devise")
    return {
        "etat": "ok",
        "mode": "test",
        "id_trans": f"BP{fields['id_client']}",
        **{k: fields[k] for k in echoed},
    }


def under_load(served: Served, work: Callable[[], list[int]]) -> list[int]:
    """Run ``work`` while buyers keep opening pay links, until it is done."""
    done = threading.Event()
    links = pay_links(served, BUYERS)

    def buyer(link: str) -> int:
        opened = 0
        while not done.is_set():
            requests.get(link.replace("?key=", "?key=x"), allow_redirects=False, timeout=30)
            opened += 1
        return opened

    with ThreadPoolExecutor(BUYERS) as pool:
        buyers = [pool.submit(buyer, link) for link in links]
        try:
            return work()
        finally:
            done.set()
            assert all(b.result() > 0 for b in buyers), "the buyers never reached the hub"


@pytest.mark.parametrize("server", SERVERS)
def test_confirmations_posted_under_load_are_all_answered_and_logged_without_tokens(
    hub: Hub, tmp_path: Path, server: str
) -> None:
    with serving(hub, tmp_path, "--server", server, "--workers", "2") as served:
        links = pay_links(served, CONFIRMATIONS)
        confirmations = [confirmation_of(served, link) for link in links]
        confirm = f"{served.url}/confirm/demo/{served.shop.confirm_token}"

        def post_all() -> list[int]:
            # All at once: each thread posts one, over a connection of its own, as the platform does.
            with ThreadPoolExecutor(CONFIRMATIONS) as pool:
                answers = pool.map(lambda body: requests.post(confirm, data=body, timeout=60), confirmations)
                return [answer.status_code for answer in answers]

        statuses = under_load(served, post_all)
        assert served.stop() == 0
        log = served.log()

    assert statuses == [200] * CONFIRMATIONS
    with hub.db.transaction() as session:
        states = session.scalars(select(Payment.state).where(Payment.shop_id == served.shop.id)).all()
    assert sorted(states) == ["paid"] * CONFIRMATIONS
    # Every request is in the access log, its secrets masked.
    assert log.count('POST /confirm/demo/*** HTTP/1.1" 200') == CONFIRMATIONS
    assert "GET /pay/demo/" in log and "?key=*** " in log
    assert served.shop.confirm_token not in log
    assert [link for link in links if urlsplit(link).query.removeprefix("key=") in log] == []


@pytest.mark.parametrize("server", SERVERS)
def test_serve_with_worker_delivers_the_outbox_and_stops_with_it(
    hub: Hub, tmp_path: Path, server: str
) -> None:
    with serving(hub, tmp_path, "--server", server, "--with-worker") as served:
        (link,) = pay_links(served, 1)
        confirmed = requests.post(
            f"{served.url}/confirm/demo/{served.shop.confirm_token}",
            data=confirmation_of(served, link),
            timeout=30,
        )

        def delivered() -> bool:
            with hub.db.transaction() as session:
                return session.scalars(select(OutboxTask.state)).all() == ["done"]

        wait_until(delivered, "the worker beside the server to deliver the task", timeout=30, interval=0.1)
        worker_pid = int(served.log().split("outbox worker running (process ")[1].split(")")[0])
        assert served.stop() == 0

    assert confirmed.status_code == 200
    with pytest.raises(ProcessLookupError):
        os.kill(worker_pid, 0)


def test_serve_on_a_busy_port_is_one_line_naming_the_option(hub: Hub, tmp_path: Path) -> None:
    with serving(hub, tmp_path) as served:
        port = urlsplit(served.url).port
        again = subprocess.run(
            [*BLUEPAID, "serve", "--port", str(port)],
            cwd=REPO_ROOT,
            env=environment(hub.config),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert served.stop() == 0

    assert again.returncode == 1
    assert again.stdout == ""
    (line,) = again.stderr.splitlines()
    assert line.startswith(f"error: port {port} is already in use on 127.0.0.1")
    assert "run again with --port " in line


def test_serve_on_a_schema_behind_is_one_line_and_starts_no_server(tmp_path: Path) -> None:
    config = HubConfig(database_url=f"sqlite:///{tmp_path / 'empty.sqlite3'}", secret_key="k" * 32)
    port = free_port()

    result = subprocess.run(
        [*BLUEPAID, "serve", "--port", str(port)],
        cwd=REPO_ROOT,
        env=environment(config),
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "error: the database schema is not up to date: run `bluepaid db upgrade`"
    ]


def test_the_served_app_is_out_of_the_garbage_collectors_sight(hub: Hub) -> None:
    """A full collection in a serving process walks what requests made, not the app
    and what came with it (seen: 80 ms a collection, while a worker held SQLite's
    write lock)."""
    probe = (
        "import gc, hub.wsgi as served; tracked = gc.get_objects();"
        "print(gc.get_freeze_count(), any(o is served.app for o in tracked))"
    )

    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=REPO_ROOT,
        env=environment(hub.config),
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    frozen, app_tracked = result.stdout.split()
    assert app_tracked == "False"
    assert int(frozen) > 10_000


def accepted(server_port: int, client: socket.socket) -> bool:
    """Whether the server took ``client``'s connection from its listen queue (Linux: the
    server's end of it has an inode in /proc/net/tcp once a process accepted it)."""
    client_port = client.getsockname()[1]
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            local, remote, inode = (
                int(fields[1].rsplit(":", 1)[1], 16),
                int(fields[2].rsplit(":", 1)[1], 16),
                fields[9],
            )
            if (local, remote) == (server_port, client_port):
                return inode != "0"
    return False


#: What each server prints once it was told to stop.
STOPPING = {"gunicorn": "Handling signal: term", "waitress": "stopping: finishing the requests"}


@pytest.mark.parametrize("server", SERVERS)
def test_a_confirmation_under_way_when_the_hub_is_stopped_is_still_answered(
    hub: Hub, tmp_path: Path, server: str
) -> None:
    with serving(hub, tmp_path, "--server", server) as served:
        (link,) = pay_links(served, 1)
        body = urlencode(confirmation_of(served, link)).encode()
        port = int(urlsplit(served.url).port or 0)
        head = (
            f"POST /confirm/demo/{served.shop.confirm_token} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        ).encode()
        with socket.create_connection(("127.0.0.1", port), timeout=60) as platform:
            # The platform is slow to send its body: half of it, then the supervisor stops the hub.
            platform.sendall(head + body[:10])
            wait_until(lambda: accepted(port, platform), "the server to accept the connection")
            served.process.terminate()
            wait_until(lambda: STOPPING[server] in served.log(), "the server to begin stopping")
            platform.sendall(body[10:])
            answer = b""
            while chunk := platform.recv(65536):
                answer += chunk
        status = served.process.wait(timeout=60)

    assert answer.startswith(b"HTTP/1.1 200 ")
    assert status == 0
    with hub.db.transaction() as session:
        assert session.scalars(select(Payment.state)).all() == ["paid"]
