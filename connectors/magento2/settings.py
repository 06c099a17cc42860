"""What a merchant fills in for a Magento 2 (Adobe Commerce) shop.

Three ways in: an integration's four OAuth keys, with which every call is
signed (OAuth 1.0a, HMAC-SHA256); an integration's access token alone, used as
a bearer token, which the store must allow (since 2.4.4: Stores >
Configuration > Services > OAuth > Consumer Settings > "Allow OAuth Access
Tokens to be used as standalone Bearer tokens"); or an admin user's name and
password, for which the hub asks an admin token (it lives 4 hours) and renews it.
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
        "consumer_key",
        "Integration consumer key",
        required=False,
        help="System > Extensions > Integrations > the Bluepaid integration > Activate: the Consumer Key. "
        "With the consumer secret and the access token secret, every call is signed (OAuth 1.0a).",
    ),
    SettingField(
        "consumer_secret",
        "Integration consumer secret",
        type="secret",
        required=False,
        help="Shown beside the consumer key.",
    ),
    SettingField(
        "access_token",
        "Integration access token",
        type="secret",
        required=False,
        help="Shown beside the consumer key. Alone (without the three other keys), it is sent as a bearer "
        "token, which the store must allow. Leave empty to use an admin user instead.",
    ),
    SettingField(
        "access_token_secret",
        "Integration access token secret",
        type="secret",
        required=False,
        help="Shown beside the access token.",
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
