"""The Shopware 6 connector, registered through the ``bluepaid`` entry point group.

``pyproject.toml`` names this package (``shopware6 = "connectors.shopware6"``),
as a partner's package would be named. The connector is in
:mod:`connectors.shopware6.connector`; the app a merchant installs in the shop
is in ``app/`` beside it.
"""

from __future__ import annotations

from collections.abc import Callable

from bluepaid_plugins import Connector, hookimpl
from connectors.shopware6.connector import ShopwareConnector

__all__ = ["ShopwareConnector", "bluepaid_register_connectors"]


@hookimpl
def bluepaid_register_connectors(register: Callable[[type[Connector]], None]) -> None:
    register(ShopwareConnector)
