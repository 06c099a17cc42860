"""A whole session with failures writes no secret anywhere.

Real processes: the hub under the development server (``bluepaid serve``), under
gunicorn as documented (``gunicorn 'hub.wsgi:app'``, then with
``-c python:hub.gunicorn_config``), the worker and failing CLI commands; a real
shop API on 127.0.0.1 whose connector carries a secret API key in its query
strings and ``Authorization`` header (with urllib3's debug log on, as an
operator chasing a shop problem would); a database that refuses inbox writes for
a while (a trigger), wrong tokens, the shop going down. Then everything the
session wrote is scanned: each process's stdout and stderr, every page the hub
answered, and every table dumped as text (but the shop's own secret, confirmation
token and webhook token, which live there by design). No secret may appear.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlsplit

import pytest
import requests
import sqlalchemy as sa
from cryptography.fernet import Fernet

from hub import migrate
from hub.config import HubConfig
from hub.context import build_hub
from hub.shops import add_shop
from tests.hub.shop_stub import REPO_ROOT, wait_until

pytestmark = pytest.mark.slow

API_KEY = "ck_live_api-key-of-the-shop-5f1e2d"
SECRET_KEY = "flask-secret-key-of-the-session-77aa"
DB_PASSWORD = "database-password-9c8b"
SETTINGS_KEY = Fernet.generate_key().decode()
WRONG_TOKEN = "wrong-token-0123456789abcdef"

PLUGIN = '''"""A shop API reached with its API key in the query string and a bearer header."""

from bluepaid_plugins import Connector, Money, Order, Ownership, PaymentEvent, SettingField, hookimpl
from bluepaid_plugins.http import call_shop


class SecretShop(Connector):
    id = "secret_shop"
    label = "Secret shop"
    version = "1.0"
    contract = ">=1,<2"
    ownership = Ownership.HUB_TOKEN
    settings_schema = (
        SettingField("url", "Shop API URL", type="url"),
        SettingField("api_key", "API key", type="secret"),
    )

    def _call(self, method, path, what, **kwargs):
        key = self.settings["api_key"].reveal()
        url = f"{self.settings['url']}{path}?api_key={key}"
        headers = {"Authorization": f"Bearer {key}"}
        http = self.context.http
        return call_shop(http, method, url, label=self.label, what=what, headers=headers, **kwargs)

    def fetch_order(self, ref: str) -> Order:
        data = self._call("GET", f"/orders/{ref}", f"order {ref}").json()
        return Order(ref=ref, total=Money.parse(data["total"], "EUR"))

    def apply_event(self, event: PaymentEvent) -> None:
        self._call("POST", f"/orders/{event.order_ref}/payments", f"order {event.order_ref}")

    def check_connection(self) -> str:
        self._call("GET", "/check", "the API key")
        return "the API key is accepted"


@hookimpl
def bluepaid_register_connectors(register):
    register(SecretShop)
'''

# Imported by every Python process of the session: urllib3 logs each request
# with its URL, query string included, at DEBUG.
SITECUSTOMIZE = 'import logging\nlogging.getLogger("urllib3").setLevel(logging.DEBUG)\n'


#: The ``bluepaid`` command, from the code of this checkout.
BLUEPAID = [sys.executable, "-c", "import sys; from hub.cli import main; sys.exit(main(sys.argv[1:]))"]


class ShopAPI:
    """The secret shop's API on 127.0.0.1: every order costs 36.60 EUR, every write is accepted."""

    def __init__(self) -> None:
        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self._answer(b'{"total": "36.60"}')

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self._answer(b"{}")

            def _answer(self, body: bytes) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: this process's output is not the hub's."""

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def stop(self) -> None:
        """The shop goes down: its port refuses connections from now on."""
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


@dataclass
class Session:
    """What the session wrote, by where it went."""

    folder: Path
    env: dict[str, str]
    written: dict[str, str] = field(default_factory=dict)

    def run(
        self, name: str, *args: str, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Run ``bluepaid ARGS`` in a process of its own; keep its stdout and stderr."""
        done = subprocess.run(
            [*BLUEPAID, *args],
            cwd=REPO_ROOT,
            env={**self.env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=120,
        )
        self.written[f"{name} stdout"] = done.stdout
        self.written[f"{name} stderr"] = done.stderr
        return done

    def page(self, name: str, method: str, url: str, **kwargs: Any) -> requests.Response:
        """Send one request to a hub server (redirects not followed); keep its answer."""
        response = requests.request(method, url, timeout=30, allow_redirects=False, **kwargs)
        self.written[f"{name}: answer"] = f"{response.headers}\n{response.text}"
        return response

    def collect(self) -> None:
        for path in sorted(self.folder.glob("*.log")):
            self.written[path.name] = path.read_text(errors="replace")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def serving(session: Session, name: str, command: list[str]) -> Iterator[str]:
    """Run a hub server process until the block ends; its base URL. Its stdout and
    stderr go to ``NAME.out.log`` and ``NAME.err.log``."""
    port = free_port()
    out = (session.folder / f"{name}.out.log").open("wb")
    err = (session.folder / f"{name}.err.log").open("wb")
    process = subprocess.Popen(
        [part.replace("{port}", str(port)) for part in command],
        cwd=REPO_ROOT,
        env=session.env,
        stdout=out,
        stderr=err,
    )
    base = f"http://127.0.0.1:{port}"

    def answers() -> bool:
        if process.poll() is not None:
            raise AssertionError(f"{name} exited: {(session.folder / f'{name}.err.log').read_text()}")
        try:
            requests.get(f"{base}/return/none/none/ok", timeout=5)
        except requests.ConnectionError:
            return False
        return True

    try:
        wait_until(answers, f"{name} to answer", timeout=60, interval=0.1)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=20)
        out.close()
        err.close()


