"""The pretix connector, registered through the ``bluepaid`` entry point group.

``pyproject.toml`` names this package (``pretix = "connectors.pretix"``),
exactly as a partner's package would be named: the hub imports it when it
starts and calls the hook below. The connector itself is in
:mod:`connectors.pretix.connector`; the pretix plugin merchants install in
pretix is in ``shop/pretix-bluepaid``.
"""

from __future__ import annotations

from collections.abc import Callable

from bluepaid_plugins import Connector, hookimpl
from connectors.pretix.connector import PretixConnector

__all__ = ["PretixConnector", "bluepaid_register_connectors"]


@hookimpl
def bluepaid_register_connectors(register: Callable[[type[Connector]], None]) -> None:
    register(PretixConnector)
