"""Load, slow-shop, junk-flood and chaos runs of the hub (issue 13); see benchmarks/README.md.

    .venv/bin/python benchmarks/load.py [--payments 5000] [--clients 32]
                                        [--slow-shop] [--junk-flood] [--chaos] [--no-pg-restart]

Each run: a fresh database on a PostgreSQL server of the load's own
(``private_postgres.py``: the chaos run restarts it, which must not break
anything else on the machine), the hub under ``bluepaid serve --server
gunicorn --workers 2``, two ``bluepaid worker`` processes, a fake shop on loopback
(``load_shop.py``), and every payment confirmed twice (half of them with both
copies side by side, so often at once) by ``--clients`` threads that retry a 5xx
or a broken connection, as the platform does. Afterwards the invariants are
checked: every payment paid once in the hub (one "paid" event) and, once the
outbox has drained, exactly one "paid" call per order at the shop. The plain run
always comes first; the options add runs compared with it. Exit status 1 if an
invariant failed, 0 otherwise.
"""

from __future__ import annotations

import argparse
import os
import random
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

import requests
from sqlalchemy import func, insert, select

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:  # run as a script: `benchmarks.` must import
    sys.path.insert(0, str(REPO_ROOT))

from benchmarks import load_shop  # noqa: E402
from benchmarks.private_postgres import PrivatePostgres  # noqa: E402
from bluepaid_plugins.protocol import Confirmation, Etat, Mode, divers_token  # noqa: E402
from hub import migrate  # noqa: E402
from hub.config import HubConfig  # noqa: E402
from hub.context import build_hub  # noqa: E402
from hub.models import OutboxTask, Payment, PaymentEventRow, TaskState  # noqa: E402
from hub.shops import add_shop  # noqa: E402
from hub.urls import confirmation_url  # noqa: E402

BLUEPAID = [sys.executable, "-m", "hub.cli"]
LOAD_DATABASE = "bluepaid_load"


@dataclass
class Options:
    """One run's shape. The defaults are the issue's full-sized run."""

    payments: int = 5000
    clients: int = 32
    shop_delay: float = 0.0  # seconds the shop takes to answer a "paid" call
    junk_clients: int = 0  # threads flooding the confirmation URL with junk
    hub_kills: int = 0  # SIGKILLs of a gunicorn worker during the load
    outbox_kills: int = 0  # SIGKILLs of an outbox worker (restarted by the harness)
    restart_postgres: Callable[[], str] | None = None  # restarts PostgreSQL once during the load
    chaos_gap: float = 2.0  # at most this many seconds between two chaos events
    retry_for: float = 180.0  # a client retries a confirmation this long at most
    drain_timeout: float = 900.0  # the outbox must be drained this long after the load
    lease: float | None = None  # `bluepaid worker --lease`: None keeps the hub's (5 minutes)


@dataclass
class Result:
    """What a run measured, and which invariants failed (empty: all held)."""

    name: str
    confirmations: int = 0
    seconds: float = 0.0
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    retried: int = 0  # confirmations answered 5xx or cut off first, then retried
    unanswered: int = 0  # confirmations never answered 2xx within retry_for
    junk_answered: int = 0
    chaos: list[str] = field(default_factory=list)
    drain_seconds: float = 0.0
    problems: list[str] = field(default_factory=list)

    @property
    def throughput(self) -> float:
        return self.confirmations / self.seconds if self.seconds else 0.0


def say(msg: str) -> None:
    print(f"[load] {msg}", flush=True)


# --------------------------------------------------------------------------------------
# The store, the shop and the processes
# --------------------------------------------------------------------------------------


