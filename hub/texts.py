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
        "unknown_order": "Cette commande est introuvable.",
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
        "unknown_order": "This order cannot be found.",
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
