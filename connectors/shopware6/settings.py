"""What a merchant fills in for a Shopware 6 shop.

The merchant gives the shop URL and the app secret of the app's
``manifest.xml``, with which Shopware signs the app's registration. The
registration fills in the rest: the Admin API credentials Shopware makes for
the app (its integration, with the permissions of the manifest) and the shop
secret the hub handed Shopware, with which Shopware signs everything else.
Credentials of an integration made by hand (Settings > System > Integrations)
may be given instead; a later registration replaces them.
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
        required=False,
        # Handed over with the secret access key at the registration: kept sealed alike.
        secret=True,
        help="Filled in when Shopware registers the Bluepaid app. Or by hand: Settings > System > "
        "Integrations > Add integration, the access key ID (starting with SWIA).",
    ),
    SettingField(
        "client_secret",
        "Secret access key",
        type="secret",
        required=False,
        help="Filled in when Shopware registers the Bluepaid app. Or by hand: shown once beside the "
        "access key ID when the integration is made.",
    ),
    SettingField(
        "app_secret",
        "App secret",
        type="secret",
        required=False,
        help="The <secret> of the Bluepaid app's manifest.xml. Shopware signs the app's registration "
        "with it; without it the app cannot be installed.",
    ),
    SettingField(
        "shop_secret",
        "Shop secret",
        type="secret",
        required=False,
        help="Set by the app's registration: the secret the hub handed Shopware, with which it signs "
        "the app's payment calls and webhooks. Leave it alone.",
    ),
    SettingField(
        "pending_shop_secret",
        "Shop secret being registered",
        type="secret",
        required=False,
        help="Set while Shopware registers the app, until it confirms. Leave it alone.",
    ),
    SettingField(
        "previous_shop_secret",
        "Previous shop secret",
        type="secret",
        required=False,
        help="Set when a new registration replaces the shop secret: calls Shopware signed with the "
        "previous one are still accepted for a minute. Leave it alone.",
    ),
    SettingField(
        "secrets_rotated_at",
        "Shop secret replaced at",
        type="int",
        required=False,
        help="Set with the previous shop secret: when it was replaced (Unix time). Leave it alone.",
    ),
    *SHOP_CALL_SETTINGS,
)
