"""The Bluepaid protocol: what a shop sends, what the platform answers.

- :mod:`~bluepaid_plugins.protocol.request`: single-payment requests
  (shop -> platform, ``in.php``) and their validation;
- :mod:`~bluepaid_plugins.protocol.subscription`: subscription requests
  (shop -> platform, ``ABOv2/in.php``) and their validation;
- :mod:`~bluepaid_plugins.protocol.fields`: the rules both kinds of request
  share, and the URL conventions;
- :mod:`~bluepaid_plugins.protocol.confirmation`: the confirmation POST
  (platform -> shop) and the browser return;
- :mod:`~bluepaid_plugins.protocol.token`: the ``divers`` anti-forgery token.

Amounts are :class:`~bluepaid_plugins.money.Money`; every rule broken is a
:class:`~bluepaid_plugins.errors.Problem` inside a
:class:`~bluepaid_plugins.errors.ValidationError` (or its subclass
:class:`~bluepaid_plugins.errors.ConfirmationError` for confirmations).
"""

from bluepaid_plugins.protocol.confirmation import (
    CONFIRMATION_FIELDS,
    Confirmation,
    Etat,
    Mode,
    parse_confirmation,
)
from bluepaid_plugins.protocol.fields import LANGUAGES, PLATFORM_URL, join_url, split_url
from bluepaid_plugins.protocol.request import PAYMENT_FIELDS, PaymentRequest, validate_payment_fields
from bluepaid_plugins.protocol.subscription import (
    PERIOD_TYPES,
    SUBSCRIPTION_FIELDS,
    SUBSCRIPTION_TYPES,
    SubscriptionRequest,
    validate_subscription_fields,
)
from bluepaid_plugins.protocol.token import TOKEN_LENGTH, check_divers, divers_token

__all__ = [
    "CONFIRMATION_FIELDS",
    "LANGUAGES",
    "PAYMENT_FIELDS",
    "PERIOD_TYPES",
    "PLATFORM_URL",
    "SUBSCRIPTION_FIELDS",
    "SUBSCRIPTION_TYPES",
    "TOKEN_LENGTH",
    "Confirmation",
    "Etat",
    "Mode",
    "PaymentRequest",
    "SubscriptionRequest",
    "check_divers",
    "divers_token",
    "join_url",
    "parse_confirmation",
    "split_url",
    "validate_payment_fields",
    "validate_subscription_fields",
]