def prepare(store_url: str, shop_url: str, n: int) -> tuple[str, list[str], dict[str, str]]:
    """Schema, shop ``load`` (connector ``load_shop``) and ``n`` payments on ``store_url``;
    return the confirmation path, one confirmation body per payment, and the hub's env."""
    secret_key = secrets.token_hex(32)
    hub = build_hub(
        HubConfig(database_url=store_url, secret_key=secret_key, load_plugins=frozenset()),
        extra_plugins=[load_shop],
    )
    migrate.upgrade(hub.db)
    shop = add_shop(
        hub,
        slug="load",
        id_boutique="LOAD01",
        connector="load_shop",
        settings={"url": shop_url},
        allowed_ips=["127.0.0.1"],
    )
    path = "/" + confirmation_url(hub, shop).split("/", 3)[3]
    amount = load_shop.ORDER_TOTAL
    now = hub.clock()
    rows, bodies = [], []
    for index in range(n):
        public_id, ref = secrets.token_hex(16), str(index + 1)
        rows.append(
            {
                "public_id": public_id,
                "shop_id": shop.id,
                "order_ref": ref,
                "amount_minor": amount.minor,
                "currency": amount.currency,
                "state": "created",
                "flags": [],
                "id_trans": "",
                "refunded_minor": 0,
                "language": "FR",
                "created_at": now,
                "updated_at": now,
            }
        )
        divers = divers_token(shop.secret, shop.id_boutique, ref, amount, public_id)
        confirmation = Confirmation(
            Etat.OK, Mode.TEST, f"T{index}", ref, shop.id_boutique, amount, divers, "FR"
        )
        bodies.append(urlencode(confirmation.fields()))
    with hub.db.transaction() as session:
        for start in range(0, len(rows), 5000):
            session.execute(insert(Payment), rows[start : start + 5000])
    hub.db.dispose()
    env = {
        "BLUEPAID_DATABASE_URL": store_url,
        "BLUEPAID_SECRET_KEY": secret_key,
        "BLUEPAID_PUBLIC_URL": "http://127.0.0.1",
        # The fake shop listens on 127.0.0.1.
        "BLUEPAID_ALLOW_PRIVATE_ADDRESSES": "1",
    }
    return path, bodies, env


