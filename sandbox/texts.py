"""The words of the buyer's pages, in French and English.

Bluepaid served its payment page in the language of ``langue``. The sandbox
speaks French (``FR``) and English (``EN``); every other language the protocol
allows (``DE ES IT NL PT``) falls back to English, the language a foreign buyer
is most likely to read. A request without ``langue`` gets French, the
platform's own language. :func:`texts_for` is the one place that rule lives.

Texts holding ``{name}`` placeholders are filled with :meth:`str.format` by the
code that shows them; the placeholder names are part of each text's contract.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from babel.numbers import format_currency

from bluepaid_plugins.money import Money


@dataclass(frozen=True)
class Texts:
    """Every text of the payment pages in one language."""

    lang: str  # the HTML ``lang`` attribute
    locale: str  # the Babel locale that formats amounts and names countries
    page_title: str
    header: str
    test_banner: str
    merchant: str
    amount: str
    reference: str
    first_debit: str
    schedule_then: str  # {count} {amount} {period}
    period_one: Mapping[str, str]  # PERIODE_TYPE -> "every month"
    period_many: Mapping[str, str]  # PERIODE_TYPE -> "every {n} months"
    referrer_mismatch: str  # {expected} {found}
    referrer_missing: str  # {expected}
    card_title: str
    card_type: str
    card_number: str
    expiry: str
    expiry_month: str
    expiry_year: str
    cvv2: str
    cvv2_help: str
    pay_button: str  # {amount}
    stop_button: str
    buyer_title: str
    nom: str
    prenom: str
    email: str
    telephone: str
    telecopie: str
    adresse: str
    cp: str
    ville: str
    pays: str
    optional: str
    fix_errors: str
    required: str
    too_long: str  # {max}
    invalid_choice: str
    number_invalid: str
    real_card: str
    expired: str
    cvv2_missing: str
    cvv2_invalid: str
    email_invalid: str
    phone_invalid: str
    cp_invalid: str
    result_accepted: str
    result_refused: str
    result_pending: str
    result_abandoned: str
    result_accepted_text: str
    result_pending_text: str
    result_abandoned_text: str
    transaction_number: str
    card_used: str  # {type} {last4}
    refused_type_mismatch: str  # {chosen}
    refused_ceiling: str
    refused_coherence: str
    ip_banned_title: str
    ip_banned_text: str  # {merchant} {address} {country}
    contact_merchant: str  # {email}
    referrer_blocked_title: str
    referrer_blocked_text: str  # {expected}
    referrer_blocked_found: str  # {found}
    referrer_blocked_missing: str
    back_to_shop: str
    request_error_title: str
    request_error_intro: str
    variable: str
    problem: str
    not_found_title: str
    not_found_text: str
    wrong_host: str  # {host} {expected}

    def money(self, money: Money) -> str:
        """``money`` written for a buyer of this language (``2,07 €``, ``€2.07``)."""
        return str(format_currency(Decimal(money.amount), money.currency, locale=self.locale))

    def period(self, period_type: str, count: int) -> str:
        """``every month`` / ``every 2 weeks``: the subscription's rhythm in words."""
        if count == 1:
            return self.period_one[period_type]
        return self.period_many[period_type].format(n=count)


