"""The cart's connector passes the conformance suite, like any partner's connector."""

from __future__ import annotations

from cart import CartConnector
from hub.testing.conformance import ConnectorConformance
from tests.connectors.hub_kept_orders import HubKeptOrdersHarness


class TestCartConformance(HubKeptOrdersHarness):
    connector = CartConnector
    order_fields = (*ConnectorConformance.order_fields, "language")
