"""A hub on a temporary database with one connector under test, and its shop double.

:func:`connector_kit` builds what a connector test needs: a real hub (SQLite
in a temporary folder, or a fresh PostgreSQL schema) that loads the connector
as a plugin, one shop using it with the given settings, a
:class:`~hub.testing.driver.HubDriver` to play the buyer and the platform,
and, when the shop has an HTTP API, a :class:`~hub.testing.shop_double.ShopDouble`
answering for it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet

from bluepaid_plugins import hookimpl
from bluepaid_plugins.connector import Connector
from hub import migrate
from hub.app import create_app
from hub.config import HubConfig
from hub.context import Hub, build_hub
from hub.models import Shop
from hub.orders import HubOrderStore
from hub.shops import add_shop
from hub.testing.clock import FrozenClock
from hub.testing.driver import PLATFORM_IP, HubDriver
from hub.testing.shop_double import ShopDouble

PUBLIC_URL = "http://hub.test"
PLATFORM_URL = "http://platform.test"


class ConnectorPlugin:
    """A plugin object registering the connector classes given (for tests)."""

    def __init__(self, *classes: type[Connector]) -> None:
        self.classes = classes
        self.__name__ = "kit-" + "-".join(cls.__name__ for cls in classes)

    @hookimpl
    def bluepaid_register_connectors(self, register: Callable[[type[Connector]], None]) -> None:
        for cls in self.classes:
            register(cls)


@dataclass
class Kit:
    """Everything a connector test has at hand."""

    hub: Hub
    shop: Shop
    driver: HubDriver
    clock: FrozenClock
    api: ShopDouble | None

    @property
    def orders(self) -> HubOrderStore:
        """The hub's own order store of the shop (for connectors that keep no orders)."""
        return HubOrderStore(self.hub.db, self.shop.id, self.hub.clock)

    @contextmanager
    def connector(self) -> Iterator[Connector]:
        """An instance of the connector for the kit's shop, as the hub builds it."""
        with self.hub.connector(self.shop) as instance:
            yield instance

    def reload_shop(self) -> Shop:
        with self.hub.db.transaction() as session:
            shop = session.get(Shop, self.shop.id)
        assert shop is not None
        self.shop = shop
        self.driver.shop = shop
        return shop


@contextmanager
def connector_kit(
    connector: type[Connector],
    *,
    database_url: str,
    settings: Mapping[str, Any] | None = None,
    shop_url: str = "",
    examples: Path | None = None,
    install: Callable[[ShopDouble], None] | None = None,
    clock: FrozenClock | None = None,
    shop_options: Mapping[str, Any] | None = None,
    plugins: tuple[object, ...] = (),
) -> Iterator[Kit]:
    """A hub with ``connector`` loaded (and no other entry point), one shop using it.

    With ``shop_url``, a shop double answers there while the block runs;
    ``install(double)`` adds its routes before the shop is created (``shop
    add`` does not call the shop here: the suite calls
    ``check_connection`` itself).
    """
    clock = clock or FrozenClock()
    config = HubConfig(
        database_url=database_url,
        secret_key="kit-secret-key-" + "k" * 17,
        public_url=PUBLIC_URL,
        platform_url=PLATFORM_URL,
        settings_keys=(Fernet.generate_key().decode(),),
        # The connector is given here; an installed copy must not clash with it.
        load_plugins=frozenset(),
    )
    with ExitStack() as stack:
        api = None
        if shop_url:
            api = ShopDouble(shop_url, examples)
            if install is not None:
                install(api)
            stack.enter_context(api.running())
        hub = build_hub(config, extra_plugins=(ConnectorPlugin(connector), *plugins), clock=clock)
        stack.callback(hub.db.dispose)
        migrate.upgrade(hub.db)
        options: dict[str, Any] = {
            "slug": "kit",
            "id_boutique": "KIT0001",
            "test_mode": True,
            "allowed_ips": [PLATFORM_IP],
            **(shop_options or {}),
        }
        shop = add_shop(hub, connector=connector.id, settings=dict(settings or {}), **options)
        driver = HubDriver(hub, create_app(hub=hub).test_client(), shop)
        yield Kit(hub, shop, driver, clock, api)
