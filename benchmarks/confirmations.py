"""Confirmations per second through the hub's full path, under a real WSGI server.

    .venv/bin/python benchmarks/confirmations.py [--seconds 10] [--skip-peer] [--skip-postgres]

One run measures, one after the other on the same machine:

1. a bare Flask endpoint (`bare_app.py`) under gunicorn with 2 sync workers, loaded by
   `wrk -t1 -c16` -- the ceiling every other figure is divided by;
2. for SQLite, then PostgreSQL, each on a fresh store prepared alike: the raw floor
   (`floor_app.py`: the hub's two transactions written with the stdlib sqlite3 / raw
   psycopg), then the hub's confirmation endpoint, then the floor again, all served the
   same way and loaded by wrk with `confirm.lua` (one prepared confirmation per payment);
3. the nearest Python peer, django-payments, with its own `run.sh`
   (`../shared/bench/django-payments/` beside the repository), in a venv cached in
   `~/.cache/bluepaid-bench/dp-venv`.

It prints a table (req/s, failed answers, wrk's timeouts apart, p50 and p99, ratios to
bare Flask and to the raw floor (the mean of its two runs), ratio of ours to the peer). A timeout is checked
against the store: one whose confirmation was applied is not a lost one. Exit status:
1 if any of OUR confirmation runs had a failed answer (non-2xx/3xx, socket error, lost
timeout); otherwise 2 if something asked for could not be measured (hub seam not
implemented or crashing, peer run failing); otherwise 0. A PostgreSQL server that
cannot be reached is a printed skip, not an error.

The hub side goes through one seam, `prepare_hub()` below.
"""

from __future__ import annotations

import argparse
import importlib
import math
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import Engine, insert
from sqlalchemy.orm import Session

from bluepaid_plugins.money import Money
from bluepaid_plugins.protocol import Confirmation, Etat, Mode, divers_token
from hub import migrate
from hub.config import HubConfig
from hub.context import build_hub
from hub.models import InboxMessage, OutboxTask, Payment, PaymentEventRow, Shop
from hub.redaction import token_digest
from hub.shops import add_shop
from hub.urls import confirmation_url

REPO = Path(__file__).resolve().parents[1]
BENCH_DIR = REPO / "benchmarks"
CONFIRM_LUA = BENCH_DIR / "confirm.lua"
JUNK_LUA = BENCH_DIR / "junk.lua"
DEFAULT_PEER_DIR = REPO.parent / "shared/bench/django-payments"
DEFAULT_PEER_VENV = Path.home() / ".cache/bluepaid-bench/dp-venv"
PEER_PACKAGES = ("django-payments", "django", "gunicorn")

WORKERS = 2
CONNECTIONS = 16
BARE_APP = "benchmarks.bare_app:create_app()"
FLOOR_APP = "benchmarks.floor_app:create_app()"

POSTGRES_ENV = "BLUEPAID_TEST_POSTGRES_URL"
DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
BENCH_DATABASE = "bluepaid_bench"

MIN_PAYMENTS = 20_000
#: Confirmations the store has applied before the run (see :func:`add_history`).
HISTORY = 20_000
SERVER_START_TIMEOUT = 60.0


# --------------------------------------------------------------------------------------
# THE SEAM -- the hub side of the benchmark. Everything else in this file is harness.
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HubTarget:
    """What the harness needs to load the hub's confirmation endpoint.

    wsgi_app:      gunicorn app spec, importable from the repository root
                   (gunicorn runs with `--chdir <repo>`), e.g. "hub.wsgi:app" or
                   "hub.app:create_app()".
    env:           extra environment for the gunicorn process (on top of ours), e.g. the
                   store URL and the sandbox secrets the hub reads at start-up.
    requests_file: one confirmation request per line: the path, a tab, then the
                   application/x-www-form-urlencoded body (no newline or tab in either).
                   `confirm.lua` POSTs them in order and starts over at the end.
    ready_path:    any path the harness may GET to see whether a worker answers; any
                   HTTP status (even 404/405) counts as "up".
    """

    wsgi_app: str
    env: dict[str, str]
    requests_file: Path
    ready_path: str = "/"
    flood_requests_file: Path | None = None


