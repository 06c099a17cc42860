"""The ``divers`` anti-forgery token.

Bluepaid signed nothing, so the shop puts a token in ``divers`` and the platform
echoes it. Ours is an HMAC-SHA256 of the merchant id, order ref, amount, currency
and payment id under the shop secret, truncated to 32 hex characters (128 bits,
the length of the tokens the historical modules sent).
"""

from __future__ import annotations

import hashlib
import hmac

from bluepaid_plugins.money import Money

TOKEN_LENGTH = 32


def divers_token(secret: str, id_boutique: str, order_ref: str, amount: Money, payment_id: str) -> str:
    """The token for one payment. Any change to an input changes the token."""
    # A separator that cannot occur in the parts keeps ("a", "bc") and ("ab", "c") apart.
    message = "\x1f".join([id_boutique, order_ref, str(amount), amount.currency, payment_id])
    digest = hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()
    return digest[:TOKEN_LENGTH]


def check_divers(
    token: str, secret: str, id_boutique: str, order_ref: str, amount: Money, payment_id: str
) -> bool:
    """True if ``token`` is the one issued for these values; constant-time compare."""
    if not token.isascii():
        return False  # tokens are hex; anything else (a lone surrogate...) cannot match
    expected = divers_token(secret, id_boutique, order_ref, amount, payment_id)
    return hmac.compare_digest(token.encode(), expected.encode())