FRENCH = Texts(
    lang="fr",
    locale="fr_FR",
    page_title="Paiement sécurisé",
    header="Bluepaid — paiement sécurisé",
    test_banner=(
        "MODE TEST — aucune carte réelle n'est débitée : seules les cartes de test du bac à sable "
        "sont acceptées."
    ),
    merchant="Marchand",
    amount="Montant",
    reference="Référence",
    first_debit="Premier prélèvement",
    schedule_then="puis {count} × {amount} {period}",
    period_one={"M": "chaque mois", "J": "chaque jour", "S": "chaque semaine"},
    period_many={"M": "tous les {n} mois", "J": "tous les {n} jours", "S": "toutes les {n} semaines"},
    referrer_mismatch=(
        "Attention : ce paiement n'a pas été demandé depuis l'adresse de référence enregistrée par le "
        "marchand ({expected}) mais depuis {found}. En mode production, il serait bloqué."
    ),
    referrer_missing=(
        "Attention : la page qui a demandé ce paiement n'a pas été transmise (en-tête Referer absent) ; "
        "l'adresse de référence du marchand est {expected}. En mode production, il serait bloqué."
    ),
    card_title="Votre carte",
    card_type="Type de carte",
    card_number="Numéro de carte",
    expiry="Date d'expiration",
    expiry_month="Mois",
    expiry_year="Année",
    cvv2="Cryptogramme visuel (CVV2)",
    cvv2_help="Les 3 chiffres au dos de la carte.",
    pay_button="Payer {amount}",
    stop_button="Retour boutique",
    buyer_title="Vos coordonnées",
    nom="Nom",
    prenom="Prénom",
    email="E-mail",
    telephone="Téléphone",
    telecopie="Télécopie",
    adresse="Adresse",
    cp="Code postal",
    ville="Ville",
    pays="Pays",
    optional="facultatif",
    fix_errors="Veuillez corriger les erreurs ci-dessous.",
    required="Ce champ est obligatoire.",
    too_long="{max} caractères au plus.",
    invalid_choice="Choix invalide.",
    number_invalid="Numéro de carte invalide : vérifiez les chiffres saisis.",
    real_card=(
        "Ce numéro n'est pas une carte de test : le bac à sable ne débite jamais une vraie carte. "
        "Utilisez une des cartes de test."
    ),
    expired="Cette carte est expirée : la date d'expiration est passée.",
    cvv2_missing=(
        "Le cryptogramme visuel (CVV2) est obligatoire : les cartes sans CVV2 ne sont pas acceptées."
    ),
    cvv2_invalid="Le cryptogramme visuel compte 3 chiffres.",
    email_invalid="Adresse e-mail invalide.",
    phone_invalid="Numéro invalide : 6 à 20 chiffres, avec espaces, points, tirets, + ou parenthèses.",
    cp_invalid="Code postal invalide : 2 à 10 lettres ou chiffres.",
    result_accepted="Paiement accepté",
    result_refused="Paiement refusé",
    result_pending="Paiement en attente",
    result_abandoned="Paiement abandonné",
    result_accepted_text="Votre paiement est accepté. Le marchand en est informé.",
    result_pending_text="Votre paiement est en cours de traitement ; le marchand sera informé du résultat.",
    result_abandoned_text="Vous avez quitté la page de paiement sans payer.",
    transaction_number="N° de transaction",
    card_used="Carte {type} se terminant par {last4}",
    refused_type_mismatch=(
        "Le numéro de carte ne correspond pas au type de carte choisi ({chosen}) : vérifiez le type "
        "de votre carte."
    ),
    refused_ceiling="Le plafond de dépenses de votre carte est atteint.",
    refused_coherence="Le paiement a été refusé par le contrôle de cohérence de Bluepaid.",
    ip_banned_title="IP bannie",
    ip_banned_text=(
        "Votre adresse IP ({address}) est située dans un pays ({country}) depuis lequel {merchant} "
        "n'accepte pas de paiement en ligne. Contactez le marchand pour régler votre commande."
    ),
    contact_merchant="Contact du marchand : {email}",
    referrer_blocked_title="Paiement bloqué",
    referrer_blocked_text=(
        "Par sécurité, un paiement ne peut être demandé que depuis le site enregistré par le marchand "
        "({expected})."
    ),
    referrer_blocked_found="Ce paiement a été demandé depuis {found}.",
    referrer_blocked_missing=(
        "Votre navigateur n'a pas indiqué la page d'où vient ce paiement (en-tête Referer absent)."
    ),
    back_to_shop="Retour boutique",
    request_error_title="Demande de paiement invalide",
    request_error_intro=(
        "La boutique a envoyé une demande que la plateforme refuse. Chaque problème porte le nom de la "
        "variable du protocole :"
    ),
    variable="Variable",
    problem="Problème",
    not_found_title="Page de paiement inconnue",
    not_found_text="Cette page de paiement n'existe pas. Retournez sur le site du marchand.",
    wrong_host=(
        "Requête refusée : ce bac à sable ne répond qu'aux noms sous lesquels il est servi ({expected}), "
        "et cette requête demandait l'hôte {host}. Une page web qui fait passer son propre nom pour "
        "une adresse locale ne peut donc pas lire la console. Si vous atteignez le bac à sable par un "
        "autre nom, donnez son adresse dans BLUEPAID_SANDBOX_PUBLIC_URL."
    ),
)