def prepare_hub(store_url: str, workdir: Path, n: int, flood: bool = False) -> HubTarget:
    """Prepare the hub on `store_url` for `n` confirmations; say how to serve it.

    Through the hub's Python API (not timed): create the schema, one shop, the
    shop's history (:func:`add_history`) and `n` payments, then write one valid
    confirmation per payment (path, tab, form body, with the right `divers` token),
    exactly what the platform would POST. With
    `flood`, as many again for the run under a junk flood, in a file of their own;
    the hub then trusts one proxy hop, so that junk.lua's X-Forwarded-For makes
    each junk request come from a stranger.
    """
    env = {
        "BLUEPAID_DATABASE_URL": store_url,
        "BLUEPAID_SECRET_KEY": secrets.token_hex(32),
        "BLUEPAID_PUBLIC_URL": "http://127.0.0.1",
        "BLUEPAID_TRUST_PROXY": "1" if flood else "0",
    }
    total = 2 * n if flood else n
    hub = build_hub(HubConfig(database_url=store_url, secret_key=env["BLUEPAID_SECRET_KEY"]))
    migrate.upgrade(hub.db)
    shop = add_shop(hub, slug="bench", id_boutique="BENCH01", allowed_ips=["127.0.0.1"])
    path = confirmation_url(hub, shop).split("127.0.0.1:5000", 1)[1]
    amount = Money.parse("36.60", "EUR")
    now = hub.clock()
    rows, lines = [], []
    for index in range(total):
        public_id, ref = secrets.token_hex(16), f"B{index}"
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
        lines.append(f"{path}\t{urlencode(confirmation.fields())}\n")
    with hub.db.transaction() as session:
        add_history(session, shop, path, HISTORY, now)
        for start in range(0, len(rows), 5000):
            session.execute(insert(Payment), rows[start : start + 5000])
    settle(hub.db.engine)
    hub.db.dispose()
    requests_file = workdir / "requests.txt"
    requests_file.write_text("".join(lines[:n]))
    flood_file = None
    if flood:
        flood_file = workdir / "requests-flood.txt"
        flood_file.write_text("".join(lines[n:]))
    return HubTarget("hub.wsgi:app", env, requests_file, "/", flood_requests_file=flood_file)


def add_history(session: Session, shop: Shop, path: str, count: int, now: datetime) -> None:
    """Give the store ``count`` confirmations applied before the run: paid payments,
    their inbox rows, events and delivered outbox tasks, as a hub that has served finds
    its store.

    Without them the inbox and event tables start empty, and PostgreSQL plans the
    statements that look rows up in them (the verdict's update, the foreign-key checks,
    the duplicate check) as scans of the whole table, plans it keeps for the run: every
    confirmation then read every row written before it, 2 to 3 scans each, and the
    longer the run the slower it went. A served store has statistics (autovacuum takes
    them within a minute of the first writes) and uses its indexes."""
    amount = Money.parse("36.60", "EUR")
    body = b"etat=ok&mode=test&montant=36.60&devise=EUR"

    def returned_ids(model: Any, rows: list[dict[str, Any]]) -> list[int]:
        statement = insert(model).returning(model.id, sort_by_parameter_order=True)
        return list(session.scalars(statement, rows))

    payments = returned_ids(
        Payment,
        [
            {
                "public_id": secrets.token_hex(16),
                "shop_id": shop.id,
                "order_ref": f"H{index}",
                "amount_minor": amount.minor,
                "currency": amount.currency,
                "state": "paid",
                "flags": ["test"],
                "id_trans": f"H{index}",
                "paid_minor": amount.minor,
                "created_at": now,
                "updated_at": now,
            }
            for index in range(count)
        ],
    )
    messages = returned_ids(
        InboxMessage,
        [
            {
                "received_at": now,
                "method": "POST",
                "path": path,
                "headers": {"Content-Type": "application/x-www-form-urlencoded"},
                "body": body,
                "remote_addr": "127.0.0.1",
                "shop_slug": shop.slug,
                "url_token_digest": token_digest(shop.confirm_token),
                "shop_id": shop.id,
                "payment_id": payment_id,
                "processed_at": now,
                "verdict": "accepted",
                "reason": "created -> paid",
            }
            for payment_id in payments
        ],
    )
    events = [
        {
            "public_id": f"ev_{secrets.token_hex(12)}",
            "payment_id": payment_id,
            "inbox_id": inbox_id,
            "dedupe_key": secrets.token_hex(32),
            "kind": "paid",
            "from_state": "created",
            "to_state": "paid",
            "id_trans": f"H{index}",
            "amount_minor": amount.minor,
            "created_at": now,
        }
        for index, (payment_id, inbox_id) in enumerate(zip(payments, messages, strict=True))
    ]
    session.execute(insert(PaymentEventRow), events)
    tasks = [
        {
            "kind": "apply_event",
            "payload": {"id": event["public_id"]},
            "shop_id": shop.id,
            "payment_id": event["payment_id"],
            "state": "done",
            "attempts": 1,
            "created_at": now,
            "retry_from": now,
            "next_attempt_at": now,
            "done_at": now,
        }
        for event in events
    ]
    session.execute(insert(OutboxTask), tasks)


