"""The built-in payment form: a page per shop where a buyer with no order says what
they pay, then pays through the hub (FAQ 4 and 5).

A plugin like any other, registered through the ``bluepaid`` entry point group:
the connector (:class:`~payment_form.connector.PaymentFormConnector`, whose
orders the hub keeps) and the page at ``/form/<shop>``
(:mod:`payment_form.views`), which stores orders through the hub's order desk.
"""

from __future__ import annotations

from collections.abc import Callable

from bluepaid_plugins import Connector, OrderDesks, hookimpl
from payment_form.connector import PaymentFormConnector
from payment_form.views import form_blueprint

#: Where the form's pages are: ``/form/<shop>``.
URL_PREFIX = "/form"

__all__ = ["URL_PREFIX", "PaymentFormConnector", "form_blueprint"]


@hookimpl
def bluepaid_register_connectors(register: Callable[[type[Connector]], None]) -> None:
    register(PaymentFormConnector)


@hookimpl
def bluepaid_register_blueprints(register: Callable[..., None], orders: OrderDesks) -> None:
    register(form_blueprint(orders(PaymentFormConnector.id)), url_prefix=URL_PREFIX)
