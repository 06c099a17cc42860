"""What a merchant fills in for a Shopware 6 shop.

The Admin API credentials are an integration's (Settings > System >
Integrations), which needs read access to orders and write access to order
transactions and orders; the app secret is the one in the app's
``manifest.xml``, with which Shopware signs what it sends the hub.
"""

from __future__ import annotations

from bluepaid_plugins.settings import SHOP_CALL_SETTINGS, SettingField

SETTINGS: tuple[SettingField, ...] = (
    SettingField(
        "base_url",
        "Shop URL",
        type="url",
        help="The https:// address of the Shopware shop: https://shop.example (the Admin API is under /api).",
    ),
    SettingField(
        "client_id",
        "Access key ID",
        help="Settings > System > Integrations > Add integration: the access key ID (starting with SWIA).",
    ),
    SettingField(
        "client_secret",
        "Secret access key",
        type="secret",
        help="Shown once beside the access key ID when the integration is made.",
    ),
    SettingField(
        "app_secret",
        "App secret",
        type="secret",
        required=False,
        help="The <secret> of the Bluepaid app's manifest.xml. Shopware signs the app's payment calls "
        "and webhooks with it; without it every one is refused.",
    ),
    *SHOP_CALL_SETTINGS,
)
