"""What a merchant fills in for a Magento 2 (Adobe Commerce) shop.

Two ways in: an admin user's name and password, for which the hub asks an
admin token (it lives 4 hours) and renews it; or an integration's access
token, used as a bearer token, which the store must allow (since 2.4.4:
Stores > Configuration > Services > OAuth > Consumer Settings > "Allow OAuth
Access Tokens to be used as standalone Bearer tokens").
"""

from __future__ import annotations

from bluepaid_plugins.settings import SHOP_CALL_SETTINGS, SettingField

SETTINGS: tuple[SettingField, ...] = (
    SettingField(
        "base_url",
        "Shop URL",
        type="url",
        help="The https:// address of the Magento store: https://shop.example (the REST API is under /rest).",
    ),
    SettingField(
        "store_code",
        "Store view code",
        required=False,
        default="default",
        help="The store view whose API is called (/rest/<code>/V1); 'default' for most shops.",
    ),
    SettingField(
        "access_token",
        "Integration access token",
        type="secret",
        required=False,
        help="System > Extensions > Integrations > the Bluepaid integration > Activate: the Access Token. "
        "Leave empty to use an admin user instead.",
    ),
    SettingField(
        "username",
        "Admin user name",
        required=False,
        help="An admin user allowed Sales > Operations > Orders (view, invoice, credit memos, comment, "
        "cancel), when no integration access token is given.",
    ),
    SettingField(
        "password",
        "Admin password",
        type="secret",
        required=False,
        help="That admin user's password.",
    ),
    *SHOP_CALL_SETTINGS,
)