SERVE = [*BLUEPAID, "serve", "--host", "127.0.0.1", "--port", "{port}"]
GUNICORN = [sys.executable, "-m", "gunicorn", "hub.wsgi:app", "--bind", "127.0.0.1:{port}", "--workers", "1"]
# The production page's command: the access log on stderr.
GUNICORN_DOCUMENTED = [*GUNICORN, "--access-logfile", "-"]
GUNICORN_CONFIGURED = [
    *GUNICORN,
    "-c",
    "python:hub.gunicorn_config",
    "--access-logfile",
    "-",
    # Every part of a request a custom format could print.
    "--access-logformat",
    '%(h)s "%(r)s" %(U)s %(q)s "%({referer}i)s" "%({authorization}i)s" %(s)s',
]


def trigger_sql(dialect: str, on: bool) -> list[str]:
    """Statements making inserts into the inbox fail (``on``) or work again."""
    if dialect == "sqlite":
        if on:
            return [
                "create trigger inbox_down before insert on inbox begin select raise(abort, 'disk full'); end"
            ]
        return ["drop trigger inbox_down"]
    if on:
        return [
            "create function inbox_down() returns trigger language plpgsql as"
            " $$ begin raise exception 'disk full'; end $$",
            "create trigger inbox_down before insert on inbox for each row execute function inbox_down()",
        ]
    return ["drop trigger inbox_down on inbox", "drop function inbox_down()"]


