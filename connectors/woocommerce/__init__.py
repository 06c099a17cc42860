"""The WooCommerce connector, registered through the ``bluepaid`` entry point group.

``pyproject.toml`` names this package (``woocommerce = "connectors.woocommerce"``),
exactly as a partner's package would be named: the hub imports it when it
starts and calls the hook below. The connector itself is in
:mod:`connectors.woocommerce.connector`.
"""

from __future__ import annotations

from collections.abc import Callable

from bluepaid_plugins import Connector, hookimpl
from connectors.woocommerce.connector import WooCommerceConnector

__all__ = ["WooCommerceConnector", "bluepaid_register_connectors"]


@hookimpl
def bluepaid_register_connectors(register: Callable[[type[Connector]], None]) -> None:
    register(WooCommerceConnector)
