"""The payment-link connector passes the conformance suite, like any partner's connector."""

from __future__ import annotations

from typing import ClassVar

from connectors.payment_link import PaymentLinkConnector
from tests.connectors.hub_kept_orders import HubKeptOrdersHarness


class TestPaymentLinkConformance(HubKeptOrdersHarness):
    connector = PaymentLinkConnector
    # A payment link is an amount and a buyer's e-mail; it has no lines and no names.
    order_fields: ClassVar[tuple[str, ...]] = ("total", "email", "language")
