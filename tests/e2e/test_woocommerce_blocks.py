"""The WooCommerce gateway's block checkout script, run in Chromium against the globals
WooCommerce and WordPress give it (``wc.wcBlocksRegistry``, ``wc.wcSettings``,
``wp.element``, ``wp.htmlEntities``), recorded by small stand-ins."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.sync_api import Page

import connectors.woocommerce

SCRIPT = Path(connectors.woocommerce.__file__).parent / "shop/bluepaid-hub-gateway/assets/blocks.js"

# What the script may use of WordPress and WooCommerce, recording what it registers.
GLOBALS = """
window.registered = [];
window.wp = {
  element: {createElement: (type, props, ...children) => ({type, props, children})},
  htmlEntities: {decodeEntities: (text) => {
    const area = document.createElement('textarea'); area.innerHTML = text; return area.value; }},
};
window.wc = {
  wcBlocksRegistry: {registerPaymentMethod: (options) => window.registered.push(options)},
  wcSettings: {getSetting: (name, fallback) => name === 'bluepaid_data' ? window.bluepaidData : fallback},
};
"""

# The registered method with its elements rendered down to tags and text.
READ = """() => {
  const render = (node) => typeof node.type === 'function' ? render(node.type(node.props)) : node;
  const o = window.registered[0];
  return {count: window.registered.length, name: o.name, ariaLabel: o.ariaLabel, label: render(o.label),
          content: render(o.content), edit: render(o.edit), canPay: o.canMakePayment(), supports: o.supports};
}"""


def registered(page: Page, data: dict[str, Any]) -> dict[str, Any]:
    page.set_content("<!doctype html><title>checkout</title>")
    page.add_script_tag(content=GLOBALS)
    page.evaluate("(data) => { window.bluepaidData = data; }", data)
    page.add_script_tag(content=SCRIPT.read_text("utf-8"))
    found: dict[str, Any] = page.evaluate(READ)
    return found


def test_the_block_checkout_offers_the_method_with_the_merchants_texts(page: Page) -> None:
    found = registered(
        page,
        {"title": "Carte &amp; Bluepaid", "description": "Vous paierez ensuite.", "supports": ["products"]},
    )

    assert (found["count"], found["name"], found["ariaLabel"]) == (1, "bluepaid", "Carte & Bluepaid")
    assert found["label"] == {"type": "span", "props": None, "children": ["Carte & Bluepaid"]}
    shown = {"type": "p", "props": None, "children": ["Vous paierez ensuite."]}
    assert (found["content"], found["edit"]) == (shown, shown)
    assert (found["canPay"], found["supports"]) == (True, {"features": ["products"]})


def test_the_description_is_text_never_markup(page: Page) -> None:
    found = registered(page, {"title": "Bluepaid", "description": "<img src=x onerror=alert(1)> &lt;b&gt;"})

    # A string child, which React escapes: the merchant's text cannot inject markup.
    assert found["content"]["children"] == ["<img src=x onerror=alert(1)> <b>"]


def test_without_settings_the_method_is_still_named(page: Page) -> None:
    found = registered(page, {})

    assert (found["ariaLabel"], found["supports"]) == ("Bluepaid", {"features": ["products"]})
    assert found["content"]["children"] == [""]
