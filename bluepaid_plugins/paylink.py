"""Pay links and the proof they carry that the buyer holds the order.

A pay link is ``<hub>/pay/<shop>/<order ref>?key=<proof>``. The proof is either
the shop's own per-order secret (checked against :attr:`Order.secret
<bluepaid_plugins.domain.Order.secret>`), or, for order sources without one
(payment links, the built-in form and cart), a token the hub signs here: an
HMAC of the shop and the order reference under the shop's secret, with an
optional expiry. Without a valid proof the hub answers as for an unknown order.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime
from enum import StrEnum
from urllib.parse import quote, urlencode

#: The query parameter that carries the proof.
PROOF_PARAMETER = "key"

_SIGNATURE_BYTES = 16  # 128 bits: guessing is hopeless, the link stays short


class TokenCheck(StrEnum):
    """The outcome of :func:`check_pay_token`."""

    VALID = "valid"
    EXPIRED = "expired"
    INVALID = "invalid"


def sign_pay_token(secret: str, shop: str, order_ref: str, expires: datetime | None = None) -> str:
    """A proof for ``order_ref`` of ``shop``, valid until ``expires`` (aware) or for ever."""
    stamp = "" if expires is None else str(int(expires.timestamp()))
    signature = _signature(secret, shop, order_ref, stamp)
    return f"{stamp}.{signature}" if stamp else signature


def check_pay_token(secret: str, shop: str, order_ref: str, token: str, now: datetime) -> TokenCheck:
    """Whether ``token`` is a proof signed for ``order_ref`` of ``shop``.

    The signature is compared in constant time; only a token with a right
    signature can be ``expired``, so an expired answer tells nothing to
    somebody guessing.
    """
    stamp, _, signature = token.rpartition(".")
    if stamp and not (stamp.isascii() and stamp.isdigit() and len(stamp) <= 12):
        return TokenCheck.INVALID
    expected = _signature(secret, shop, order_ref, stamp)
    if not hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace")):
        return TokenCheck.INVALID
    if stamp and datetime.fromtimestamp(int(stamp), UTC) <= now:
        return TokenCheck.EXPIRED
    return TokenCheck.VALID


def pay_url(public_url: str, shop: str, order_ref: str, proof: str) -> str:
    """The URL a buyer opens to pay ``order_ref`` of ``shop`` on the hub at ``public_url``."""
    path = f"{public_url.rstrip('/')}/pay/{quote(shop, safe='')}/{quote(order_ref, safe='')}"
    return f"{path}?{urlencode({PROOF_PARAMETER: proof})}" if proof else path


def pay_url_template(public_url: str, shop: str) -> str:
    """The pay URL with ``{order_ref}`` and ``{key}`` left for the shop's checkout to fill."""
    return f"{public_url.rstrip('/')}/pay/{quote(shop, safe='')}/{{order_ref}}?{PROOF_PARAMETER}={{key}}"


def _signature(secret: str, shop: str, order_ref: str, stamp: str) -> str:
    message = "\x1f".join(("pay", shop, order_ref, stamp)).encode()
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()[:_SIGNATURE_BYTES]
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
