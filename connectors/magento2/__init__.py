"""The Magento 2 connector, registered through the ``bluepaid`` entry point group.

``pyproject.toml`` names this package (``magento2 = "connectors.magento2"``), as
a partner's package would be named. The connector is in
:mod:`connectors.magento2.connector`; the payment module a merchant installs in
the shop is in ``shop/`` beside it.
"""

from __future__ import annotations

from collections.abc import Callable

from bluepaid_plugins import Connector, hookimpl
from connectors.magento2.connector import MagentoConnector

__all__ = ["MagentoConnector", "bluepaid_register_connectors"]


@hookimpl
def bluepaid_register_connectors(register: Callable[[type[Connector]], None]) -> None:
    register(MagentoConnector)
