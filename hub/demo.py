"""``bluepaid demo``: the hub and the sandbox platform on SQLite, in one command.

Everything lives in one local folder: the hub's database, the sandbox's
database and a generated secret key. Running it again reuses them.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import click
from sqlalchemy import select

from bluepaid_plugins.errors import NotFound
from bluepaid_plugins.money import Money
from hub import migrate
from hub.app import create_app
from hub.config import HubConfig
from hub.context import Hub, build_hub
from hub.models import LinkOrder, Shop
from hub.orders import create_link_order
from hub.outbox import Worker
from hub.serving import start_server
from hub.shops import add_shop
from hub.urls import confirmation_url
from hub.vault import new_key
from sandbox.accounts import add_account, get_account
from sandbox.app import create_sandbox_app
from sandbox.cli import background_loop, print_test_cards
from sandbox.config import SandboxConfig
from sandbox.platform import Platform
from sandbox.serving import checked_listen_host

ID_BOUTIQUE = "DEMO1234"
DEMO_LINKS = (("12.50", "Demo T-shirt"), ("49.90", "Demo hoodie"), ("3.00", "Demo sticker pack"))


@dataclass
class Demo:
    hub: Hub
    platform: Platform
    shop: Shop
    hub_port: int
    sandbox_port: int
    folder: Path


def _kept(folder: Path, name: str, make: Callable[[], str]) -> str:
    """The secret kept in ``folder/name``, made by ``make`` on the first run."""
    key_file = folder / name
    if not key_file.exists():
        key_file.write_text(make())
        key_file.chmod(0o600)
    return key_file.read_text().strip()


def setup_demo(folder: Path, hub_port: int, sandbox_port: int) -> Demo:
    """Open (creating if needed) the demo's databases, shop, links and sandbox account."""
    folder.mkdir(parents=True, exist_ok=True)
    secret = _kept(folder, "secret_key", lambda: secrets.token_hex(32))
    settings_key = _kept(folder, "settings_key", new_key)
    hub_url, sandbox_url = f"http://127.0.0.1:{hub_port}", f"http://127.0.0.1:{sandbox_port}"
    hub = build_hub(
        HubConfig(
            database_url=f"sqlite:///{(folder / 'hub.sqlite3').resolve()}",
            secret_key=secret,
            public_url=hub_url,
            platform_url=sandbox_url,
            settings_keys=(settings_key,),
        )
    )
    platform = Platform(
        SandboxConfig(
            database_url=f"sqlite:///{(folder / 'sandbox.sqlite3').resolve()}",
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
            name="Boutique de démo",
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
    try:
        get_account(platform, ID_BOUTIQUE)
    except NotFound:
        add_account(
            platform,
            ID_BOUTIQUE,
            name="Boutique de démo",
            referrer_url=hub_url,
            url_confirmation=confirmation_url(hub, shop),
            merchant_email="marchand@demo.invalid",
        )
    return Demo(hub, platform, shop, hub_port, sandbox_port, folder.resolve())


def print_demo(demo: Demo) -> None:
    with demo.hub.db.transaction() as session:
        links = session.scalars(
            select(LinkOrder).where(LinkOrder.shop_id == demo.shop.id).order_by(LinkOrder.id)
        ).all()
    click.echo("\nBluepaid demo (test mode)\n")
    click.echo(f"  hub              : http://127.0.0.1:{demo.hub_port}/")
    click.echo(f"  sandbox console  : http://127.0.0.1:{demo.sandbox_port}/console/")
    click.echo("  payment links    :")
    for order in links:
        link = demo.hub.pay_url(demo.shop, order.ref)
        click.echo(f"    {order.description:<20} {order.amount!s:>6} {order.currency}  {link}")
    click.echo("")
    print_test_cards()
    click.echo(f"\n  BLUEPAID_DATABASE_URL=sqlite:///{demo.folder / 'hub.sqlite3'} bluepaid payments list")


def run_demo(folder: str, hub_port: int = 5000, sandbox_port: int = 5001, *, serve: bool = True) -> None:
    """Set up the demo and, with ``serve``, run hub, worker and sandbox until Ctrl-C."""
    demo = setup_demo(Path(folder), hub_port, sandbox_port)
    print_demo(demo)
    if not serve:
        return
    stop = threading.Event()
    threading.Thread(target=Worker(demo.hub).run_forever, args=(stop,), daemon=True, name="outbox").start()
    threading.Thread(target=background_loop, args=(demo.platform, stop), daemon=True, name="sandbox").start()
    servers = [
        start_server(create_app(hub=demo.hub), "127.0.0.1", hub_port),
        start_server(
            create_sandbox_app(platform=demo.platform),
            checked_listen_host("127.0.0.1", demo.platform.config.public_url),
            sandbox_port,
        ),
    ]
    click.echo(f"\nrunning: open http://127.0.0.1:{hub_port}/pay/demo/… above — Ctrl-C to stop", err=True)
    try:
        servers[0][1].join()
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
        for server, _thread in servers:
            server.shutdown()
