"""The hub's services, built by a factory and passed around: no module globals."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from bluepaid_plugins.connector import Connector, ConnectorContext, Ownership
from bluepaid_plugins.db import Database
from bluepaid_plugins.domain import ShopView, StatusEvent
from bluepaid_plugins.http import shop_session
from bluepaid_plugins.paylink import pay_url, sign_pay_token
from bluepaid_plugins.settings import Secret
from bluepaid_plugins.tokens import MemoryTokenCache
from hub import mail, redaction
from hub.config import HubConfig
from hub.models import Shop
from hub.orders import HubOrderStore
from hub.plugins import Plugins, guarded, make_plugins
from hub.vault import Vault

Clock = Callable[[], datetime]


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class Hub:
    """Configuration, database, plugins, secrets vault and clock of one hub process."""

    config: HubConfig
    db: Database
    plugins: Plugins
    vault: Vault
    clock: Clock = utcnow
    #: The access tokens shops handed out, lent to every connector instance of this process.
    tokens: MemoryTokenCache = field(init=False)

    def __post_init__(self) -> None:
        self.tokens = MemoryTokenCache(self.clock)

    @contextmanager
    def connector(self, shop: Shop) -> Iterator[Connector]:
        """A connector instance for ``shop``: its settings (secrets opened), its status
        mapping, a safe HTTP session through the shop's proxy if it has one (closed
        when the block ends). The shop's connector secrets are masked in the
        process's logs from then on."""
        cls = self.plugins.connector(shop.connector)

        def pay_url_of(order_ref: str, proof: str = "") -> str:
            return self.pay_url(shop, order_ref, proof)

        session = shop_session(
            allow_private_addresses=self.config.allow_private_addresses, proxy=shop.proxy_url or None
        )
        with session as http:
            context = ConnectorContext(
                shop=shop.slug,
                http=http,
                orders=HubOrderStore(self.db, shop.id, self.clock),
                status_mapping=status_mapping_of(shop),
                pay_url=pay_url_of,
                tokens=self.tokens,
                mail=mail.mailer(self.config),
            )
            settings = self.connector_settings(shop)
            # The connector puts its secrets where the shop wants them (a header, a query,
            # a body): whatever it or a library logs from here on, they are masked.
            redaction.REDACTOR.remember(
                value.reveal() for value in settings.values() if isinstance(value, Secret)
            )
            with guarded(self.plugins.owner(cls.id), f"{cls.__name__}()"):
                instance = cls(settings, context)
            yield instance

    def connector_settings(self, shop: Shop) -> dict[str, Any]:
        """The shop's connector settings, secret ones opened (as Secret values)."""
        return {**shop.connector_settings, **self.vault.open(shop.connector_secrets, f"shop {shop.slug!r}")}

    def pay_url(self, shop: Shop, order_ref: str, proof: str = "", expires: datetime | None = None) -> str:
        """The URL a buyer opens to pay ``order_ref``; with a hub-token connector and
        no ``proof``, the hub signs one (valid until ``expires``, or for ever)."""
        cls = self.plugins.connectors.get(shop.connector)
        if not proof and cls is not None and cls.ownership is Ownership.HUB_TOKEN:
            proof = sign_pay_token(shop.secret, shop.slug, order_ref, expires)
        return pay_url(self.config.public_url, shop.slug, order_ref, proof)

    @staticmethod
    def shop_view(shop: Shop) -> ShopView:
        return ShopView(
            shop.slug,
            shop.id_boutique,
            shop.name,
            shop.connector,
            shop.test_mode,
            shop.language,
            shop.notify_email,
        )


def status_mapping_of(shop: Shop) -> dict[StatusEvent, str | None]:
    """The merchant's changes to the connector's default mapping, by event."""
    return {StatusEvent(event): status for event, status in (shop.status_mapping or {}).items()}


def build_hub(
    config: HubConfig,
    *,
    extra_plugins: Iterable[object] = (),
    clock: Clock = utcnow,
    plugins: Plugins | None = None,
) -> Hub:
    """Build a hub from its configuration: load the plugins (unless ``plugins``
    were already loaded by the caller), open the database and the vault."""
    if plugins is None:
        plugins = make_plugins(
            allow=config.load_plugins,
            strict=config.strict_plugins,
            extra=extra_plugins,
            trace=config.trace_plugins,
        )
    vault = Vault(config.settings_keys)
    return Hub(config=config, db=Database(config.database_url), plugins=plugins, vault=vault, clock=clock)
