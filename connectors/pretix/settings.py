"""What a merchant fills in for one pretix event.

One hub shop is one pretix event: the organiser's and the event's short forms
(slugs) name it in the REST API, as in the shop's own URLs
(``https://pretix.example/<organizer>/<event>/``). The API token is made in
pretix's admin (Organizer > Teams > a team with access to the event, tab
"API tokens"), for a team that may view and change orders.
"""

from __future__ import annotations

from bluepaid_plugins.settings import SHOP_CALL_SETTINGS, SettingField

SETTINGS: tuple[SettingField, ...] = (
    SettingField(
        "base_url",
        "pretix URL",
        type="url",
        help="The https:// address of the pretix installation, as buyers type it: https://pretix.example "
        "(the REST API is under /api/v1).",
    ),
    SettingField(
        "organizer",
        "Organizer short form",
        help="The organizer's short form, the first part of the shop's URL: https://pretix.example/<organizer>/.",
    ),
    SettingField(
        "event",
        "Event short form",
        help="The event's short form, the second part of the shop's URL: "
        "https://pretix.example/<organizer>/<event>/.",
    ),
    SettingField(
        "api_token",
        "API token",
        type="secret",
        help="Organizer > Teams > a team with 'Can view orders' and 'Can change orders' on the event > "
        "API tokens > Add: the token shown once.",
    ),
    *SHOP_CALL_SETTINGS,
)
