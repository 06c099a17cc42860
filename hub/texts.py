"""Texts shown to buyers, in French and English."""

from __future__ import annotations

TEXTS: dict[str, dict[str, str]] = {
    "fr": {
        "title": "Paiement",
        "redirecting": "Redirection vers la page de paiement sécurisée…",
        "continue": "Continuer vers le paiement",
        "already_paid": "Cette commande est déjà payée.",
        "already_paid_detail": "Aucun autre paiement n'est nécessaire.",
        "paid": "Paiement accepté. Merci !",
        "refused": "Le paiement a été refusé.",
        "cancelled": "Le paiement a été annulé.",
        "refunded": "Ce paiement a été remboursé.",
        "pending": "Paiement en cours de confirmation…",
        "pending_detail": "Cette page se met à jour toute seule.",
        "stopped": "Vous avez quitté la page de paiement sans payer.",
        "back_to_shop": "Retour à la boutique",
        "order": "Commande",
        "amount": "Montant",
        "not_found": "Page introuvable.",
        "unknown_order": "Ce lien de paiement ne correspond à aucune commande.",
        "unknown_order_detail": (
            "Vérifiez que vous avez copié le lien en entier, ou demandez-en un nouveau à la boutique."
        ),
        "order_cancelled": "Cette commande a été annulée.",
        "order_expired": "Cette commande a expiré.",
        "order_closed": "Cette commande ne peut plus être payée ici.",
        "not_payable_detail": (
            "Aucun paiement n'a été demandé. Contactez la boutique si vous pensez que c'est une erreur."
        ),
        "link_expired": "Ce lien de paiement a expiré.",
        "link_expired_detail": "Demandez un nouveau lien à la boutique.",
        "currency_refused": "La page de paiement n'accepte pas la devise de cette commande.",
        "shop_unavailable": "La boutique ne répond pas pour le moment. Réessayez dans quelques minutes.",
        "blocked": "Le paiement ne peut pas commencer :",
        "config_error": "La boutique est mal configurée ; le marchand a été prévenu. Détail :",
        "error": "Une erreur est survenue.",
        "test_banner": "MODE TEST : aucune carte réelle n'est débitée.",
    },
    "en": {
        "title": "Payment",
        "redirecting": "Taking you to the secure payment page…",
        "continue": "Continue to payment",
        "already_paid": "This order is already paid.",
        "already_paid_detail": "No further payment is needed.",
        "paid": "Payment accepted. Thank you!",
        "refused": "The payment was refused.",
        "cancelled": "The payment was cancelled.",
        "refunded": "This payment was refunded.",
        "pending": "Waiting for the payment to be confirmed…",
        "pending_detail": "This page refreshes by itself.",
        "stopped": "You left the payment page without paying.",
        "back_to_shop": "Back to the shop",
        "order": "Order",
        "amount": "Amount",
        "not_found": "Page not found.",
        "unknown_order": "This payment link does not match any order.",
        "unknown_order_detail": "Check that you copied the whole link, or ask the shop for a new one.",
        "order_cancelled": "This order was cancelled.",
        "order_expired": "This order has expired.",
        "order_closed": "This order can no longer be paid here.",
        "not_payable_detail": "No payment was asked for. Contact the shop if you think this is a mistake.",
        "link_expired": "This payment link has expired.",
        "link_expired_detail": "Ask the shop for a new link.",
        "currency_refused": "The payment page does not accept this order's currency.",
        "shop_unavailable": "The shop is not answering right now. Please try again in a few minutes.",
        "blocked": "The payment cannot start:",
        "config_error": "The shop is misconfigured; the merchant has been told. Detail:",
        "error": "Something went wrong.",
        "test_banner": "TEST MODE: no real card is charged.",
    },
}


def pick_language(accept_language: str, preferred: str = "", fallback: str = "en") -> str:
    """``fr`` or ``en``: the order's language if we have its texts, else the browser's
    first match, else ``fallback`` (the shop's language)."""
    for code in [
        preferred.lower(),
        *(part.split(";")[0].strip()[:2].lower() for part in accept_language.split(",")),
    ]:
        if code in TEXTS:
            return code
    return fallback.lower() if fallback.lower() in TEXTS else "en"
