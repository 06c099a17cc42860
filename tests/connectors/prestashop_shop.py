"""A fake PrestaShop webservice on the kit's shop double, answering from the recorded bodies.

Records are kept as the webservice would return them: the recorded order and
address of ``examples/prestashop`` (and our blank documents for the resources
with no published example) with each test's values put in. It does what the
connector relies on PrestaShop to do: a new ``order_histories`` row changes the
order's ``current_state``, and a "paid" state adds an ``order_payments`` row
without a transaction id, as ``OrderHistory::changeIdOrderState`` does.
"""

from __future__ import annotations

import copy
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

from bluepaid_plugins.domain import LineItem
from connectors.prestashop.connector import PERMISSIONS
from hub.testing.shop_double import Call, Handler, Reply, ShopDouble

EXAMPLES = Path(__file__).parent / "examples" / "prestashop"
BASE = "https://prestashop.example"
KEY = "ZQ88PRJX5VWQHCWE4EE7SQ7HPNX00RAJ"
#: The states PrestaShop installs with ``paid`` set (an order_payments row follows).
PAID_STATES = frozenset({"2", "3", "4", "5", "9", "11"})
XML = "text/xml;charset=utf-8"
#: The proof of the order :meth:`FakePrestaShop.add_awaiting_order` places.
SECURE_KEY = "0f3c1a9d2b7e4c6a8d5f1e3b9c7a2d4e"


def example(name: str) -> ET.Element:
    """The record inside an example document (its ``<prestashop>`` root's only child)."""
    root = ET.fromstring((EXAMPLES / name).read_bytes())
    return copy.deepcopy(root[0])


def six(amount: Decimal) -> str:
    """An amount as PrestaShop writes it: six decimals."""
    return f"{amount:.6f}"


def error_body(code: int, message: str) -> bytes:
    root = ET.fromstring((EXAMPLES / "built-error.xml").read_bytes())
    _set(root, "errors/error/code", str(code))
    _set(root, "errors/error/message", message)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root)


def _set(element: ET.Element, path: str, value: str) -> None:
    found = element.find(path)
    assert found is not None, path
    found.text = value


def _document(element: ET.Element | Iterable[ET.Element], wrapper: str = "") -> bytes:
    root = ET.Element("prestashop")
    parent = ET.SubElement(root, wrapper) if wrapper else root
    for item in [element] if isinstance(element, ET.Element) else element:
        parent.append(item)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root)