def plugin_site(root: Path) -> Path:
    """A folder that installs ``benchmarks.load_shop`` as the entry point ``load_shop``
    for the processes given it on PYTHONPATH, as a partner's package would be."""
    info = root / "load_shop-1.0.dist-info"
    info.mkdir(parents=True, exist_ok=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: load-shop\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[bluepaid]\nload_shop = benchmarks.load_shop\n")
    return root


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def children(pid: int) -> list[int]:
    """The live child processes of ``pid`` (from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with suppress(OSError):
            stat = (entry / "stat").read_text()
            # The command name may hold spaces: the fields after its ")" are fixed.
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


class Processes:
    """The hub server and the outbox workers, each in its own process group."""

    def __init__(self, env: dict[str, str], logs: Path, lease: float | None) -> None:
        self.worker_args = ["worker", "--idle", "0.2", *(["--lease", str(lease)] if lease else [])]
        self.env = env
        self.logs = logs
        self.port = free_port()
        self.server: subprocess.Popen[bytes] | None = None
        self.workers: list[subprocess.Popen[bytes]] = []
        self._lock = threading.Lock()

    def _spawn(self, args: list[str], log: str) -> subprocess.Popen[bytes]:
        with (self.logs / log).open("ab") as out:
            return subprocess.Popen(
                [*BLUEPAID, *args],
                cwd=REPO_ROOT,
                env=self.env,
                stdout=out,
                stderr=out,
                start_new_session=True,
            )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        args = ["serve", "--server", "gunicorn", "--workers", "2", "--port", str(self.port)]
        self.server = self._spawn(args, "serve.log")
        self.workers = [self._spawn(self.worker_args, f"worker{i}.log") for i in range(2)]
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.server.poll() is not None:
                raise RuntimeError(f"bluepaid serve exited:\n{(self.logs / 'serve.log').read_text()[-3000:]}")
            with suppress(requests.ConnectionError):
                requests.get(f"{self.url}/return/none/none/ok", timeout=5)
                return
            time.sleep(0.1)
        raise RuntimeError("bluepaid serve did not answer within 60 s")

    def kill_hub_worker(self, rng: random.Random) -> str:
        assert self.server is not None
        pids = children(self.server.pid)
        if not pids:
            return "no gunicorn worker to kill"
        pid = rng.choice(pids)
        with suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        return f"SIGKILL gunicorn worker {pid}"

    def kill_outbox_worker(self, rng: random.Random) -> str:
        with self._lock:
            index = rng.randrange(len(self.workers))
            victim = self.workers[index]
            victim.kill()
            victim.wait()
            # The harness is the supervisor a real deployment has (systemd): it restarts it.
            self.workers[index] = self._spawn(self.worker_args, f"worker{index}.log")
        return f"SIGKILL outbox worker {victim.pid}, restarted"

    def stop(self) -> None:
        for proc in [*self.workers, *([self.server] if self.server else [])]:
            with suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in [*self.workers, *([self.server] if self.server else [])]:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                with suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


# --------------------------------------------------------------------------------------
# The run
# --------------------------------------------------------------------------------------


@dataclass
class Answer:
    status: int  # the last status, 0 if the connection broke every time
    attempts: int
    latency: float  # seconds, of the attempt answered 2xx


def confirm_all(url: str, path: str, bodies: list[str], opts: Options, rng: random.Random) -> list[Answer]:
    """POST every body twice from ``opts.clients`` threads; half the payments have their
    two copies side by side (both in flight at once), the others a random time apart."""
    posts: list[str] = []
    for index, body in enumerate(bodies):
        posts.extend([body, body] if index % 2 == 0 else [body])
    later = bodies[1::2]
    for body in later:
        posts.insert(rng.randrange(len(posts) + 1), body)
    local = threading.local()

    def post(body: str) -> Answer:
        if not hasattr(local, "session"):
            local.session = requests.Session()
            local.session.trust_env = False
        deadline = time.monotonic() + opts.retry_for
        attempts, status = 0, 0
        while True:
            attempts += 1
            started = time.monotonic()
            try:
                response = local.session.post(
                    url + path,
                    data=body,
                    headers={"Content-Type": "application/x-www-form-urlencoded"},
                    timeout=60,
                )
                status = response.status_code
                response.close()
            except requests.RequestException:
                status = 0
            if 200 <= status < 300:
                return Answer(status, attempts, time.monotonic() - started)
            if (0 < status < 500) or time.monotonic() > deadline:
                return Answer(status, attempts, 0.0)
            time.sleep(0.2)

    with ThreadPoolExecutor(opts.clients) as pool:
        return list(pool.map(post, posts))


def flood(url: str, path: str, stop: threading.Event, answered: list[int]) -> None:
    """Junk until ``stop``: random tokens, half of them for a shop that does not exist."""
    session = requests.Session()
    session.trust_env = False
    rng = random.Random()
    real_slug = path.split("/")[2]
    while not stop.is_set():
        slug = real_slug if rng.random() < 0.5 else secrets.token_hex(4)
        with suppress(requests.RequestException):
            session.post(
                f"{url}/confirm/{slug}/{secrets.token_hex(16)}", data={"etat": "ok"}, timeout=30
            ).close()
            answered.append(1)


def chaos(procs: Processes, opts: Options, stop: threading.Event, log: list[str], rng: random.Random) -> None:
    """The chaos events in a random order, a random time apart, while the load runs."""
    restart = opts.restart_postgres
    events = ["hub"] * opts.hub_kills + ["outbox"] * opts.outbox_kills + (["pg"] if restart else [])
    rng.shuffle(events)
    for event in events:
        if stop.wait(rng.uniform(0.1, opts.chaos_gap)):
            return
        if event == "hub":
            log.append(procs.kill_hub_worker(rng))
        elif event == "outbox":
            log.append(procs.kill_outbox_worker(rng))
        elif restart is not None:
            log.append(restart())


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


def run(name: str, store_url: str, opts: Options, workdir: Path, seed: int = 0) -> Result:
    """One run on the empty store ``store_url``; see the module docstring."""
    rng = random.Random(seed)
    result = Result(name)
    logs = workdir / name
    logs.mkdir(parents=True)
    with load_shop.FakeShop(opts.shop_delay) as shop:
        path, bodies, hub_env = prepare(store_url, shop.url, opts.payments)
        site = plugin_site(workdir / "site")
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("BLUEPAID_")},
            **hub_env,
            "PYTHONPATH": os.pathsep.join([str(site), str(REPO_ROOT)]),
        }
        procs = Processes(env, logs, opts.lease)
        stop, aborted = threading.Event(), threading.Event()
        threads: list[threading.Thread] = []
        junk: list[int] = []
        try:
            procs.start()
            threads += [
                threading.Thread(target=flood, args=(procs.url, path, stop, junk), daemon=True)
                for _ in range(opts.junk_clients)
            ]
            # Every chaos event happens, even if the load ends first: a run that
            # outpaces them still proves the kills cost nothing.
            chaos_thread = threading.Thread(
                target=chaos, args=(procs, opts, aborted, result.chaos, rng), daemon=True
            )
            threads.append(chaos_thread)
            for thread in threads:
                thread.start()
            started = time.monotonic()
            answers = confirm_all(procs.url, path, bodies, opts, rng)
            result.seconds = time.monotonic() - started
            stop.set()
            chaos_thread.join()
            for thread in threads:
                thread.join(timeout=180)
            result.junk_answered = len(junk)
            # The shop is quick again: what the slow shop held up must now drain.
            shop.delay = 0.0
            result.confirmations = len(answers)
            latencies = [a.latency for a in answers if 200 <= a.status < 300]
            result.p50_ms = 1000 * percentile(latencies, 0.50)
            result.p99_ms = 1000 * percentile(latencies, 0.99)
            result.retried = sum(1 for a in answers if a.attempts > 1)
            result.unanswered = sum(1 for a in answers if not 200 <= a.status < 300)
            if result.unanswered:
                result.problems.append(f"{result.unanswered} confirmations never answered 2xx")
            drain_started = time.monotonic()
            drained = wait_drained(store_url, opts.drain_timeout)
            result.drain_seconds = time.monotonic() - drain_started
            if not drained:
                result.problems.append(f"the outbox did not drain within {opts.drain_timeout:.0f} s")
        finally:
            stop.set()
            aborted.set()
            procs.stop()
        result.problems += check_invariants(store_url, opts.payments, shop.counts())
    return result


@contextmanager
def store(store_url: str) -> Iterator[object]:
    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session

    engine = create_engine(store_url)
    try:
        with Session(engine) as session:
            yield session
    finally:
        engine.dispose()


def wait_drained(store_url: str, timeout: float) -> bool:
    """Wait until no outbox task is pending or running (PostgreSQL may be restarting)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with suppress(Exception), store(store_url) as session:
            left = session.scalar(  # type: ignore[attr-defined]
                select(func.count())
                .select_from(OutboxTask)
                .where(OutboxTask.state.in_([TaskState.PENDING.value, TaskState.RUNNING.value]))
            )
            if left == 0:
                return True
        time.sleep(0.5)
    return False


def check_invariants(store_url: str, n: int, calls: Counter[str]) -> list[str]:
    """Every payment paid once in the hub; exactly one paid call per order at the shop."""
    problems = []
    with store(store_url) as session:
        states = Counter(session.scalars(select(Payment.state)).all())  # type: ignore[attr-defined]
        events = Counter(
            session.scalars(  # type: ignore[attr-defined]
                select(PaymentEventRow.payment_id).where(PaymentEventRow.kind == "paid")
            ).all()
        )
        dead = session.scalar(  # type: ignore[attr-defined]
            select(func.count()).select_from(OutboxTask).where(OutboxTask.state == TaskState.DEAD.value)
        )
    if states != {"paid": n}:
        problems.append(f"payment states {dict(states)}, expected {n} paid")
    if len(events) != n or set(events.values()) != {1}:
        problems.append(
            f"{len(events)} payments with a paid event, {sum(events.values())} events, expected {n} once"
        )
    expected = Counter({str(i + 1): 1 for i in range(n)})
    if calls != expected:
        missing = sum(1 for ref in expected if calls[ref] == 0)
        twice = sum(1 for count in calls.values() if count > 1)
        problems.append(f"paid calls at the shop: {missing} orders without one, {twice} with more than one")
    if dead:
        problems.append(f"{dead} dead outbox tasks")
    return problems


# --------------------------------------------------------------------------------------
# The command
# --------------------------------------------------------------------------------------


@contextmanager
def load_database(server_url: str) -> Iterator[str]:
    """A fresh database ``bluepaid_load`` on the server; dropped at the end."""
    import psycopg
    from psycopg import sql
    from sqlalchemy.engine import make_url

    url = make_url(server_url)
    conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)

    def recreate(create: bool) -> None:
        with psycopg.connect(conninfo, autocommit=True, connect_timeout=5) as conn:
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = %s AND pid <> pg_backend_pid()",
                (LOAD_DATABASE,),
            )
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(LOAD_DATABASE)))
            if create:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(LOAD_DATABASE)))

    recreate(create=True)
    try:
        yield url.set(database=LOAD_DATABASE).render_as_string(hide_password=False)
    finally:
        recreate(create=False)


