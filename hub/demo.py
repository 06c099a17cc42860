"""``bluepaid demo``: the hub and the sandbox platform on SQLite, in one command.

Everything lives in one local folder: the hub's database, the sandbox's
database and two generated keys. Running it again reuses them, and first
brings what they hold in line with the run: the shop's platform URL, the
sandbox account's confirmation URL and referrer follow the ports of this run
(the hub's public URL is this run's), so a demo moved to other ports still
gets its confirmations. ``--fresh`` deletes the folder's demo files first.

With ``--catalog products.csv``, the demo also runs the built-in cart: a second
shop (``boutique``, its own sandbox account) whose catalog is the file's,
imported again on each run, so a merchant with only a CSV of products makes a
test sale in their own cart.

Served, the hub is ``bluepaid serve`` in a child process (a production WSGI
server: :mod:`hub.serving`), and this process runs the outbox worker and the
sandbox (:func:`sandbox.cli.start_sandbox_server`) until Ctrl-C or SIGTERM.
Both ports are checked before anything is printed: a busy one is one line
naming the option to change it.
"""

from __future__ import annotations

import os
import secrets
import shlex
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import click
from sqlalchemy import select

from bluepaid_plugins.errors import ConfigurationError, NotFound
from bluepaid_plugins.money import Money
from cart.catalog import ProductRow, import_catalog, parse_catalog
from hub import migrate
from hub.config import HubConfig
from hub.context import Hub, build_hub
from hub.models import LinkOrder, Shop
from hub.orders import create_link_order
from hub.outbox import Worker
from hub.serving import stop_child
from hub.shops import add_shop
from hub.urls import confirmation_url
from hub.vault import new_key
from sandbox.accounts import add_account, get_account, set_account
from sandbox.cli import background_loop, print_test_cards, start_sandbox_server
from sandbox.config import SandboxConfig
from sandbox.platform import Platform
from sandbox.serving import bind, check_free, run_until_stopped

ID_BOUTIQUE = "DEMO1234"
DEMO_NAME = "Boutique de démo"
DEMO_MAIL = "marchand@demo.invalid"
#: The cart's shop when the demo runs with ``--catalog``: its slug and its sandbox account.
CART_SLUG = "boutique"
CART_ID_BOUTIQUE = "DEMOCART1"
CART_NAME = "Boutique de démo (panier)"
DEMO_LINKS = (("12.50", "Demo T-shirt"), ("49.90", "Demo hoodie"), ("3.00", "Demo sticker pack"))
#: The demo listens on loopback only: the sandbox's console has no login.
HOST = "127.0.0.1"
#: Every file a demo folder holds; ``--fresh`` deletes these and nothing else.
DEMO_FILES = (
    *(f"{db}{end}" for db in ("hub.sqlite3", "sandbox.sqlite3") for end in ("", "-wal", "-shm", "-journal")),
    "secret_key",
    "settings_key",
)
#: Seconds the hub's process may take to answer once started.
START_TIMEOUT = 60.0


@dataclass(frozen=True)
class DemoOptions:
    """What ``bluepaid demo`` was asked: the folder, the ports, the hub's workers."""

    folder: Path = Path("bluepaid-demo")
    hub_port: int = 5000
    sandbox_port: int = 5001
    workers: int = 2
    fresh: bool = False
    serve: bool = True
    catalog: Path | None = None


@dataclass
class Demo:
    hub: Hub
    platform: Platform
    shop: Shop
    hub_port: int
    sandbox_port: int
    folder: Path
    cart: Shop | None = None


def _kept(folder: Path, name: str, make: Callable[[], str]) -> str:
    """The secret kept in ``folder/name``, made by ``make`` on the first run."""
    key_file = folder / name
    if not key_file.exists():
        key_file.write_text(make())
        key_file.chmod(0o600)
    return key_file.read_text().strip()


def start_afresh(folder: Path) -> None:
    """Delete the demo's files in ``folder`` (:data:`DEMO_FILES`), nothing else of it."""
    deleted = [path for path in (folder / name for name in DEMO_FILES) if path.exists()]
    for path in deleted:
        path.unlink()
    if deleted:
        click.echo(f"starting afresh: deleted the demo's databases and keys in {folder}", err=True)


