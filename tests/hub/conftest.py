"""A real hub on a real database, and a stand-in for the platform's side of the wire."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from importlib.metadata import entry_points
from typing import Any

import pytest
from flask import Flask

from hub import migrate
from hub.app import create_app
from hub.config import HubConfig
from hub.context import Hub, build_hub
from hub.models import Shop
from hub.shops import add_shop
from hub.testing.driver import PLATFORM_IP, HubDriver, Started
from tests.conftest import FrozenClock

__all__ = ["HubDriver", "Started"]

PLATFORM = "http://platform.test"
PUBLIC = "http://hub.test"
SANDBOX_IP = PLATFORM_IP
# A fixed Fernet key for the connector secrets of test shops.
SETTINGS_KEY = "bGVzdC1rZXktb2YtdGhlLWh1Yi1mb3ItdGVzdHMtMzI="


def built_in_connectors() -> set[str]:
    """The ids of the connectors this project ships (each registered under its own id in
    the ``bluepaid`` entry point group, from the ``connectors`` room, or a room that is
    one connector: the payment form, the cart)."""
    rooms = ("connectors.", "payment_form", "cart")
    return {ep.name for ep in entry_points(group="bluepaid") if ep.value.startswith(rooms)}


@pytest.fixture
def hub(database_url: str, clock: FrozenClock) -> Iterator[Hub]:
    config = HubConfig(
        database_url=database_url,
        secret_key="k" * 32,
        public_url=PUBLIC,
        platform_url=PLATFORM,
        settings_keys=(SETTINGS_KEY,),
    )
    built = build_hub(config, clock=clock)
    migrate.upgrade(built.db)
    yield built
    built.db.dispose()


@pytest.fixture
def app(hub: Hub) -> Flask:
    return create_app(hub=hub)


@pytest.fixture
def shop(hub: Hub) -> Shop:
    return add_shop(hub, slug="demo", id_boutique="21573www", test_mode=True, allowed_ips=[SANDBOX_IP])


@pytest.fixture
def driver(hub: Hub, app: Flask, shop: Shop) -> HubDriver:
    return HubDriver(hub, app.test_client(), shop)


MakeDriver = Callable[..., HubDriver]


@pytest.fixture
def make_driver(database_url: str, clock: FrozenClock) -> Iterator[MakeDriver]:
    """Build a hub with extra plugin objects and one shop.

    ``config`` (a dict) overrides HubConfig fields; other keywords override the
    shop's options.
    """
    hubs: list[Hub] = []

    def make(*plugins: object, config: dict[str, Any] | None = None, **shop_options: Any) -> HubDriver:
        settings: dict[str, Any] = {
            "database_url": database_url,
            "secret_key": "k" * 32,
            "public_url": PUBLIC,
            "platform_url": PLATFORM,
            "settings_keys": (SETTINGS_KEY,),
            **(config or {}),
        }
        hub = build_hub(HubConfig(**settings), extra_plugins=plugins, clock=clock)
        hubs.append(hub)
        migrate.upgrade(hub.db)
        options: dict[str, Any] = {
            "slug": "demo",
            "id_boutique": "21573www",
            "test_mode": True,
            "allowed_ips": [SANDBOX_IP],
        }
        options.update(shop_options)
        shop = add_shop(hub, **options)
        return HubDriver(hub, create_app(hub=hub).test_client(), shop)

    yield make
    for hub in hubs:
        hub.db.dispose()