def report(result: Result, base: Result | None) -> None:
    ratio = ""
    if base is not None and base.p99_ms:
        speed, p99 = result.throughput / base.throughput, result.p99_ms / base.p99_ms
        ratio = f", throughput / plain {speed:.2f}, p99 / plain {p99:.2f}"
    say(
        f"{result.name}: {result.confirmations} confirmations in {result.seconds:.1f} s = "
        f"{result.throughput:.1f}/s, p50 {result.p50_ms:.0f} ms, p99 {result.p99_ms:.0f} ms{ratio}; "
        f"retried {result.retried}, outbox drained in {result.drain_seconds:.1f} s"
        + (f", junk answered {result.junk_answered}" if result.junk_answered else "")
    )
    for event in result.chaos:
        say(f"  chaos: {event}")
    say(f"  invariants: {'; '.join(result.problems) if result.problems else 'all held'}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--payments", type=int, default=5000)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--slow-shop", action="store_true", help="also a run with the shop answering in 30 s")
    parser.add_argument("--shop-delay", type=float, default=30.0, help="the slow shop's delay (s)")
    parser.add_argument("--junk-flood", action="store_true", help="also a run under a junk flood")
    parser.add_argument("--chaos", action="store_true", help="also the chaos run")
    parser.add_argument("--no-pg-restart", action="store_true", help="chaos without restarting PostgreSQL")
    args = parser.parse_args(argv)
    server = PrivatePostgres()
    base_opts = Options(payments=args.payments, clients=args.clients)
    plans: list[tuple[str, Options]] = [("plain", base_opts)]
    if args.slow_shop:
        plans.append(
            ("slow-shop", Options(payments=args.payments, clients=args.clients, shop_delay=args.shop_delay))
        )
    if args.junk_flood:
        plans.append(("junk-flood", Options(payments=args.payments, clients=args.clients, junk_clients=4)))
    if args.chaos:
        plans.append(
            (
                "chaos",
                Options(
                    payments=args.payments,
                    clients=args.clients,
                    hub_kills=5,
                    outbox_kills=5,
                    restart_postgres=None if args.no_pg_restart else server.restart,
                    chaos_gap=max(1.0, args.payments / 1000),
                ),
            )
        )
    failed = False
    base: Result | None = None
    with server, tempfile.TemporaryDirectory(prefix="bluepaid-load-") as tmp:
        say(f"PostgreSQL: a server of the run's own on port {server.port}")
        for seed, (name, opts) in enumerate(plans):
            with load_database(server.url) as url:
                result = run(name, url, opts, Path(tmp), seed=seed)
            report(result, base)
            base = base or result
            failed = failed or bool(result.problems)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
