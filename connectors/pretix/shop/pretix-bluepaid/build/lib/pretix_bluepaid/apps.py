"""The plugin as pretix sees it: a Django app with pretix's plugin metadata."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from pretix_bluepaid import __version__


class BluepaidApp(AppConfig):
    name = "pretix_bluepaid"
    verbose_name = "Bluepaid"

    class PretixPluginMeta:
        name = "Bluepaid"
        author = "bluepaid-plugins"
        category = "PAYMENT"
        version = __version__
        description = _(
            "Card payments on the Bluepaid payment page, through the Bluepaid hub, "
            "which records each payment and refund in pretix."
        )

    def ready(self) -> None:
        # Connects the signal receivers; Django calls ready() once the apps are loaded.
        from pretix_bluepaid import signals  # noqa: F401
