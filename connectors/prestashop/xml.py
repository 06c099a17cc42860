"""Reading and writing the PrestaShop webservice's XML, with the standard library only.

The shop's answers are read with :mod:`xml.etree.ElementTree`. A document type
declaration is refused before parsing: the webservice never sends one, and it is
the door to entity expansion ("billion laughs") and external entities, which a
compromised shop could use against the hub.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable

#: The namespace PrestaShop declares on every document (its links are ``xlink:href``).
XLINK = "http://www.w3.org/1999/xlink"

_DECLARATIONS = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)


class XmlRefused(ValueError):
    """A body that is not XML this connector will read; the message says why."""


def parse(body: bytes) -> ET.Element:
    """The root element of ``body``; XmlRefused for a DTD or malformed XML."""
    if _DECLARATIONS.search(body):
        raise XmlRefused("the answer declares a document type, which the webservice never does")
    try:
        # Safe once declarations are refused above: no entity can be defined, so none expands.
        return ET.fromstring(body)  # noqa: S314
    except ET.ParseError as exc:
        raise XmlRefused(f"the answer is not well-formed XML ({exc})") from None


def text(element: ET.Element | None, path: str) -> str:
    """The stripped text of the child at ``path`` (CDATA is plain text here); "" if absent."""
    if element is None:
        return ""
    found = element.find(path)
    return "" if found is None or found.text is None else found.text.strip()


def error_message(body: bytes) -> str:
    """The webservice's own ``<errors><error><message>`` texts, joined; "" if there are none."""
    try:
        root = parse(body)
    except XmlRefused:
        return ""
    messages = [text(error, "message") for error in root.iter("error")]
    return "; ".join(message for message in messages if message)


def document(resource: str, fields: Iterable[tuple[str, str]]) -> bytes:
    """A request body: ``<prestashop><resource>`` with one child per (name, value), in order.

    Values are escaped by ElementTree; no attribute is written (``xlink:href`` is
    output only), so the namespace declaration is the only one needed.
    """
    root = ET.Element("prestashop", {"xmlns:xlink": XLINK})
    node = ET.SubElement(root, resource)
    for name, value in fields:
        ET.SubElement(node, name).text = value
    body: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return body
