"""Registers the payment provider with pretix."""

from typing import Any

from django.dispatch import receiver
from pretix.base.signals import register_payment_providers

from pretix_bluepaid.payment import Bluepaid


@receiver(register_payment_providers, dispatch_uid="payment_bluepaid")
def register_payment_provider(sender: Any, **kwargs: Any) -> type[Bluepaid]:
    return Bluepaid
