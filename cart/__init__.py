"""The built-in simple cart: a catalog per shop, a basket, a checkout, then the
payment through the hub (FAQ 4 and 5), for merchants with no shop software.

A plugin like any other, registered through the ``bluepaid`` entry point group:
the connector (:class:`~cart.connector.CartConnector`, whose orders the hub
keeps) and the pages at ``/cart/<shop>`` (:mod:`cart.views`), which store
orders through the hub's order desk. The catalog and the stock held for orders
are the cart's own tables (:mod:`cart.models`) in the hub's database.
"""

from __future__ import annotations

from collections.abc import Callable

from bluepaid_plugins import Connector, OrderDesks, hookimpl
from cart.connector import CartConnector
from cart.views import cart_blueprint

#: Where the cart's pages are: ``/cart/<shop>``.
URL_PREFIX = "/cart"

__all__ = ["URL_PREFIX", "CartConnector", "cart_blueprint"]


@hookimpl
def bluepaid_register_connectors(register: Callable[[type[Connector]], None]) -> None:
    register(CartConnector)


@hookimpl
def bluepaid_register_blueprints(register: Callable[..., None], orders: OrderDesks) -> None:
    register(cart_blueprint(orders(CartConnector.id)), url_prefix=URL_PREFIX)
