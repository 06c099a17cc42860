"""What a merchant fills in for a WooCommerce shop.

The keys are made in the shop's admin (WooCommerce > Settings > Advanced >
REST API), for a user who may manage orders, with Read/Write permission: the
connector reads orders and writes payments, refunds and notes.
"""

from __future__ import annotations

from bluepaid_plugins.settings import SHOP_CALL_SETTINGS, SettingField

SETTINGS: tuple[SettingField, ...] = (
    SettingField(
        "base_url",
        "Shop URL",
        type="url",
        help="The https:// address of the WordPress site, as customers type it: https://shop.example "
        "(the REST API is under /wp-json/wc/v3).",
    ),
    SettingField(
        "consumer_key",
        "Consumer key",
        type="secret",
        help="WooCommerce > Settings > Advanced > REST API > Add key, permission Read/Write: "
        "the key starting with ck_.",
    ),
    SettingField(
        "consumer_secret",
        "Consumer secret",
        type="secret",
        help="Shown once beside the consumer key when the key is made: the secret starting with cs_.",
    ),
    SettingField(
        "webhook_secret",
        "Webhook secret",
        type="secret",
        required=False,
        help="The Secret of the webhook made in WooCommerce > Settings > Advanced > Webhooks "
        "(topic Order updated). Without it every webhook is refused.",
    ),
    *SHOP_CALL_SETTINGS,
    SettingField(
        "keys_in_query",
        "Send the keys in the query string",
        type="bool",
        required=False,
        default=False,
        help="Only for servers that drop the Authorization header (some Apache and CGI set-ups), "
        "when the key is refused although it is right.",
    ),
)
