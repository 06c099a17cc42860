"""The connector's notes: private messages in the order's customer-service thread.

PrestaShop's order page (1.6 to 8.x) shows the messages of the order's customer
threads (``CustomerThread::getCustomerMessagesOrder``), a private one to the
merchant only. The older ``messages`` resource of the webservice is not shown
there, so it is not used. An order has no thread until someone writes about it:
the first note opens one, as the back office does (``id_contact`` 0, status open).
"""

from __future__ import annotations

import secrets
import xml.etree.ElementTree as ET

from bluepaid_plugins.errors import ShopRefused
from connectors.prestashop.api import LABEL, Webservice
from connectors.prestashop.xml import document, text


def add_note(api: Webservice, order: ET.Element, note: str) -> None:
    """Add ``note`` as a private message on ``order``, unless one of its threads has it already."""
    ref, customer = text(order, "id"), text(order, "id_customer")
    found = api.get(
        "customer_threads",
        f"the message threads of order {ref}",
        {
            "filter[id_order]": f"[{ref}]",
            "filter[id_customer]": f"[{customer}]",
            "display": "[id]",
            "sort": "[id_ASC]",
        },
    )
    threads = [text(t, "id") for t in found.iterfind("customer_threads/customer_thread")]
    threads = [t for t in threads if t.isascii() and t.isdigit()]
    if threads:
        messages = api.get(
            "customer_messages",
            f"the messages of order {ref}",
            {"filter[id_customer_thread]": f"[{'|'.join(threads)}]", "display": "[id,message]"},
        )
        if any(text(m, "message") == note for m in messages.iterfind("customer_messages/customer_message")):
            return
        thread = threads[0]
    else:
        thread = _open_thread(api, order)
    message = document(
        "customer_message",
        [("id_employee", "0"), ("id_customer_thread", thread), ("message", note), ("private", "1")],
    )
    api.send("POST", "customer_messages", f"the note on order {ref}", message)


def _open_thread(api: Webservice, order: ET.Element) -> str:
    ref = text(order, "id")
    body = document(
        "customer_thread",
        [
            ("id_lang", text(order, "id_lang")),
            ("id_shop", text(order, "id_shop")),
            ("id_customer", text(order, "id_customer")),
            ("id_order", ref),
            ("id_contact", "0"),
            # Required by PrestaShop, which puts it in the links of customer-service e-mails.
            ("token", secrets.token_hex(6)),
            ("status", "open"),
        ],
    )
    created = api.send("POST", "customer_threads", f"a message thread for order {ref}", body)
    thread = text(created.find("customer_thread"), "id")
    if not (thread.isascii() and thread.isdigit()):
        raise ShopRefused(f"{LABEL} created a message thread for order {ref} without saying its id")
    return thread
