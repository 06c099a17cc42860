"""Single-payment requests (``in.php``): the variables a shop sends to the platform's payment page.

Lower-case variables (see the protocol document, section 1), built by
:class:`PaymentRequest` and checked by :func:`validate_payment_fields`.
Subscriptions and payments in instalments (``ABOv2/in.php``) are in
:mod:`~bluepaid_plugins.protocol.subscription`; the rules both endpoints share,
the URL conventions and :data:`~bluepaid_plugins.protocol.fields.PLATFORM_URL`
in :mod:`~bluepaid_plugins.protocol.fields`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlencode

from bluepaid_plugins.errors import Problem
from bluepaid_plugins.money import Money
from bluepaid_plugins.protocol.fields import (
    PLATFORM_URL,
    Rule,
    check_fields,
    checked_fields,
    country_code,
    currency_code,
    email_address,
    endpoint_url,
    language,
    merchant_id,
    place_urls,
    secure_flag,
    text,
    url_without_scheme,
)

#: Single-payment variables, in the order of the logged request of the protocol document.
PAYMENT_FIELDS = (
    "id_boutique",
    "id_client",
    "montant",
    "devise",
    "langue",
    "divers",
    "email_client",
    "url_retour_ok",
    "url_retour_stop",
    "url_retour_bo",
    "set_secure_return",
    "set_secure_conf",
    "pays_liv",
    "nom",
    "prenom",
)

_PAYMENT_REQUIRED = ("id_boutique", "id_client", "montant", "devise")

_PAYMENT_RULES: dict[str, Rule] = {
    "id_boutique": merchant_id,
    "id_client": text(64),
    "devise": currency_code,
    "langue": language,
    "divers": text(255),
    "email_client": email_address,
    "url_retour_ok": url_without_scheme("set_secure_return"),
    "url_retour_stop": url_without_scheme("set_secure_return"),
    "url_retour_bo": url_without_scheme("set_secure_conf"),
    "set_secure_return": secure_flag,
    "set_secure_conf": secure_flag,
    "pays_liv": country_code,
    "nom": text(64),
    "prenom": text(64),
}


def validate_payment_fields(fields: Mapping[str, str]) -> list[Problem]:
    """Every problem of a raw single-payment request (``in.php``), in protocol order.

    Used by the hub after plugins edited the fields, and by the sandbox for
    incoming requests. An empty list means the platform accepts the request.
    Names are case-sensitive (lower case). An empty value counts as not given.

    Rules:

    - ``id_boutique``, ``montant``, ``devise``, ``id_client`` are required;
    - a name outside :data:`PAYMENT_FIELDS` is a problem;
    - no value may hold a control or invisible character;
    - ``id_boutique``: 1 to 32 of ``A-Z a-z 0-9 _ -``;
    - ``montant``: major units with a dot (a comma is tolerated only in
      confirmations), more than 0, checked whatever ``devise`` is; no more
      decimals than ``devise`` has, checked only once ``devise`` is valid;
    - ``devise``: one of :data:`~bluepaid_plugins.money.CURRENCIES`;
    - ``langue``: one of :data:`~bluepaid_plugins.protocol.fields.LANGUAGES`, upper case;
    - ``id_client``: at most 64 characters; ``divers``: at most 255;
    - ``email_client``: at most 128 characters, exactly one ``@`` between a
      non-empty name and a dotted domain, no spaces;
    - ``url_retour_ok``, ``url_retour_stop``, ``url_retour_bo``: no scheme, at most
      512 characters, no whitespace, a non-empty host;
    - ``set_secure_return``, ``set_secure_conf``: ``0`` or ``1``;
    - ``pays_liv``: three upper-case letters (ISO 3166 alpha-3);
    - ``nom``, ``prenom``: at most 64 characters.
    """
    return check_fields(fields, PAYMENT_FIELDS, _PAYMENT_RULES, _PAYMENT_REQUIRED, ("montant",), "devise")


@dataclass(frozen=True)
class PaymentRequest:
    """A single payment (``in.php``), as the hub builds it for one order.

    URLs are given with scheme (``https://shop.example/ok``); empty means not
    sent. Nothing is checked at construction: :meth:`fields` checks everything
    and reports every problem at once.
    """

    id_boutique: str
    amount: Money
    id_client: str
    divers: str = ""
    langue: str = "FR"
    email_client: str = ""
    url_retour_ok: str = ""
    url_retour_stop: str = ""
    url_retour_bo: str = ""
    pays_liv: str = ""
    nom: str = ""
    prenom: str = ""

    def fields(self) -> dict[str, str]:
        """The protocol variables, in the order of the logged request.

        ``id_boutique, id_client, montant, devise, langue, divers, email_client,
        url_retour_ok, url_retour_stop, url_retour_bo, set_secure_return,
        set_secure_conf, pays_liv, nom, prenom``; empty optional values are left
        out. URLs go without scheme; their scheme sets ``set_secure_return`` (one
        flag for both return URLs) and ``set_secure_conf`` (``1`` when there is no
        ``url_retour_bo``: it then concerns the confirmation URL registered in the
        merchant area, and we ask for https). Raises ValidationError listing every problem, by
        variable name, if the platform would refuse the result
        (:func:`validate_payment_fields`) or if the two return URLs disagree on
        the scheme.
        """
        fields = {
            "id_boutique": self.id_boutique,
            "id_client": self.id_client,
            "montant": str(self.amount),
            "devise": self.amount.currency,
            "langue": self.langue,
            "divers": self.divers,
            "email_client": self.email_client,
        }
        problems: list[Problem] = []
        place_urls(
            fields,
            problems,
            (("url_retour_ok", self.url_retour_ok), ("url_retour_stop", self.url_retour_stop)),
            ("url_retour_bo", self.url_retour_bo),
            ("set_secure_return", "set_secure_conf"),
        )
        fields.update(pays_liv=self.pays_liv, nom=self.nom, prenom=self.prenom)
        return checked_fields(
            fields, problems, validate_payment_fields, PAYMENT_FIELDS, "invalid payment request"
        )

    def url(self, platform: str = PLATFORM_URL) -> str:
        """The GET address that starts the payment: ``{platform}/in.php?...``."""
        return f"{self.action(platform)}?{urlencode(self.fields())}"

    def action(self, platform: str = PLATFORM_URL) -> str:
        """The ``action`` of a POST form that starts the payment: ``{platform}/in.php``."""
        return endpoint_url(platform, "in.php")