def settle(engine: Engine) -> None:
    """Let the store finish what the preparation's bulk insert left it to do, before
    anything is timed: on PostgreSQL, ``VACUUM ANALYZE`` (else autovacuum takes the
    freshly loaded tables during the run) and a ``CHECKPOINT`` (else the insert's
    WAL is flushed during the run); on SQLite, a WAL checkpoint. The floor and the
    hub are prepared alike, so neither pays for the preparation in its figures."""
    statements = (
        ["PRAGMA wal_checkpoint(TRUNCATE)"]
        if engine.dialect.name == "sqlite"
        else ["VACUUM ANALYZE", "CHECKPOINT"]
    )
    # On the driver's connection, in autocommit: neither may run inside a transaction.
    pooled = engine.raw_connection()
    try:
        driver: Any = pooled.driver_connection
        if engine.dialect.name != "sqlite":
            driver.autocommit = True
        for statement in statements:
            driver.execute(statement)
    finally:
        pooled.invalidate()


# --------------------------------------------------------------------------------------
# Harness
# --------------------------------------------------------------------------------------


class BenchError(RuntimeError):
    """Something the benchmark needed did not work; the message says what."""


def say(msg: str) -> None:
    print(f"[bench] {msg}", flush=True)


@dataclass(frozen=True)
class WrkResult:
    requests_per_sec: float
    requests: int
    non_2xx: int
    socket_errors: int  # connect, read and write errors: the request got no answer
    timeouts: int = 0  # wrk gave up waiting (2 s): the request may still have been applied
    p50_ms: float | None = None
    p99_ms: float | None = None

    @property
    def failed(self) -> int:
        return self.non_2xx + self.socket_errors + self.timeouts


_RPS = re.compile(r"^Requests/sec:\s+([\d.]+)", re.M)
_TOTAL = re.compile(r"^\s*(\d+) requests in ", re.M)
_NON_2XX = re.compile(r"Non-2xx or 3xx responses:\s+(\d+)")
_SOCKET = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")
_PERCENTILE = re.compile(r"^\s*(50|99)%\s+([\d.]+)(us|ms|s)\s*$", re.M)
_UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def parse_wrk(text: str) -> WrkResult:
    """Parse wrk's report. wrk counts a status >= 400 in its "Non-2xx or 3xx" line."""
    rps, total = _RPS.search(text), _TOTAL.search(text)
    if rps is None or total is None:
        raise BenchError(f"cannot read wrk's report:\n{text}")
    non_2xx = _NON_2XX.search(text)
    sock = _SOCKET.search(text)
    errors = [int(g) for g in sock.groups()] if sock else [0, 0, 0, 0]
    percentiles = {m.group(1): float(m.group(2)) * _UNIT_MS[m.group(3)] for m in _PERCENTILE.finditer(text)}
    return WrkResult(
        requests_per_sec=float(rps.group(1)),
        requests=int(total.group(1)),
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        socket_errors=sum(errors[:3]),
        timeouts=errors[3],
        p50_ms=percentiles.get("50"),
        p99_ms=percentiles.get("99"),
    )


def run_wrk(url: str, secs: int, script: Path | None = None, args: Sequence[str] = ()) -> WrkResult:
    cmd = ["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{secs}s", "--latency"]
    if script is not None:
        cmd += ["-s", str(script)]
    cmd.append(url)
    if args:
        cmd += ["--", *args]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=secs + 60)
    except subprocess.TimeoutExpired as exc:
        raise BenchError(f"wrk did not finish: {' '.join(cmd)}") from exc
    if done.returncode != 0:
        raise BenchError(f"wrk failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    return parse_wrk(done.stdout)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _stop(proc: subprocess.Popen[bytes] | subprocess.Popen[str], grace: float = 10.0) -> None:
    """Stop a process we started in its own session, and whatever it started."""
    if proc.poll() is None:
        with suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        with suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=grace)
    with suppress(ProcessLookupError):  # workers, or whatever else is left in its group
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def _gunicorn_options() -> list[str]:
    """Options for our gunicorn runs beyond -w/-b: gunicorn >= 24 opens a control socket
    in ~/.gunicorn by default, which concurrent servers would fight over."""
    config = importlib.import_module("gunicorn.config")  # untyped package
    names = {s.name for s in config.KNOWN_SETTINGS}
    return ["--no-control-socket"] if "control_socket_disable" in names else []


