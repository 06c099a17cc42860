"""The hub's services, built by a factory and passed around: no module globals."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from bluepaid_plugins.connector import Connector, ConnectorContext
from bluepaid_plugins.db import Database
from bluepaid_plugins.domain import ShopView
from bluepaid_plugins.http import shop_session
from hub.config import HubConfig
from hub.models import Shop
from hub.orders import LinkOrderStore
from hub.plugins import Plugins, make_plugins

Clock = Callable[[], datetime]


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class Hub:
    """Configuration, database, plugins and clock of one hub process."""

    config: HubConfig
    db: Database
    plugins: Plugins
    clock: Clock = utcnow

    def connector_for(self, shop: Shop) -> Connector:
        """A connector instance for ``shop``, with its settings and a safe HTTP session."""
        cls = self.plugins.connector(shop.connector)
        context = ConnectorContext(
            shop=shop.slug,
            http=shop_session(allow_private_redirects=self.config.allow_private_redirects),
            orders=LinkOrderStore(self.db, shop.id, self.clock),
        )
        return cls(shop.connector_settings, context)

    @staticmethod
    def shop_view(shop: Shop) -> ShopView:
        return ShopView(shop.slug, shop.id_boutique, shop.name, shop.connector, shop.test_mode)


def build_hub(
    config: HubConfig,
    *,
    extra_plugins: Iterable[object] = (),
    clock: Clock = utcnow,
    plugins: Plugins | None = None,
) -> Hub:
    """Build a hub from its configuration: load the plugins (unless ``plugins``
    were already loaded by the caller) and open the database."""
    if plugins is None:
        plugins = make_plugins(allow=config.load_plugins, strict=config.strict_plugins, extra=extra_plugins)
    return Hub(config=config, db=Database(config.database_url), plugins=plugins, clock=clock)