def setup_demo(folder: Path, hub_port: int, sandbox_port: int, catalog: Path | None = None) -> Demo:
    """Open (creating if needed) the demo's databases, shop, links and sandbox account,
    and bring the shop and the account in line with ``hub_port`` and ``sandbox_port``;
    with ``catalog``, the cart's shop too, its products read from that CSV file
    (ValidationError naming every bad row, before anything is changed)."""
    rows = _catalog_rows(catalog) if catalog is not None else None
    folder.mkdir(parents=True, exist_ok=True)
    folder = folder.resolve()
    secret = _kept(folder, "secret_key", lambda: secrets.token_hex(32))
    settings_key = _kept(folder, "settings_key", new_key)
    hub_url, sandbox_url = f"http://{HOST}:{hub_port}", f"http://{HOST}:{sandbox_port}"
    hub = build_hub(
        HubConfig(
            database_url=f"sqlite:///{folder / 'hub.sqlite3'}",
            secret_key=secret,
            public_url=hub_url,
            platform_url=sandbox_url,
            settings_keys=(settings_key,),
        )
    )
    platform = Platform(
        SandboxConfig(
            database_url=f"sqlite:///{folder / 'sandbox.sqlite3'}",
            public_url=sandbox_url,
            secret_key=secret,
        )
    )
    click.echo(f"databases: {folder / 'hub.sqlite3'}, {folder / 'sandbox.sqlite3'}", err=True)
    migrate.upgrade(hub.db)
    with hub.db.transaction() as session:
        shop = session.scalar(select(Shop).where(Shop.slug == "demo"))
    if shop is None:
        click.echo("creating the demo shop, its payment links and its sandbox account…", err=True)
        # POST redirect: the buyer reaches the platform from the hub's page, so the
        # sandbox's referrer check (FAQ 23) sees the registered referrer.
        shop = add_shop(
            hub,
            slug="demo",
            name=DEMO_NAME,
            id_boutique=ID_BOUTIQUE,
            test_mode=True,
            allowed_ips=["127.0.0.1", "::1"],
            platform_url=sandbox_url,
            redirect_method="post",
        )
        for amount, description in DEMO_LINKS:
            create_link_order(
                hub.db,
                shop,
                Money.parse(amount, "EUR"),
                now=hub.clock(),
                description=description,
                language="FR",
            )
    demo = Demo(hub, platform, shop, hub_port, sandbox_port, folder)
    if rows is not None:
        demo.cart = _cart_shop(hub, sandbox_url)
        created, updated = import_catalog(hub.db, CART_SLUG, rows)
        click.echo(f"catalog: {created} new product(s), {updated} updated", err=True)
    demo.shop = _align(demo, demo.shop, ID_BOUTIQUE, DEMO_NAME)
    if demo.cart is not None:
        demo.cart = _align(demo, demo.cart, CART_ID_BOUTIQUE, CART_NAME)
    return demo


def _catalog_rows(path: Path) -> list[ProductRow]:
    """The products of the CSV file at ``path``, in euros, every value checked."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigurationError(f"cannot read the catalog {path}: {exc}") from exc
    return parse_catalog(text.splitlines(keepends=True), "EUR")


def _cart_shop(hub: Hub, sandbox_url: str) -> Shop:
    """The demo's cart shop, created on the first run with a catalog."""
    with hub.db.transaction() as session:
        found = session.scalar(select(Shop).where(Shop.slug == CART_SLUG))
    if found is not None:
        return found
    click.echo("creating the demo cart's shop and its sandbox account…", err=True)
    return add_shop(
        hub,
        slug=CART_SLUG,
        name=CART_NAME,
        id_boutique=CART_ID_BOUTIQUE,
        connector="cart",
        settings={"shipping_fee": "4.90", "shipping_vat_rate": "20", "buyer_mail_name": CART_NAME},
        test_mode=True,
        allowed_ips=["127.0.0.1", "::1"],
        platform_url=sandbox_url,
        redirect_method="post",
        # The hub's return page leads back to the buyer's orders in the cart.
        return_url=f"{hub.config.public_url}/cart/{CART_SLUG}/orders",
    )