def _wait_group_gone(pgid: int, grace: float = 15.0) -> None:
    """Wait for what is left of a process group we started (e.g. a gunicorn that run.sh
    told to stop and is shutting down gracefully); kill it after `grace` seconds."""
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    with suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2):
            return True
    except urllib.error.HTTPError:
        return True  # a worker answered; the status does not matter here
    except (urllib.error.URLError, OSError):
        return False


@contextmanager
def gunicorn(app: str, port: int, log: Path, env: dict[str, str], ready_path: str) -> Iterator[str]:
    """Serve `app` with gunicorn (WORKERS sync workers); yield its base URL."""
    base = f"http://127.0.0.1:{port}"
    cmd = [
        sys.executable, "-m", "gunicorn",
        "-w", str(WORKERS),
        "-b", f"127.0.0.1:{port}",
        "--chdir", str(REPO),
        *_gunicorn_options(),
        app,
    ]  # fmt: skip
    with log.open("wb") as out:
        proc = subprocess.Popen(
            cmd,
            cwd=REPO,
            env={**os.environ, **env},
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while True:
            if proc.poll() is not None:
                raise BenchError(f"gunicorn {app} exited ({proc.returncode}):\n{_tail(log)}")
            booted = log.read_text(errors="replace").count("Booting worker")
            if booted >= WORKERS and _answers(base + ready_path):
                break
            if time.monotonic() > deadline:
                raise BenchError(f"gunicorn {app} not answering on {base}:\n{_tail(log)}")
            time.sleep(0.1)
        time.sleep(0.5)  # let the other worker finish importing too
        yield base
        if proc.poll() is not None:
            raise BenchError(f"gunicorn {app} died during the run:\n{_tail(log)}")
    finally:
        _stop(proc)


# ---- PostgreSQL ----------------------------------------------------------------------


class Skip(Exception):
    """A store that cannot be measured here, for a reason worth printing."""


@contextmanager
def postgres_database(server_url: str) -> Iterator[str]:
    """Create a fresh `bluepaid_bench` database on the server; yield its URL; drop it."""
    try:
        import psycopg
        from psycopg import sql
        from sqlalchemy.engine import make_url
    except ImportError as exc:
        raise Skip(f"psycopg/sqlalchemy not installed ({exc})") from exc

    url = make_url(server_url)
    conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
    name = sql.Identifier(BENCH_DATABASE)

    def recreate(create: bool) -> None:
        with psycopg.connect(conninfo, autocommit=True, connect_timeout=5) as conn:
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid()",
                (BENCH_DATABASE,),
            )
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(name))
            if create:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(name))

    try:
        recreate(create=True)
    except psycopg.OperationalError as exc:
        shown = url.render_as_string(hide_password=True)
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise Skip(f"PostgreSQL unreachable at {shown} ({reason}); set {POSTGRES_ENV}") from exc
    try:
        yield url.set(database=BENCH_DATABASE).render_as_string(hide_password=False)
    finally:
        try:
            recreate(create=False)
        except psycopg.Error as exc:
            say(f"could not drop database {BENCH_DATABASE}: {exc}")


# ---- the peer ------------------------------------------------------------------------


def _peer_venv_complete(venv: Path) -> bool:
    python = venv / "bin/python"
    if not python.exists():
        return False
    check = subprocess.run(
        [str(python), "-c", "import django, payments, gunicorn"],
        capture_output=True,
        timeout=60,
    )
    return check.returncode == 0


def ensure_peer_venv(venv: Path) -> None:
    """Make `venv` hold the peer's packages; never deletes anything already there."""
    if _peer_venv_complete(venv):
        say(f"peer venv: {venv} (cached)")
        return
    venv.parent.mkdir(parents=True, exist_ok=True)
    say(f"peer venv: building {venv} (first use: pip install {' '.join(PEER_PACKAGES)}) ...")
    try:
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
        subprocess.run(
            [str(venv / "bin/python"), "-m", "pip", "install", "-q", "--disable-pip-version-check",
             *PEER_PACKAGES],
            check=True,
            timeout=900,
        )  # fmt: skip
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as exc:
        raise BenchError(f"could not build the peer venv {venv}: {exc}") from exc
    if not _peer_venv_complete(venv):
        raise BenchError(f"the peer venv {venv} still cannot import django/payments/gunicorn")
    say("peer venv: ready")


def peer_versions(venv: Path) -> str:
    code = (
        "from importlib.metadata import version as v; "
        "print(', '.join(f'{p} {v(p)}' for p in ('django-payments', 'django', 'gunicorn')))"
    )
    cmd = [str(venv / "bin/python"), "-c", code]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    return done.stdout.strip() or "(versions unknown)"


