"""The sandbox: an offline, faithful Bluepaid platform for tests and demos.

It speaks the protocol of ``BLUEPAID-PROTOCOL.md`` over real HTTP: the payment
request endpoints (``/in.php``, ``/ABOv2/in.php``), a payment page with test
cards, the confirmation POST to the shop, the browser return, mails,
subscriptions and refunds, and a small console for the merchant. Where the
historical record is silent the sandbox defines the behaviour; the README
documents each such rule (test cards, referrer, country bans).
"""

from sandbox.app import create_sandbox_app
from sandbox.config import SandboxConfig

__all__ = ["SandboxConfig", "create_sandbox_app"]