class FakePrestaShop:
    """The webservice's records and routes; ``install(api)`` puts them on a shop double."""

    def __init__(self) -> None:
        self.records: dict[str, dict[str, ET.Element]] = {}
        self.permissions: dict[str, tuple[str, ...]] = dict(PERMISSIONS)
        self.shop_name = "Boutique Ada"
        self.next_ids: dict[str, int] = {}
        self.api: ShopDouble | None = None
        self.calls: list[Call] = []
        self.add("countries", "21", iso_code="US")
        self.add("languages", "1", iso_code="en", name="English (English)")
        self.add("currencies", "1", iso_code="EUR", precision="2")
        self.add("customers", "1", email="pub@prestashop.com", firstname="John", lastname="DOE")
        self.records["addresses"] = {"4": example("prestashop-address.xml")}
        self.records["orders"] = {"5": example("prestashop-order.xml")}

    # Records

    TEMPLATES: Mapping[str, str] = {
        "countries": "built-country.xml",
        "languages": "built-language.xml",
        "currencies": "prestashop-currency-blank-schema.xml",
        "customers": "built-customer.xml",
        "order_payments": "built-order-payment.xml",
        "customer_threads": "prestashop-customer-thread-blank-schema.xml",
        "customer_messages": "built-customer-message.xml",
    }

    def add(self, resource: str, id_: str, **values: str) -> ET.Element:
        record = example(self.TEMPLATES[resource])
        _set(record, "id", id_)
        for name, value in values.items():
            _set(record, name, value)
        self.records.setdefault(resource, {})[id_] = record
        return record

    def new_id(self, resource: str) -> str:
        self.next_ids[resource] = self.next_ids.get(resource, 0) + 1
        return str(self.next_ids[resource])

    def currency(self, iso_code: str) -> str:
        for id_, record in self.records["currencies"].items():
            if record.findtext("iso_code") == iso_code:
                return id_
        id_ = str(len(self.records["currencies"]) + 1)
        self.add("currencies", id_, iso_code=iso_code)
        return id_

    def add_awaiting_order(self) -> None:
        """Order 42 of Ada Lovelace, 36.60 EUR of two lines, awaiting a bank wire (state 10):
        the order the pipeline and end-to-end tests pay."""
        self.add_order(
            "42",
            total=Decimal("36.60"),
            currency="EUR",
            state="10",
            items=(LineItem("T-shirt", 2, Decimal("12.50")), LineItem("Mug", 1, Decimal("11.60"))),
            email="ada@example.com",
            first_name="Ada",
            last_name="Lovelace",
            country="FR",
            secure_key=SECURE_KEY,
        )

    def add_order(
        self,
        id_: str,
        *,
        total: Decimal,
        currency: str,
        state: str,
        items: Iterable[LineItem],
        email: str,
        first_name: str,
        last_name: str,
        country: str,
        secure_key: str,
    ) -> ET.Element:
        """An order like the recorded one, with its own customer, delivery address and values."""
        country_id = str(100 + len(self.records["countries"]))
        self.add("countries", country_id, iso_code=country)
        self.add("customers", id_, email=email, firstname=first_name, lastname=last_name)
        address = example("prestashop-address.xml")
        for name, value in (("id", id_), ("id_customer", id_), ("id_country", country_id)):
            _set(address, name, value)
        self.records["addresses"][id_] = address
        order = example("prestashop-order.xml")
        values = {
            "id": id_,
            "id_customer": id_,
            "id_address_delivery": id_,
            "id_address_invoice": id_,
            "id_currency": self.currency(currency),
            "current_state": state,
            "secure_key": secure_key,
            "reference": f"REF{id_}",
            "total_paid": six(total),
            "total_paid_tax_incl": six(total),
            "total_paid_tax_excl": six(total),
        }
        for name, value in values.items():
            _set(order, name, value)
        rows = order.find("associations/order_rows")
        assert rows is not None
        model = rows[0]
        for row in list(rows):
            rows.remove(row)
        for number, item in enumerate(items, start=1):
            row = copy.deepcopy(model)
            for name, value in (
                ("id", str(number)),
                ("product_quantity", str(item.quantity)),
                ("product_name", item.name),
                ("product_price", six(item.unit_price)),
                ("unit_price_tax_incl", six(item.unit_price)),
                ("unit_price_tax_excl", six(item.unit_price)),
            ):
                _set(row, name, value)
            rows.append(row)
        self.records["orders"][id_] = order
        return order

    def set_order(self, order: str, **values: str) -> None:
        for name, value in values.items():
            _set(self.records["orders"][order], name, value)

    def state(self, order: str) -> str:
        return self.records["orders"][order].findtext("current_state", "").strip()

    def notes(self, order: str) -> list[str]:
        """The messages of the order's threads, oldest first."""
        threads = {
            id_
            for id_, t in self.records.get("customer_threads", {}).items()
            if t.findtext("id_order") == order
        }
        return [
            m.findtext("message", "")
            for m in self.records.get("customer_messages", {}).values()
            if m.findtext("id_customer_thread") in threads
        ]

    def payments(self, order: str) -> list[ET.Element]:
        reference = self.records["orders"][order].findtext("reference", "").strip()
        return [
            p
            for p in self.records.get("order_payments", {}).values()
            if p.findtext("order_reference") == reference
        ]

    # Routes

    def install(self, api: ShopDouble) -> None:
        routes: list[tuple[str, str, Handler]] = [
            ("GET", "/api/", self.listing),
            ("GET", r"/api/(?P<resource>[a-z_]+)/(?P<id>[0-9]+)", self.read),
            ("GET", r"/api/(?P<resource>[a-z_]+)", self.search),
            ("POST", "/api/order_histories", self.change_state),
            ("POST", "/api/customer_threads", self.create),
            ("POST", "/api/customer_messages", self.create),
            ("PUT", r"/api/order_payments/(?P<id>[0-9]+)", self.update_payment),
        ]
        for method, path, handler in routes:
            api.route(method, path, handler)
        self.api = api
        # The double's own record of every call, in order.
        self.calls = api.calls

    # Faults on one call

    def fail(self, method: str, path: str, fault: Callable[[], Reply]) -> None:
        """The next ``method`` call to exactly ``path`` gets ``fault()`` (a Reply, or what it raises)."""
        assert self.api is not None, "install the fake on a shop double first"
        try:
            outcome: Reply | BaseException = fault()
        except Exception as exc:
            outcome = exc
        self.api.answer_next(outcome, methods=(method,), path=re.escape(path))

    def listing(self, call: Call, match: re.Match[str]) -> Reply:
        api = ET.Element("api", {"shopName": self.shop_name})
        # As PrestaShop does, only the resources the key may use at all are listed.
        for resource, allowed in self.permissions.items():
            if not allowed:
                continue
            flags = {
                m: "true" if m in allowed else "false"
                for m in ("get", "put", "post", "patch", "delete", "head")
            }
            ET.SubElement(
                api, resource, {"{http://www.w3.org/1999/xlink}href": f"{BASE}/api/{resource}", **flags}
            )
        return self._xml(200, _document(api), {"PSWS-Version": "8.1.7"})

    def read(self, call: Call, match: re.Match[str]) -> Reply:
        record = self.records.get(match["resource"], {}).get(match["id"])
        if record is None:
            return self._xml(404, error_body(87, "Invalid ID"))
        return self._xml(200, _document(record))

    def search(self, call: Call, match: re.Match[str]) -> Reply:
        resource = match["resource"]
        records = list(self.records.get(resource, {}).values())
        for key, value in call.query.items():
            if key.startswith("filter["):
                field, wanted = key[7:-1], value.strip("[]").split("|")
                records = [r for r in records if (r.findtext(field) or "").strip() in wanted]
        display = call.query.get("display", "")
        shown = []
        for record in records:
            if display == "full":
                shown.append(copy.deepcopy(record))
                continue
            fields = display.strip("[]").split(",") if display else ["id"]
            item = ET.Element(record.tag)
            for name in fields:
                found = record.find(name)
                if found is not None:
                    item.append(copy.deepcopy(found))
            shown.append(item)
        return self._xml(200, _document(shown, resource))

    def change_state(self, call: Call, match: re.Match[str]) -> Reply:
        history = ET.fromstring(call.body).find("order_history")
        assert history is not None
        order_id, state = history.findtext("id_order", ""), history.findtext("id_order_state", "")
        order = self.records["orders"].get(order_id)
        if order is None:
            return self._xml(400, error_body(0, f"Validation error: order {order_id} does not exist"))
        _set(order, "current_state", state)
        total = Decimal(order.findtext("total_paid", "0"))
        paid = sum((Decimal(p.findtext("amount", "0")) for p in self.payments(order_id)), Decimal(0))
        if state in PAID_STATES and paid < total:
            self.add(
                "order_payments",
                self.new_id("order_payments"),
                order_reference=order.findtext("reference", "").strip(),
                id_currency=order.findtext("id_currency", "").strip(),
                amount=six(total - paid),
                payment_method="Bluepaid",
                conversion_rate="1.000000",
            )
        history_id = self.new_id("order_histories")
        _set(history, "id", history_id)
        return self._xml(201, _document(history))

    def create(self, call: Call, match: re.Match[str]) -> Reply:
        """POST of a new customer thread or message: stored with the next id."""
        resource = call.path.rsplit("/", 1)[-1]
        sent = ET.fromstring(call.body)[0]
        values = {child.tag: child.text or "" for child in sent if child.tag != "id"}
        record = self.add(resource, self.new_id(resource), **values)
        return self._xml(201, _document(record))

    def update_payment(self, call: Call, match: re.Match[str]) -> Reply:
        record = self.records.get("order_payments", {}).get(match["id"])
        if record is None:
            return self._xml(404, error_body(87, "Invalid ID"))
        sent = ET.fromstring(call.body).find("order_payment")
        assert sent is not None
        for child in sent:
            if child.tag != "id":
                _set(record, child.tag, child.text or "")
        return self._xml(200, _document(record))

    @staticmethod
    def _xml(status: int, body: bytes, headers: Mapping[str, Any] | None = None) -> Reply:
        return Reply(
            status, body=body, headers={"PSWS-Version": "8.1.7", **(headers or {})}, content_type=XML
        )
