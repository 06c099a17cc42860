"""The PrestaShop connector, registered through the ``bluepaid`` entry-point group."""

from __future__ import annotations

from collections.abc import Callable

from bluepaid_plugins import Connector, hookimpl
from connectors.prestashop.connector import PrestaShopConnector


@hookimpl
def bluepaid_register_connectors(register: Callable[[type[Connector]], None]) -> None:
    register(PrestaShopConnector)