def _align(demo: Demo, shop: Shop, id_boutique: str, name: str) -> Shop:
    """Point ``shop`` at this run's sandbox and hub (its pages, its return URL), and its
    sandbox account ``id_boutique`` at this run's hub; the shop as it now is."""
    hub_url, sandbox_url = demo.hub.config.public_url, demo.platform.config.public_url
    moved = []
    with demo.hub.db.transaction() as session:
        found = session.scalars(select(Shop).where(Shop.id == shop.id).with_for_update()).one()
        if found.platform_url != sandbox_url:
            moved.append(f"shop {found.slug} pays on {sandbox_url}")
            found.platform_url = sandbox_url
        if found.connector == "cart" and found.return_url != f"{hub_url}/cart/{found.slug}/orders":
            found.return_url = f"{hub_url}/cart/{found.slug}/orders"
    wanted = {"referrer_url": hub_url, "url_confirmation": confirmation_url(demo.hub, found)}
    try:
        account = get_account(demo.platform, id_boutique)
    except NotFound:
        add_account(demo.platform, id_boutique, name=name, merchant_email=DEMO_MAIL, **wanted)
        return found
    changes = {key: value for key, value in wanted.items() if getattr(account, key) != value}
    if changes:
        set_account(demo.platform, id_boutique, **changes)
        # Named, not printed: the confirmation URL carries the shop's secret token.
        moved.append(f"sandbox account {id_boutique} confirms to and expects buyers from {hub_url}")
    if moved:
        click.echo(f"this run's ports: {'; '.join(moved)}", err=True)
    return found


def bluepaid_command() -> str:
    """How to run ``bluepaid`` from any shell, its virtualenv activated or not: the
    absolute path of the running script, else the one beside this Python, else
    this Python with ``-m hub.cli``; quoted for a POSIX shell."""
    script = Path(sys.argv[0])
    if script.name == "bluepaid" and script.is_file():
        return shlex.quote(str(script.absolute()))
    beside = Path(sys.executable).parent / ("bluepaid.exe" if os.name == "nt" else "bluepaid")
    if beside.is_file():
        return shlex.quote(str(beside))
    return f"{shlex.quote(sys.executable)} -m hub.cli"


def _options_of(demo: Demo) -> str:
    """The options that run this demo again: its folder, and its ports when not the defaults."""
    words = ["--dir", str(demo.folder)]
    defaults = DemoOptions()
    if demo.hub_port != defaults.hub_port:
        words += ["--port", str(demo.hub_port)]
    if demo.sandbox_port != defaults.sandbox_port:
        words += ["--sandbox-port", str(demo.sandbox_port)]
    return shlex.join(words)


def print_demo(demo: Demo) -> None:
    """Print the addresses, each payment link with its order's state, the test cards,
    and commands that work pasted as they are."""
    with demo.hub.db.transaction() as session:
        links = session.scalars(
            select(LinkOrder).where(LinkOrder.shop_id == demo.shop.id).order_by(LinkOrder.id)
        ).all()
    click.echo(f"\nBluepaid demo (test mode) in {demo.folder}\n")
    click.echo(f"  hub              : http://{HOST}:{demo.hub_port}/")
    click.echo(f"  sandbox console  : http://{HOST}:{demo.sandbox_port}/console/")
    if demo.cart is not None:
        click.echo(f"  your cart        : http://{HOST}:{demo.hub_port}/cart/{demo.cart.slug}")
    click.echo("  payment links    : (a paid link cannot be paid again: start afresh, below)")
    width = max((len(order.status) for order in links), default=0)
    for order in links:
        link = demo.hub.pay_url(demo.shop, order.ref)
        state = f"{order.status:<{width}}"
        click.echo(f"    {order.description:<20} {order.amount!s:>6} {order.currency}  {state}  {link}")
    click.echo("")
    print_test_cards()
    bluepaid = bluepaid_command()
    database = shlex.quote(f"sqlite:///{demo.folder / 'hub.sqlite3'}")
    click.echo("\n  payments     : " + f"BLUEPAID_DATABASE_URL={database} {bluepaid} payments list")
    click.echo(f"  start afresh : {bluepaid} demo --fresh {_options_of(demo)}  (or delete the folder)")


