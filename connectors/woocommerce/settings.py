"""What a merchant fills in for a WooCommerce shop.

The keys are made in the shop's admin (WooCommerce > Settings > Advanced >
REST API), for a user who may manage orders, with Read/Write permission: the
connector reads orders and writes payments, refunds and notes.
"""

from __future__ import annotations

from bluepaid_plugins.settings import SettingField

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
    SettingField(
        "timeout",
        "Timeout (seconds)",
        type="int",
        required=False,
        default=15,
        minimum=1,
        maximum=60,
        help="How long to wait for each answer of the shop.",
    ),
    SettingField(
        "verify_tls",
        "Check the shop's TLS certificate",
        type="bool",
        required=False,
        default=True,
        help="Turn it off only for a test shop with a self-signed certificate.",
    ),
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