@dataclass(frozen=True)
class PeerResult:
    hello_rps: float
    hello_failed: int
    process_rps: float
    process_failed: int
    locked: int | None


_PEER_HELLO = re.compile(r"django hello:\s*([\d.]+) req/s, (\d+) failed")
_PEER_PROCESS = re.compile(r"django-payments process:\s*([\d.]+) req/s, (\d+) failed")
_PEER_LOCKED = re.compile(r"server errors:\s*(\d+)")


def parse_peer(text: str) -> PeerResult:
    hello, process = _PEER_HELLO.search(text), _PEER_PROCESS.search(text)
    if hello is None or process is None:
        raise BenchError(f"cannot read the peer's report:\n{text}")
    locked = _PEER_LOCKED.search(text)
    return PeerResult(
        hello_rps=float(hello.group(1)),
        hello_failed=int(hello.group(2)),
        process_rps=float(process.group(1)),
        process_failed=int(process.group(2)),
        locked=int(locked.group(1)) if locked else None,
    )


def run_peer(peer_dir: Path, venv: Path, secs: int, workdir: Path) -> PeerResult:
    run_sh = peer_dir / "run.sh"
    if not run_sh.is_file():
        raise BenchError(f"no peer benchmark at {run_sh} (use --peer-dir)")
    port = free_port()
    cmd = ["bash", str(run_sh), str(venv), str(secs), str(port)]
    say(f"peer: {' '.join(cmd)}")
    workdir.mkdir()
    proc = subprocess.Popen(
        cmd,
        # run.sh's mktemp goes under our workdir: if its own clean-up loses the race with
        # its stopping gunicorn (rm: Directory not empty), ours still removes it.
        env={**os.environ, "TMPDIR": str(workdir)},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        out, _ = proc.communicate(timeout=2 * secs + 300)
    except subprocess.TimeoutExpired as exc:
        raise BenchError("the peer's run.sh did not finish in time") from exc
    finally:
        if proc.poll() is None:
            _stop(proc)
        _wait_group_gone(proc.pid)  # run.sh's gunicorn may still be shutting down
    for line in out.strip().splitlines():
        say(f"peer | {line}")
    try:
        result = parse_peer(out)
    except BenchError as exc:
        raise BenchError(f"the peer's run.sh failed ({proc.returncode}):\n{out}") from exc
    if proc.returncode != 0:  # it measured, then its clean-up failed: keep the figures
        say(f"peer: run.sh exited {proc.returncode} after its report (clean-up); figures kept")
    return result


# ---- the runs ------------------------------------------------------------------------


@dataclass
class Row:
    name: str
    rps: float | None = None
    failed: int | None = None
    total: int | None = None  # exact request count, when known
    ours: bool = False
    note: str = ""
    extra: list[str] = field(default_factory=list)
    p50_ms: float | None = None
    p99_ms: float | None = None
    timeouts: int | None = None  # wrk's timeouts, counted apart from the failed answers
    lost_timeouts: int | None = None  # ... of which the store shows no applied confirmation
    floor: Row | None = None  # the raw floor measured on the same store in the same run


def run_bare(secs: int, workdir: Path) -> Row:
    say(f"bare Flask: gunicorn -w {WORKERS} {BARE_APP}")
    with gunicorn(BARE_APP, free_port(), workdir / "bare.log", {}, "/hello") as base:
        say(f"bare Flask: wrk -t1 -c{CONNECTIONS} -d{secs}s {base}/hello")
        res = run_wrk(base + "/hello", secs)
    say(f"bare Flask: {res.requests_per_sec:.1f} req/s, {res.failed} failed")
    return Row(
        "bare Flask /hello",
        res.requests_per_sec,
        res.failed,
        res.requests,
        p50_ms=res.p50_ms,
        p99_ms=res.p99_ms,
    )


def checked_against_store(row: Row, res: WrkResult, store_url: str, prepared: int) -> None:
    """Count the run's timeouts apart and check them against the store.

    A request wrk gave up on may still have been applied: then it is no lost
    confirmation. The payments the run left paid, less the confirmations answered
    2xx, are the timed-out ones that were applied (the requests still in flight
    when wrk stopped count there too: at most one per connection); the rest of
    the timeouts are lost. An answered confirmation the store shows unapplied is
    lost too."""
    answered = res.requests - res.non_2xx - res.socket_errors - res.timeouts
    paid = paid_among(store_url, 0, prepared)
    applied_timeouts = min(res.timeouts, max(paid - answered, 0))
    unapplied_answers = max(answered - paid, 0)
    row.timeouts, row.lost_timeouts = res.timeouts, res.timeouts - applied_timeouts
    row.failed = res.non_2xx + res.socket_errors + row.lost_timeouts + unapplied_answers
    if unapplied_answers:
        row.extra.append(f"{row.name}: {unapplied_answers} confirmation(s) answered 2xx but not applied")


def run_hub(
    store: str, store_url: str, workdir: Path, n: int, secs: int, flood: bool = False, floor: bool = False
) -> list[Row]:
    """Measure the hub (or, with ``floor``, the raw floor) on a fresh ``store_url``."""
    name = f"{'raw floor' if floor else 'hub'} confirmations ({store})"
    say(f"{name}: prepare_hub({n} payments{', and as many for the flood run' if flood else ''})")
    t0 = time.monotonic()
    target = prepare_hub(store_url, workdir, n, flood)
    if floor:
        target = HubTarget(FLOOR_APP, target.env, target.requests_file, target.ready_path)
    say(f"{name}: prepared in {time.monotonic() - t0:.1f} s -> {target.wsgi_app}")
    if not target.requests_file.is_file():
        raise BenchError(f"prepare_hub() wrote no requests file at {target.requests_file}")
    with target.requests_file.open("rb") as f:
        lines = sum(1 for line in f if line.strip())
    log = workdir / ("floor.log" if floor else "gunicorn.log")
    flooded: tuple[WrkResult, WrkResult] | None = None
    with gunicorn(target.wsgi_app, free_port(), log, target.env, target.ready_path) as base:
        say(f"{store}: wrk -t1 -c{CONNECTIONS} -d{secs}s -s confirm.lua {base} ({lines} requests)")
        res = run_wrk(base, secs, CONFIRM_LUA, [str(target.requests_file)])
        if target.flood_requests_file is not None:
            say(f"{store}: the same, with junk.lua flooding the confirmation URL at once")
            flooded = run_flood(base, secs, target.flood_requests_file)
    say(
        f"{store}: {res.requests_per_sec:.1f} req/s, {res.failed} failed "
        f"({res.non_2xx} non-2xx/3xx, {res.socket_errors} socket errors)"
    )
    row = Row(
        name,
        res.requests_per_sec,
        res.failed,
        res.requests,
        ours=not floor,
        p50_ms=res.p50_ms,
        p99_ms=res.p99_ms,
    )
    checked_against_store(row, res, store_url, lines)
    if res.requests > lines:
        row.extra.append(
            f"{name}: {res.requests} requests for {lines} prepared confirmations -- some "
            "payments were confirmed twice (raise --payments)"
        )
    if res.failed:
        row.extra.append(f"{name}: last lines of the server log:\n{_tail(log)}")
    rows = [row]
    if flooded is not None:
        real, junk = flooded
        lost = unapplied(store_url, lines, real.requests, lines)
        under = Row(
            f"{name} under a junk flood", real.requests_per_sec, real.failed, real.requests, ours=True
        )
        under.extra.append(
            f"{under.name}: {real.requests_per_sec / res.requests_per_sec:.2f} of the run without flood, "
            f"while {junk.requests_per_sec:.0f} junk req/s were answered; "
            f"{lost} answered confirmation(s) not applied; junk rows kept: {junk_rows(store_url)}"
        )
        if lost:
            under.failed = (under.failed or 0) + lost
        rows.append(under)
    return rows


def run_flood(base: str, secs: int, requests_file: Path) -> tuple[WrkResult, WrkResult]:
    """Real confirmations and a junk flood at once, each from its own wrk."""
    junk_cmd = ["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{secs}s", "-s", str(JUNK_LUA), base, "--", "bench"]
    flood = subprocess.Popen(junk_cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        real = run_wrk(base, secs, CONFIRM_LUA, [str(requests_file)])
        out, _ = flood.communicate(timeout=secs + 60)
    finally:
        if flood.poll() is None:
            flood.kill()
    junk = parse_wrk(out)
    return real, junk


def unapplied(store_url: str, first_flood_index: int, answered: int, prepared: int) -> int:
    """How many of the flood run's answered confirmations left no paid payment.

    wrk's connections finish out of order, so the paid ones are counted among
    every payment prepared for the run, against the number of answers."""
    return max(answered - paid_among(store_url, first_flood_index, prepared), 0)


def paid_among(store_url: str, first: int, count: int) -> int:
    """How many of the payments prepared as B<first> .. B<first + count - 1> are paid."""
    from sqlalchemy import create_engine, func, select

    engine = create_engine(store_url)
    refs = [f"B{first + i}" for i in range(count)]
    try:
        with engine.connect() as connection:
            paid = 0
            for start in range(0, len(refs), 5000):
                query = select(func.count()).where(
                    Payment.order_ref.in_(refs[start : start + 5000]), Payment.state == "paid"
                )
                paid += int(connection.scalar(query) or 0)
    finally:
        engine.dispose()
    return paid


def junk_rows(store_url: str) -> int:
    """The short rows the junk left in the inbox (bounded per source and minute)."""
    from sqlalchemy import create_engine, func, select

    from hub.models import InboxMessage

    engine = create_engine(store_url)
    try:
        with engine.connect() as connection:
            query = select(func.count()).where(InboxMessage.body == b"", InboxMessage.verdict == "rejected")
            return int(connection.scalar(query) or 0)
    finally:
        engine.dispose()


def measure_store(store: str, root: Path, n: int, secs: int, flood: bool) -> list[Row]:
    """The raw floor, the hub, then the floor again, each on a fresh store of its own:
    the two floor rows, then the hub's, which know the floor as the mean of the two.

    The host's other tenants move every rate by tens of percent within minutes; a
    floor measured on both sides of the hub puts such a drift on both sides of the
    ratio instead of on one."""
    runs: list[list[Row]] = []
    for index, floor in enumerate((True, False, True)):
        workdir = root / f"{store}-{index}-{'floor' if floor else 'hub'}"
        workdir.mkdir()
        if store == "sqlite":
            url = f"sqlite:///{workdir / 'hub.sqlite3'}"
            runs.append(run_hub(store, url, workdir, n, secs, flood and not floor, floor))
            continue
        server = os.environ.get(POSTGRES_ENV, DEFAULT_POSTGRES_URL)
        with postgres_database(server) as url:
            say(f"{store}: fresh database {BENCH_DATABASE}")
            runs.append(run_hub(store, url, workdir, n, secs, flood and not floor, floor))
    (before,), hub, (after,) = runs
    before.name, after.name = f"{before.name}, before", f"{after.name}, after"
    mean_p99 = _mean(before.p99_ms, after.p99_ms)
    mean = Row(f"raw floor ({store}), mean", _mean(before.rps, after.rps), p99_ms=mean_p99)
    for row in hub:
        row.floor = mean
    return [before, after, *hub]


def _mean(a: float | None, b: float | None) -> float | None:
    return (a + b) / 2 if a is not None and b is not None else None


# ---- report --------------------------------------------------------------------------


def _ratio(a: float | None, b: float | None) -> str:
    return f"{a / b:.3f}" if a is not None and b else "-"


def _failed(row: Row, secs: int) -> str:
    if row.failed is None:
        return "-"
    if row.total:
        return f"{row.failed} ({100 * row.failed / row.total:.1f} %)"
    if row.rps and row.failed:  # run.sh gives no request count: wrk's req/s counts them all
        return f"{row.failed} (~{100 * row.failed / (row.rps * secs):.0f} %)"
    return str(row.failed)


def _good_rps(row: Row, secs: int) -> float | None:
    """Answers per second that were not failures: what a merchant actually gets."""
    if row.rps is None:
        return None
    return max(row.rps - (row.failed or 0) / secs, 0.0)


def _ms(value: float | None) -> str:
    return f"{value:.1f}" if value is not None else "-"


def _timeouts(row: Row) -> str:
    if row.timeouts is None:
        return "-"
    return f"{row.timeouts} ({row.lost_timeouts} lost)"


def print_table(rows: list[Row], bare: Row, peer: Row | None, secs: int) -> None:
    head = (
        "", "req/s", "failed", "timeouts", "good/s", "p50 ms", "p99 ms", "/ bare", "/ floor",
        "p99 / floor", "ours / peer", "good: ours / peer",
    )  # fmt: skip
    body = []
    peer_good = _good_rps(peer, secs) if peer else None
    for r in rows:
        rps = f"{r.rps:.1f}" if r.rps is not None else r.note
        good = _good_rps(r, secs)
        vs_peer = _ratio(r.rps, peer.rps if peer else None) if r.ours else ""
        good_vs_peer = _ratio(good, peer_good) if r.ours else ""
        good_text = f"{good:.1f}" if good is not None else "-"
        floor_rps = r.floor.rps if r.floor else None
        floor_p99 = r.floor.p99_ms if r.floor else None
        body.append(
            (
                r.name, rps, _failed(r, secs), _timeouts(r), good_text, _ms(r.p50_ms), _ms(r.p99_ms),
                _ratio(r.rps, bare.rps), _ratio(r.rps, floor_rps) if r.floor else "",
                _ratio(r.p99_ms, floor_p99) if r.floor else "", vs_peer, good_vs_peer,
            )
        )  # fmt: skip
    widths = [max(len(line[i]) for line in [head, *body]) for i in range(len(head))]
    print()
    for line in [head, *body]:
        right = [c.rjust(w) for c, w in zip(line[1:], widths[1:], strict=True)]
        cells = [line[0].ljust(widths[0]), *right]
        print("  ".join(cells).rstrip())
    print(flush=True)


# ---- main ----------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("--seconds", type=int, default=10, help="length of each wrk run (10)")
    p.add_argument("--skip-peer", action="store_true", help="do not run django-payments")
    p.add_argument("--skip-postgres", action="store_true", help="SQLite only")
    p.add_argument("--junk-flood", action="store_true",
                   help="also measure real confirmations while junk.lua floods the URL")  # fmt: skip
    p.add_argument("--payments", type=int, default=None,
                   help=f"payments per store (default: bare Flask req/s x seconds + 10 %%, "
                        f"at least {MIN_PAYMENTS})")  # fmt: skip
    p.add_argument("--peer-dir", type=Path, default=DEFAULT_PEER_DIR,
                   help=f"the peer benchmark folder ({DEFAULT_PEER_DIR})")  # fmt: skip
    p.add_argument("--peer-venv", type=Path, default=DEFAULT_PEER_VENV,
                   help=f"venv for the peer, built on first use ({DEFAULT_PEER_VENV})")  # fmt: skip
    args = p.parse_args(argv)
    if args.seconds < 1:
        p.error("--seconds must be at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    secs: int = args.seconds
    if shutil.which("wrk") is None:
        say("wrk is not installed (Debian package `wrk`)")
        return 2
    incomplete = False
    with tempfile.TemporaryDirectory(prefix="bluepaid-bench-") as tmp:
        root = Path(tmp)
        say(f"workdir {root}; {os.cpu_count()} CPUs; {WORKERS} gunicorn workers; "
            f"wrk -t1 -c{CONNECTIONS} -d{secs}s")  # fmt: skip

        peer_venv: Path | None = None
        if not args.skip_peer:
            try:
                ensure_peer_venv(args.peer_venv.expanduser())
                peer_venv = args.peer_venv.expanduser()
                say(f"peer: {peer_versions(peer_venv)}")
            except BenchError as exc:
                say(str(exc))
                incomplete = True

        bare = run_bare(secs, root)
        rows = [bare]
        n = args.payments or max(MIN_PAYMENTS, math.ceil((bare.rps or 0.0) * secs * 1.1))

        stores = ["sqlite"] + ([] if args.skip_postgres else ["postgresql"])
        for store in stores:
            row = Row(f"hub confirmations ({store})", ours=True)
            try:
                measured = measure_store(store, root, n, secs, args.junk_flood)
                row, rows = measured[-1], rows + measured[:-1]
            except Skip as exc:
                row.note = "skipped"
                say(f"{store}: skipped: {exc}")
            except NotImplementedError as exc:
                row.note = "no hub"
                say(f"{store}: not measured: {exc}")
                incomplete = True
            except BenchError as exc:
                row.note = "error"
                say(f"{store}: not measured: {exc}")
                incomplete = True
            rows.append(row)

        peer: Row | None = None
        if peer_venv is not None:
            try:
                res = run_peer(args.peer_dir.expanduser().resolve(), peer_venv, secs, root / "peer")
                rows.append(Row("django hello (peer's bare)", res.hello_rps, res.hello_failed))
                peer = Row("django-payments process (peer)", res.process_rps, res.process_failed)
                if res.locked is not None:
                    peer.extra.append(f"peer server log: {res.locked} 'database is locked' errors")
                rows.append(peer)
            except BenchError as exc:
                say(f"peer: not measured: {exc}")
                incomplete = True
        elif not args.skip_peer:
            rows.append(Row("django-payments process (peer)", note="error"))

        print_table(rows, bare, peer, secs)
        for r in rows:
            for line in r.extra:
                print(line)

    ours = [r for r in rows if r.ours and r.failed is not None]
    bad = [r for r in ours if r.failed]
    if bad:
        print("FAIL: " + "; ".join(f"{r.name} lost {r.failed} confirmations" for r in bad))
        return 1
    if incomplete:
        print("INCOMPLETE: something asked for was not measured (see above)")
        return 2
    if ours:
        print("OK: no failed confirmation")
    return 0


if __name__ == "__main__":
    sys.exit(main())