ENGLISH = Texts(
    lang="en",
    locale="en_GB",
    page_title="Secure payment",
    header="Bluepaid — secure payment",
    test_banner="TEST MODE — no real card is charged: only the sandbox's test cards are accepted.",
    merchant="Merchant",
    amount="Amount",
    reference="Reference",
    first_debit="First debit",
    schedule_then="then {count} × {amount} {period}",
    period_one={"M": "every month", "J": "every day", "S": "every week"},
    period_many={"M": "every {n} months", "J": "every {n} days", "S": "every {n} weeks"},
    referrer_mismatch=(
        "Warning: this payment was not requested from the referrer address the merchant registered "
        "({expected}) but from {found}. In production mode it would be blocked."
    ),
    referrer_missing=(
        "Warning: the page that requested this payment was not sent (no Referer header); the merchant's "
        "referrer address is {expected}. In production mode it would be blocked."
    ),
    card_title="Your card",
    card_type="Card type",
    card_number="Card number",
    expiry="Expiry date",
    expiry_month="Month",
    expiry_year="Year",
    cvv2="Card security code (CVV2)",
    cvv2_help="The 3 digits on the back of the card.",
    pay_button="Pay {amount}",
    stop_button="Back to the shop",
    buyer_title="Your details",
    nom="Last name",
    prenom="First name",
    email="E-mail",
    telephone="Phone",
    telecopie="Fax",
    adresse="Address",
    cp="Postcode",
    ville="City",
    pays="Country",
    optional="optional",
    fix_errors="Please correct the errors below.",
    required="This field is required.",
    too_long="At most {max} characters.",
    invalid_choice="Not a valid choice.",
    number_invalid="Invalid card number: check the digits you typed.",
    real_card=(
        "This number is not a test card: the sandbox never charges a real card. Use one of the test cards."
    ),
    expired="This card has expired: the expiry date is past.",
    cvv2_missing="The card security code (CVV2) is required: cards without a CVV2 are not accepted.",
    cvv2_invalid="The card security code has 3 digits.",
    email_invalid="Invalid e-mail address.",
    phone_invalid="Invalid number: 6 to 20 digits, with spaces, dots, dashes, + or brackets.",
    cp_invalid="Invalid postcode: 2 to 10 letters or digits.",
    result_accepted="Payment accepted",
    result_refused="Payment refused",
    result_pending="Payment pending",
    result_abandoned="Payment abandoned",
    result_accepted_text="Your payment is accepted. The merchant has been told.",
    result_pending_text="Your payment is being processed; the merchant will be told the outcome.",
    result_abandoned_text="You left the payment page without paying.",
    transaction_number="Transaction number",
    card_used="{type} card ending in {last4}",
    refused_type_mismatch=(
        "The card number does not match the card type you chose ({chosen}): check your card's type."
    ),
    refused_ceiling="Your card's spending ceiling is reached.",
    refused_coherence="The payment was refused by Bluepaid's coherence check.",
    ip_banned_title="IP bannie (IP address banned)",
    ip_banned_text=(
        "Your IP address ({address}) is in a country ({country}) from which {merchant} does not accept "
        "online payments. Please contact the merchant to pay for your order."
    ),
    contact_merchant="Merchant contact: {email}",
    referrer_blocked_title="Payment blocked",
    referrer_blocked_text=(
        "For security, a payment can only be requested from the site the merchant registered ({expected})."
    ),
    referrer_blocked_found="This payment was requested from {found}.",
    referrer_blocked_missing=(
        "Your browser did not say which page this payment came from (no Referer header)."
    ),
    back_to_shop="Back to the shop",
    request_error_title="Invalid payment request",
    request_error_intro=(
        "The shop sent a request the platform refuses. Each problem is named after the protocol variable:"
    ),
    variable="Variable",
    problem="Problem",
    not_found_title="Unknown payment page",
    not_found_text="This payment page does not exist. Please go back to the merchant's site.",
    wrong_host=(
        "Request refused: this sandbox answers only for the names it is served under ({expected}), "
        "and this request asked for the host {host}. A web page that passes its own name off as a "
        "local address therefore cannot read the console. If you reach the sandbox by another name, "
        "give its address in BLUEPAID_SANDBOX_PUBLIC_URL."
    ),
)

#: Page language when the request gives no ``langue``: Bluepaid was a French platform.
DEFAULT_LANGUAGE = "FR"


def texts_for(langue: str) -> Texts:
    """The texts for a protocol ``langue``: French for ``FR`` or none, English otherwise."""
    return FRENCH if (langue or DEFAULT_LANGUAGE) == "FR" else ENGLISH