def _hub_environment(config: HubConfig) -> dict[str, str]:
    """The environment of the hub's process: this one's, with the demo's configuration
    in place of any ``BLUEPAID_*`` setting (the demo is configured by its folder only)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BLUEPAID_") or k == "BLUEPAID_DEBUG"}
    env.update(
        {
            "BLUEPAID_DATABASE_URL": config.database_url,
            "BLUEPAID_SECRET_KEY": config.secret_key,
            "BLUEPAID_PUBLIC_URL": config.public_url,
            "BLUEPAID_PLATFORM_URL": config.platform_url,
            "BLUEPAID_SETTINGS_KEYS": ",".join(config.settings_keys),
        }
    )
    return env


def _answers(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex((HOST, port)) == 0


def _wait_for_hub(child: subprocess.Popen[bytes], port: int) -> None:
    """Return once the hub's process accepts connections; ConfigurationError if it exits first."""
    deadline = time.monotonic() + START_TIMEOUT
    while not _answers(port):
        if child.poll() is not None:
            raise ConfigurationError(f"the hub did not start (status {child.returncode}): see above")
        if time.monotonic() > deadline:
            raise ConfigurationError(f"the hub did not answer on port {port} within {START_TIMEOUT:.0f} s")
        time.sleep(0.1)


def serve_demo(demo: Demo, workers: int, sandbox_socket: socket.socket) -> None:
    """Serve the hub (a child process), the sandbox on ``sandbox_socket`` and the outbox
    worker until Ctrl-C or SIGTERM; ConfigurationError if the hub stops on an error."""
    stop = threading.Event()
    loops = [
        threading.Thread(target=Worker(demo.hub).run_forever, args=(stop,), name="outbox"),
        threading.Thread(target=background_loop, args=(demo.platform, stop), name="sandbox"),
    ]
    sandbox = start_sandbox_server(demo.platform, sandbox_socket)
    try:
        # Our own command, by this Python: nothing in it comes from outside.
        child = subprocess.Popen(  # noqa: S603
            [
                sys.executable,
                "-m",
                "hub.cli",
                "serve",
                "--host",
                HOST,
                "--port",
                str(demo.hub_port),
                "--workers",
                str(workers),
            ],
            env=_hub_environment(demo.hub.config),
        )
        try:
            _wait_for_hub(child, demo.hub_port)
            for loop in loops:
                loop.start()
            click.echo("\nrunning: open a payment link above — Ctrl-C to stop", err=True)
            run_until_stopped(stop, threads=loops, running=lambda: child.poll() is None)
        finally:
            # A hub that ended before being told to (not Ctrl-C: gunicorn ends with 0 then).
            failed = child.poll() not in (None, 0)
            stop_child(child)
    finally:
        sandbox.stop()
    if failed:
        raise ConfigurationError(f"the hub stopped (status {child.returncode}): see its messages above")


def run_demo(options: DemoOptions) -> None:
    """Set up the demo as ``options`` say, print it and, with ``options.serve``, serve it
    until Ctrl-C. ConfigurationError, before anything is printed, for a port in use."""
    sandbox_socket = None
    if options.serve:
        if options.hub_port == options.sandbox_port:
            raise ConfigurationError("--port and --sandbox-port must differ")
        check_free(HOST, options.hub_port, option="--port", avoid=[options.sandbox_port])
        sandbox_socket = bind(HOST, options.sandbox_port, option="--sandbox-port", avoid=[options.hub_port])
    try:
        if options.fresh:
            start_afresh(options.folder)
        demo = setup_demo(options.folder, options.hub_port, options.sandbox_port, options.catalog)
        print_demo(demo)
    except BaseException:
        if sandbox_socket is not None:
            sandbox_socket.close()
        raise
    if sandbox_socket is not None:
        serve_demo(demo, options.workers, sandbox_socket)
