"""What a merchant fills in for one PrestaShop shop, and the shop's order states.

State ids are those PrestaShop installs (1.6, 1.7 and 8.x share 1 to 13); a
merchant whose shop renumbered them, or whose payment module created its own
"awaiting payment" state, changes the status mapping and ``payable_states``.
"""

from __future__ import annotations

from collections.abc import Mapping

from bluepaid_plugins.domain import OrderStatus, StatusEvent
from bluepaid_plugins.errors import Problem, ValidationError
from bluepaid_plugins.settings import SHOP_CALL_SETTINGS, SettingField

#: The order states PrestaShop installs, by id.
STATES: Mapping[str, str] = {
    "1": "Awaiting check payment",
    "2": "Payment accepted",
    "3": "Processing in progress",
    "4": "Shipped",
    "5": "Delivered",
    "6": "Canceled",
    "7": "Refunded",
    "8": "Payment error",
    "9": "On backorder (paid)",
    "10": "Awaiting bank wire payment",
    "11": "Remote payment accepted",
    "12": "On backorder (not paid)",
    "13": "Awaiting Cash On Delivery validation",
}

#: What each installed state means for a payment. The states PrestaShop marks
#: "paid" (an invoice and a payment exist) read as paid; the waiting ones are
#: listed in ``payable_states`` instead, so that the merchant decides them.
READ_STATES: Mapping[str, OrderStatus] = {
    "2": OrderStatus.PAID,
    "3": OrderStatus.PAID,
    "4": OrderStatus.PAID,
    "5": OrderStatus.PAID,
    "6": OrderStatus.CANCELLED,
    "7": OrderStatus.REFUNDED,
    "8": OrderStatus.FAILED,
    "9": OrderStatus.PAID,
    "11": OrderStatus.PAID,
}

DEFAULT_PAYABLE_STATES = "1,10,12,13"

#: A partial refund changes no state by default: PrestaShop has none for it; the
#: note in the order's messages says how much was refunded. Later subscription
#: debits leave the order as it is (PrestaShop has no subscriptions of its own).
DEFAULT_MAPPING: Mapping[StatusEvent, str | None] = {
    StatusEvent.PAID: "2",
    StatusEvent.REFUSED: "8",
    StatusEvent.CANCELLED: "6",
    StatusEvent.PARTIALLY_REFUNDED: None,
    StatusEvent.REFUNDED: "7",
    StatusEvent.DEBIT_PAID: None,
    StatusEvent.DEBIT_REFUSED: None,
}

SCHEMA = (
    SettingField(
        "base_url",
        "Shop URL",
        type="url",
        help="The shop's address, as customers see it (https://shop.example); the webservice is "
        "at /api/ below it.",
    ),
    SettingField(
        "webservice_key",
        "Webservice key",
        type="secret",
        help="Advanced Parameters > Webservice > Add new webservice key (32 characters), with the "
        "permissions listed in the PrestaShop guide.",
    ),
    *SHOP_CALL_SETTINGS,
    SettingField(
        "payable_states",
        "States awaiting payment",
        required=False,
        default=DEFAULT_PAYABLE_STATES,
        help="Ids of the order states in which an order may be paid with Bluepaid, separated by commas "
        "(Shop Parameters > Order Settings > Statuses); add your payment module's own waiting state.",
    ),
)


def state_ids(raw: str) -> frozenset[str]:
    """The state ids in ``raw`` ("1, 10,12"); ValidationError if one is not a number."""
    ids = [part.strip() for part in raw.split(",") if part.strip()]
    if not all(part.isascii() and part.isdigit() for part in ids):
        raise ValidationError(Problem("payable_states", "expected state ids (numbers) separated by commas"))
    return frozenset(str(int(part)) for part in ids)
