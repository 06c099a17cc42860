"""``bluepaid demo``: a working hub on SQLite in a local folder, in one command."""

from __future__ import annotations

import secrets
import threading
from pathlib import Path

import click
from sqlalchemy import select
from werkzeug.serving import make_server

from bluepaid_plugins.money import Money
from hub import migrate
from hub.app import create_app
from hub.config import HubConfig
from hub.context import Hub, build_hub
from hub.models import LinkOrder, Shop
from hub.orders import create_link_order
from hub.outbox import Worker
from hub.pay import confirmation_url, pay_url_template
from hub.shops import add_shop

DEMO_LINKS = (("12.50", "Demo T-shirt"), ("49.90", "Demo hoodie"), ("3.00", "Demo sticker pack"))


def demo_hub(folder: Path, port: int, platform_url: str) -> Hub:
    """Open (creating if needed) the demo's database and shop in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    key_file = folder / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_hex(32))
        key_file.chmod(0o600)
    config = HubConfig(
        database_url=f"sqlite:///{(folder / 'hub.sqlite3').resolve()}",
        secret_key=key_file.read_text().strip(),
        public_url=f"http://127.0.0.1:{port}",
        platform_url=platform_url,
        allow_private_redirects=True,
    )
    hub = build_hub(config)
    click.echo(f"database: {folder / 'hub.sqlite3'}", err=True)
    migrate.upgrade(hub.db)
    with hub.db.transaction() as session:
        shop = session.scalar(select(Shop).where(Shop.slug == "demo"))
    if shop is None:
        click.echo("creating the demo shop and payment links…", err=True)
        shop = add_shop(
            hub,
            slug="demo",
            name="Boutique de démo",
            id_boutique="DEMO1234",
            test_mode=True,
            allowed_ips=["127.0.0.1", "::1"],
            platform_url=platform_url,
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
    return hub


def run_demo(folder: str, port: int, *, serve: bool = True, platform_url: str = "") -> None:
    """Set up the demo and, with ``serve``, run the hub and its worker until Ctrl-C."""
    hub = demo_hub(Path(folder), port, platform_url or HubConfig().platform_url)
    with hub.db.transaction() as session:
        shop = session.scalar(select(Shop).where(Shop.slug == "demo"))
        assert shop is not None
        links = session.scalars(
            select(LinkOrder).where(LinkOrder.shop_id == shop.id).order_by(LinkOrder.id)
        ).all()
    template = pay_url_template(hub, shop)
    click.echo("\nBluepaid hub demo (test mode)\n")
    click.echo(f"  confirmation URL : {confirmation_url(hub, shop)}")
    click.echo(f"  platform         : {shop.platform_url}")
    click.echo("  payment links    :")
    for order in links:
        click.echo(
            f"    {order.description:<20} {order.amount} {order.currency}"
            f"  {template.format(order_ref=order.ref)}"
        )
    click.echo("\n  bluepaid payments list   shows the payments (BLUEPAID_DATABASE_URL set to the demo's)")
    if not serve:
        return
    app = create_app(hub=hub)
    stop = threading.Event()
    threading.Thread(target=Worker(hub).run_forever, args=(stop,), daemon=True, name="outbox").start()
    server = make_server("127.0.0.1", port, app, threaded=True)
    click.echo(f"\nhub and worker running on http://127.0.0.1:{port}/ — Ctrl-C to stop", err=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
        server.server_close()
