"""The payment form's connector passes the conformance suite, like any partner's connector."""

from __future__ import annotations

from hub.testing.conformance import ConnectorConformance
from payment_form import PaymentFormConnector
from tests.connectors.hub_kept_orders import HubKeptOrdersHarness


class TestPaymentFormConformance(HubKeptOrdersHarness):
    connector = PaymentFormConnector
    order_fields = (*ConnectorConformance.order_fields, "language")
