"""The PrestaShop connector: orders read and updated through the shop's webservice.

Reading an order takes six small GETs (the webservice has no joins): the order
with its lines, then only the fields needed of its customer, delivery address,
country, currency and language. Payment events become new ``order_histories``
rows, which is how PrestaShop itself changes an order's state (stock, invoice,
e-mails, and for a "paid" state the ``order_payments`` row, which then gets the
transaction number), and a private message on the order carrying the
transaction number (see :mod:`connectors.prestashop.notes`).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar

from bluepaid_plugins import Capability, Connector, ConnectorContext, Ownership, StatusEvent
from bluepaid_plugins.countries import alpha3
from bluepaid_plugins.domain import Customer, EventKind, LineItem, Order, OrderStatus, PaymentEvent
from bluepaid_plugins.errors import OrderNotFound, ShopRefused, ShopUnavailable, ValidationError
from bluepaid_plugins.money import Money
from connectors.prestashop import settings as config
from connectors.prestashop.api import LABEL, Webservice
from connectors.prestashop.notes import add_note
from connectors.prestashop.xml import document, text

#: What the webservice key must be allowed to do, resource by resource.
PERMISSIONS: Mapping[str, tuple[str, ...]] = {
    "orders": ("get",),
    "order_histories": ("post",),
    "order_payments": ("get", "put"),
    "customer_threads": ("get", "post"),
    "customer_messages": ("get", "post"),
    "customers": ("get",),
    "addresses": ("get",),
    "countries": ("get",),
    "currencies": ("get",),
    "languages": ("get",),
}

_STATUS_OF_EVENT = {
    StatusEvent.PAID: OrderStatus.PAID,
    StatusEvent.REFUSED: OrderStatus.FAILED,
    StatusEvent.CANCELLED: OrderStatus.CANCELLED,
    StatusEvent.PARTIALLY_REFUNDED: OrderStatus.PARTIALLY_REFUNDED,
    StatusEvent.REFUNDED: OrderStatus.REFUNDED,
}


class PrestaShopConnector(Connector):
    """PrestaShop 1.6 to 8.x, through its webservice (``/api/``, XML)."""

    id = "prestashop"
    label = LABEL
    version = "1.0"
    contract = ">=1.0,<2"
    ownership = Ownership.SHOP_SECRET
    capabilities = frozenset({Capability.REFUNDS, Capability.PARTIAL_REFUNDS})
    settings_schema = config.SCHEMA
    statuses: ClassVar[Mapping[str, str]] = config.STATES
    # A state the merchant or a module added, or an installation whose ids differ: its id.
    custom_statuses = r"[1-9][0-9]*"
    default_status_mapping: ClassVar[Mapping[StatusEvent, str | None]] = config.DEFAULT_MAPPING

    def __init__(self, settings: Mapping[str, Any], context: ConnectorContext) -> None:
        super().__init__(settings, context)
        self.api = Webservice(
            context.http,
            self.settings["base_url"],
            self.settings["webservice_key"],
            timeout=self.settings["timeout"],
            verify_tls=self.settings["verify_tls"],
        )
        self.read_states = self._read_states()

    @classmethod
    def validate_settings(cls, raw: Mapping[str, Any]) -> dict[str, Any]:
        """The base class's checks, and ``payable_states`` must be state ids."""
        clean = super().validate_settings(raw)
        config.state_ids(clean["payable_states"])
        return clean

    def _read_states(self) -> dict[str, OrderStatus]:
        """State id to OrderStatus: the installed states, the merchant's mapped ones, the payable ones."""
        read = dict(config.READ_STATES)
        for event, status in _STATUS_OF_EVENT.items():
            state = self.status_mapping.get(event)
            if state is not None:
                read[state] = status
        read.update(dict.fromkeys(config.state_ids(self.settings["payable_states"]), OrderStatus.OPEN))
        return read

    def status_of(self, state: str) -> OrderStatus:
        """What order state ``state`` means for a payment.

        A state the connector cannot place (a module's own, not listed as payable)
        is on hold: not to be paid here, yet not closed either.
        """
        return self.read_states.get(state, OrderStatus.ON_HOLD)

    # Orders

    def fetch_order(self, ref: str) -> Order:
        """The order whose id is ``ref``, with its ``secure_key`` as the buyer's proof."""
        order = self._order(ref)
        currency = self._field(
            "currencies", text(order, "id_currency"), "iso_code", f"the currency of order {ref}"
        )
        total = _money(text(order, "total_paid"), currency, ref)
        customer = self._one(
            "customers",
            text(order, "id_customer"),
            "email,firstname,lastname",
            f"the customer of order {ref}",
        )
        country_id = self._field(
            "addresses",
            text(order, "id_address_delivery"),
            "id_country",
            f"the delivery address of order {ref}",
        )
        country = self._field("countries", country_id, "iso_code", f"the delivery country of order {ref}")
        language = self._field(
            "languages", text(order, "id_lang"), "iso_code", f"the language of order {ref}"
        )
        return Order(
            ref=ref,
            total=total,
            status=self.status_of(text(order, "current_state")),
            customer=Customer(
                email=text(customer, "email"),
                first_name=text(customer, "firstname"),
                last_name=text(customer, "lastname"),
                country=alpha3(country),
            ),
            items=tuple(_line(row, ref) for row in order.iterfind("associations/order_rows/order_row")),
            description=f"{LABEL} order {text(order, 'reference')}".strip(),
            language=language.upper(),
            secret=text(order, "secure_key"),
        )

    def _order(self, ref: str) -> ET.Element:
        # Only an id reaches the URL: a ref such as "5/../customers/1" names no order.
        if not (ref.isascii() and ref.isdigit()):
            raise OrderNotFound(f"{LABEL} order ids are numbers, not {ref[:40]!r}")
        order = self.api.get(f"orders/{ref}", f"order {ref}").find("order")
        if order is None:
            raise ShopRefused(f"{LABEL} answered order {ref} without an <order>")
        return order

    def _one(self, resource: str, id_: str, fields: str, what: str) -> ET.Element | None:
        """The fields ``fields`` of ``resource`` ``id_``; None when the shop has no such row."""
        if not (id_.isascii() and id_.isdigit()) or id_ == "0":
            return None
        root = self.api.get(resource, what, {"filter[id]": f"[{id_}]", "display": f"[id,{fields}]"})
        return root.find(f"{resource}/*")

    def _field(self, resource: str, id_: str, field: str, what: str) -> str:
        return text(self._one(resource, id_, field, what), field)

    # Events

    def apply_event(self, event: PaymentEvent) -> None:
        """A new state through ``order_histories``, the transaction on the payment, a private note.

        Each write is made only if it is missing, so a retry after a failure part
        way through completes the work and a second run writes nothing.
        """
        ref = event.order_ref
        order = self._order(ref)
        target = self.status_for(event)
        if target is not None and not self._already(event, text(order, "current_state"), target):
            body = document(
                "order_history",
                [
                    ("id", ""),
                    ("id_employee", ""),
                    ("id_order_state", target),
                    ("id_order", ref),
                    ("date_add", ""),
                ],
            )
            # sendemail=1: the buyer gets the state's e-mail, as with PrestaShop's own payment modules.
            self.api.send(
                "POST", "order_histories", f"the new state {target} of order {ref}", body, {"sendemail": "1"}
            )
        if event.kind is EventKind.PAID:
            self._record_transaction(order, event)
        add_note(self.api, order, event.note)

    def _already(self, event: PaymentEvent, current: str, target: str) -> bool:
        """Whether the order's state already says what ``target`` would, or must not move.

        A paid order is never moved back by a refusal or a cancel (another payment
        may have paid it), nor moved from "shipped" back to "payment accepted".
        """
        if current == target:
            return True
        status = self.status_of(current)
        if event.kind is EventKind.PAID:
            return status.paid
        if event.kind in (EventKind.REFUSED, EventKind.CANCELLED):
            return not status.payable
        return status is OrderStatus.REFUNDED

    def _record_transaction(self, order: ET.Element, event: PaymentEvent) -> None:
        """Put ``id_trans`` on the payment PrestaShop made when the order became paid.

        PrestaShop writes an ``order_payments`` row by itself for a "paid" state,
        without a transaction id; creating another would count the money twice.
        When there is none (the state is not a "paid" one) the note alone carries it.
        """
        # PrestaShop keeps the first 9 characters of the order's reference on its payments.
        reference = text(order, "reference")[:9]
        if not (reference.isascii() and reference.isalnum()):
            return
        root = self.api.get(
            "order_payments",
            f"the payments of order {event.order_ref}",
            {"filter[order_reference]": f"[{reference}]", "display": "full"},
        )
        payments = root.findall("order_payments/order_payment")
        if any(text(p, "transaction_id") == event.id_trans for p in payments):
            return
        blank = next((p for p in payments if not text(p, "transaction_id")), None)
        if blank is None:
            return
        fields = [(child.tag, child.text or "") for child in blank]
        fields = [(name, event.id_trans if name == "transaction_id" else value) for name, value in fields]
        if "transaction_id" not in {name for name, _ in fields}:
            fields.append(("transaction_id", event.id_trans))
        payment_id = text(blank, "id")
        self.api.send(
            "PUT",
            f"order_payments/{payment_id}",
            f"the transaction of payment {payment_id} of order {event.order_ref}",
            document("order_payment", fields),
        )

    # Settings

    def check_connection(self) -> str:
        """One GET of ``/api/``: the resources the key may use, checked against :data:`PERMISSIONS`."""
        where = self.api.root
        try:
            root = self.api.get("", "the webservice's list of resources")
        except OrderNotFound:
            raise ShopRefused(
                f"{LABEL} has no webservice at {where}: check the shop URL, and that URL rewriting "
                "(friendly URLs) is on"
            ) from None
        except ShopUnavailable as exc:
            # PrestaShop answers 503 with this text while the webservice is switched off: no
            # retry mends that, the merchant must turn it on.
            if exc.status != 503 or "webservice is disabled" not in str(exc):
                raise
            raise ShopRefused(
                f"{LABEL} at {where} has its webservice switched off: turn on "
                "Advanced Parameters > Webservice > Enable PrestaShop's webservice"
            ) from None
        listing = root.find("api")
        if listing is None:
            raise ShopRefused(
                f"{LABEL} answered {where} without the list of resources: is it a PrestaShop shop?"
            )
        missing = [
            f"{method.upper()} {resource}"
            for resource, methods in PERMISSIONS.items()
            for method in methods
            if (found := listing.find(resource)) is None or found.get(method) != "true"
        ]
        if missing:
            raise ShopRefused(
                f"{LABEL} accepted the webservice key, but it lacks permissions: {', '.join(missing)}; "
                "tick them in Advanced Parameters > Webservice"
            )
        name = listing.get("shopName", "")
        return f"{LABEL} {name or where}: webservice key accepted, with every permission needed".replace(
            "  ", " "
        )


def _money(raw: str, currency: str, ref: str) -> Money:
    """``total_paid`` ("71.510000") as Money, exactly; ShopRefused if it is not a whole number of cents."""
    try:
        return Money(Decimal(raw), currency)
    except (InvalidOperation, ValidationError) as exc:
        raise ShopRefused(
            f"{LABEL} order {ref} has a total of {raw[:20]!r} {currency[:8]!r} that cannot be paid: {exc}"
        ) from None


def _line(row: ET.Element, ref: str) -> LineItem:
    try:
        quantity = int(text(row, "product_quantity"))
        price = Decimal(text(row, "unit_price_tax_incl"))
    except (ValueError, InvalidOperation):
        raise ShopRefused(f"{LABEL} order {ref} has a line that is not a quantity and a price") from None
    return LineItem(text(row, "product_name"), quantity, price)
