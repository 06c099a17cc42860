"""The contract-level part of the partner test kit: it speaks the protocol.

:class:`~bluepaid_plugins.testing.confirmations.Confirmations` builds the
confirmation POSTs the platform would send for a request. The hub-level part
of the kit (a hub on a temporary database, the sandbox, an HTTP double of a
shop, the conformance suite) is in :mod:`hub.testing`; its pytest plugin is
installed with this package.
"""

from bluepaid_plugins.testing.confirmations import Confirmations

__all__ = ["Confirmations"]
