"""The Bluepaid payment method for pretix: the buyer pays on the Bluepaid hub.

A pretix plugin (a Django app pretix finds through the ``pretix.plugin`` entry
point). Its one payment provider, :class:`pretix_bluepaid.payment.Bluepaid`,
sends the buyer to the hub's pay URL of the order; the hub records the outcome
through pretix's REST API.
"""

__version__ = "1.1.0"