@pytest.fixture
def plugin_site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder with the secret shop's plugin, installed (a dist-info with its entry
    point) for the processes of the session and importable here."""
    site = tmp_path / "site"
    info = site / "secret_shop-1.0.dist-info"
    info.mkdir(parents=True)
    (site / "secret_shop.py").write_text(PLUGIN)
    (site / "sitecustomize.py").write_text(SITECUSTOMIZE)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: secret-shop\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[bluepaid]\nsecret_shop = secret_shop\n")
    monkeypatch.syspath_prepend(str(site))
    return site


@pytest.fixture
def shop_api() -> Iterator[ShopAPI]:
    api = ShopAPI()
    yield api
    if api.thread.is_alive():
        api.stop()


def test_a_session_with_failures_writes_no_secret(
    database_url: str, plugin_site: Path, shop_api: ShopAPI, tmp_path: Path
) -> None:
    url = sa.make_url(database_url)
    if url.get_backend_name() == "postgresql":
        # The test server trusts its clients: the password is not checked, only carried.
        url = url.set(password=DB_PASSWORD)
    database = url.render_as_string(hide_password=False)
    import secret_shop  # type: ignore[import-not-found]  # the plugin_site's module

    config = HubConfig(
        database_url=database,
        secret_key=SECRET_KEY,
        public_url="http://hub.test",
        platform_url="http://platform.test",
        settings_keys=(SETTINGS_KEY,),
        load_plugins=frozenset(),
    )
    hub = build_hub(config, extra_plugins=[secret_shop])
    migrate.upgrade(hub.db)
    # Created here, not with `bluepaid shop add`: printing the URLs to register is that command's job.
    shop = add_shop(
        hub,
        slug="secretshop",
        id_boutique="21573www",
        connector="secret_shop",
        settings={"url": shop_api.url, "api_key": API_KEY},
        allowed_ips=["127.0.0.1"],
    )
    pay = urlsplit(hub.pay_url(shop, "1042"))
    proof = parse_qs(pay.query)["key"][0]
    secrets = {
        "confirmation token": shop.confirm_token,
        "webhook token": shop.webhook_token,
        "shop secret": shop.secret,
        "pay link proof": proof,
        "connector API key": API_KEY,
        "BLUEPAID_SECRET_KEY": SECRET_KEY,
        "BLUEPAID_SETTINGS_KEYS": SETTINGS_KEY,
        "database password": DB_PASSWORD,
    }
    session = Session(
        tmp_path,
        {
            **{k: v for k, v in os.environ.items() if not k.startswith("BLUEPAID_")},
            "PYTHONPATH": os.pathsep.join([str(plugin_site), str(REPO_ROOT)]),
            "BLUEPAID_DATABASE_URL": database,
            "BLUEPAID_SECRET_KEY": SECRET_KEY,
            "BLUEPAID_SETTINGS_KEYS": SETTINGS_KEY,
            "BLUEPAID_PUBLIC_URL": "http://hub.test",
            "BLUEPAID_PLATFORM_URL": "http://platform.test",
            # The shop API listens on 127.0.0.1.
            "BLUEPAID_ALLOW_PRIVATE_ADDRESSES": "1",
        },
    )
    confirm = f"/confirm/secretshop/{shop.confirm_token}"
    pay_link = f"{pay.path}?{pay.query}"

    def inbox_writes(on: bool) -> None:
        with hub.db.engine.begin() as connection:
            for statement in trigger_sql(hub.db.engine.dialect.name, on):
                connection.execute(sa.text(statement))

    def visit(name: str, base: str, body: dict[str, str]) -> None:
        """What a buyer, the platform and strangers do to one server, the inbox failing for a while."""
        session.page(f"{name} pay link", "GET", f"{base}{pay_link}")
        session.page(f"{name} wrong proof", "GET", f"{base}{pay.path}?key=nope")
        session.page(f"{name} wrong token", "POST", f"{base}/confirm/secretshop/{WRONG_TOKEN}", data=body)
        webhook = f"{base}/webhooks/secretshop/{shop.webhook_token}"
        session.page(f"{name} webhook", "POST", webhook, data="{}")
        session.page(f"{name} webhook GET", "GET", webhook)
        inbox_writes(on=True)
        try:
            failed = session.page(f"{name} confirmation, inbox down", "POST", f"{base}{confirm}", data=body)
            assert failed.status_code == 500
        finally:
            inbox_writes(on=False)

    with serving(session, "serve", SERVE) as base:
        started = session.page("serve pay link", "GET", f"{base}{pay_link}")
        assert started.status_code == 302, started.text
        fields = dict(parse_qsl(urlsplit(started.headers["Location"]).query))
        echoed = ("id_client", "id_boutique", "divers", "langue", "montant", "devise")
        body = {"etat": "ok", "mode": "test", "id_trans": "T1000", **{k: fields[k] for k in echoed}}
        accepted = session.page("serve confirmation", "POST", f"{base}{confirm}", data=body)
        assert accepted.status_code == 200, accepted.text
        visit("serve", base, body)
    # A call that succeeds with urllib3 logging it, then the shop goes down.
    assert session.run("shop check", "shop", "check", "secretshop").returncode == 0
    shop_api.stop()
    with serving(session, "gunicorn", GUNICORN_DOCUMENTED) as base:
        visit("gunicorn", base, body)
    with serving(session, "gunicorn -c", GUNICORN_CONFIGURED) as base:
        visit("gunicorn -c", base, body)
        credentials = {"Authorization": f"Bearer {API_KEY}", "Referer": f"http://hub.test{confirm}"}
        session.page("gunicorn -c credentials", "GET", f"{base}{pay_link}", headers=credentials)

    worker = session.run("worker", "worker", "--once", "--json")
    assert json.loads(worker.stdout)[0]["state"] == "pending", worker.stderr
    for name, args in {
        "shop check, shop down": ("shop", "check", "secretshop"),
        "outbox show": ("outbox", "show", "1", "--json"),
        "outbox list": ("outbox", "list", "--json"),
        "payments list": ("payments", "list", "--json"),
        "link create on a shop connector": ("link", "create", "--shop", "secretshop", "--amount", "1.00"),
        "shop set, bad proxy": ("shop", "set", "secretshop", "--proxy", "ftp://nowhere"),
    }.items():
        session.run(name, *args)
    unreachable = f"postgresql+psycopg://hub:{DB_PASSWORD}@127.0.0.1:{free_port()}/hub"
    failed = session.run("database away", "payments", "list", env={"BLUEPAID_DATABASE_URL": unreachable})
    assert failed.returncode == 1
    session.collect()
    with hub.db.engine.connect() as connection:
        for table in table_names(hub.db.engine):
            rows = connection.execute(sa.text(f"select * from {table}")).mappings().all()
            kept = [{k: v for k, v in row.items() if (table, k) not in HOME_OF_SECRETS} for row in rows]
            session.written[f"table {table}"] = repr(kept)
    hub.db.dispose()

    leaks = sorted(
        f"{what} in {where}"
        for what, secret in secrets.items()
        for where, text in session.written.items()
        if secret in text
    )
    assert leaks == [], "secrets written:\n" + "\n".join(leaks)
    # The scan saw the session: its failures were logged.
    assert "Exception on /confirm/secretshop/*** [POST]" in session.written["serve.err.log"]
    assert "could not be reached" in session.written["worker stderr"]


#: Where the hub keeps a shop's own secrets, by design (see the production page).
HOME_OF_SECRETS = {("shops", "secret"), ("shops", "confirm_token"), ("shops", "webhook_token")}


def table_names(engine: sa.Engine) -> list[str]:
    return sorted(sa.inspect(engine).get_table_names())
