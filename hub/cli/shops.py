"""``bluepaid shop``: the shops (merchant accounts) this hub serves."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import click

from bluepaid_plugins.connector import Ownership
from bluepaid_plugins.errors import ValidationError
from hub.cli.base import cli, emit, hub_of, json_option, pairs, record_text, table
from hub.shops import (
    add_shop,
    check_connection,
    get_shop,
    list_shops,
    proxy_problems,
    set_proxy,
    set_settings,
    set_status_mapping,
    shop_summary,
    unlock_settings,
)

_SETTING = click.option(
    "--setting",
    "settings",
    multiple=True,
    metavar="NAME=VALUE",
    help="A connector setting (repeat); `bluepaid connector show ID` lists them.",
)
_PROXY = click.option(
    "--proxy",
    "proxy_url",
    default=None,
    metavar="URL",
    help="The HTTP proxy for calls to the shop (http://host:port); an empty URL removes it.",
)
_STATUS = click.option(
    "--status",
    "statuses",
    multiple=True,
    metavar="EVENT=STATUS",
    help="Map a payment event to a shop status (repeat; an empty STATUS leaves the status alone).",
)


@cli.group()
def shop() -> None:
    """Shops (merchant accounts) served by this hub."""


@shop.command("add")
@click.argument("slug")
@click.option("--id-boutique", required=True, help="The merchant id on the platform.")
@click.option("--name", default="", help="The shop's name, shown to buyers (default: SLUG).")
@click.option("--connector", default="payment_link", show_default=True, help="The shop software's connector.")
@_SETTING
@_STATUS
@click.option("--no-check", is_flag=True, help="Do not call the shop to check the settings first.")
@click.option("--production", is_flag=True, help="Live shop (default: test mode).")
@click.option(
    "--accept-test/--refuse-test", default=None, help="Accept test payments (default: in test mode only)."
)
@click.option(
    "--allow-ip",
    "allowed_ips",
    multiple=True,
    help="Source address allowed to confirm (repeat; default: the platform's).",
)
@click.option("--platform-url", default="", help="Platform base URL (default: BLUEPAID_PLATFORM_URL).")
@click.option(
    "--redirect",
    "redirect_method",
    type=click.Choice(["get", "post"]),
    default="get",
    show_default=True,
    help="How the buyer is sent to the platform.",
)
@click.option("--return-url", default="", help="Where the 'back to shop' link of the return page goes.")
@click.option(
    "--send-confirmation-url",
    is_flag=True,
    help="Send the confirmation URL with each payment (url_retour_bo); the buyer can then see it.",
)
@click.option("--language", default="FR", show_default=True, help="The shop's language: FR, EN...")
@click.option("--notify-email", default="", help="The merchant's address for payment mails.")
@_PROXY
@json_option
@click.pass_context
def shop_add(
    ctx: click.Context,
    /,
    slug: str,
    settings: tuple[str, ...],
    statuses: tuple[str, ...],
    no_check: bool,
    production: bool,
    allowed_ips: tuple[str, ...],
    proxy_url: str | None,
    as_json: bool,
    **options: Any,
) -> None:
    """Add a shop, check its connector reaches the shop, and print the URLs to register."""
    hub = hub_of(ctx)
    checked: list[str] = []
    created = add_shop(
        hub,
        slug=slug,
        settings=pairs(settings, "--setting"),
        status_mapping=pairs(statuses, "--status"),
        test_mode=not production,
        allowed_ips=list(allowed_ips) or None,
        check=not no_check,
        proxy_url=proxy_url or "",
        on_checked=checked.append,
        **options,
    )
    summary = shop_summary(hub, created)
    if checked:
        summary["connection"] = checked[0]
    emit(summary, as_json, record_text)


@shop.command("list")
@json_option
@click.pass_context
def shop_list(ctx: click.Context, as_json: bool) -> None:
    """List the shops."""
    hub = hub_of(ctx)
    data = [shop_summary(hub, s) for s in list_shops(hub)]
    emit(data, as_json, table(["shop", "id_boutique", "connector", "test_mode"], "no shops"))


@shop.command("show")
@click.argument("slug")
@json_option
@click.pass_context
def shop_show(ctx: click.Context, slug: str, as_json: bool) -> None:
    """Show one shop, its URLs, settings (secrets masked) and status mapping."""
    hub = hub_of(ctx)
    emit(shop_summary(hub, get_shop(hub, slug)), as_json, record_text)


@shop.command("check")
@click.argument("slug")
@json_option
@click.pass_context
def shop_check(ctx: click.Context, slug: str, as_json: bool) -> None:
    """Call the shop once with the stored settings and say whether it accepts them."""
    found = check_connection(hub_of(ctx), slug)
    emit({"shop": slug, "ok": True, "message": found}, as_json, lambda d: d["message"])


@shop.command("set")
@click.argument("slug")
@_SETTING
@_PROXY
@json_option
@click.pass_context
def shop_set(
    ctx: click.Context, slug: str, settings: tuple[str, ...], proxy_url: str | None, as_json: bool
) -> None:
    """Change connector settings of a shop (the others are kept), or its proxy."""
    if not settings and proxy_url is None:
        raise ValidationError([], "give at least one --setting NAME=VALUE, or --proxy URL")
    hub = hub_of(ctx)
    # A bad proxy URL stops the command before any setting changed.
    if proxy_url is not None and (problems := proxy_problems(proxy_url)):
        raise ValidationError(problems, "shop not changed")
    changed = set_settings(hub, slug, pairs(settings, "--setting")) if settings else get_shop(hub, slug)
    if proxy_url is not None:
        changed = set_proxy(hub, slug, proxy_url)
    emit(shop_summary(hub, changed), as_json, record_text)


@shop.command("unlock")
@click.argument("slug")
@click.option("--reason", required=True, help="Why the payment settings must change (recorded).")
@click.option("--by", "actor", default="cli", show_default=True, help="Who unlocks them (recorded).")
@json_option
@click.pass_context
def shop_unlock(ctx: click.Context, slug: str, reason: str, actor: str, as_json: bool) -> None:
    """Unlock a production shop's payment settings for an hour, with a reason (recorded)."""
    target = unlock_settings(hub_of(ctx), slug, actor, reason)
    emit(shop_summary(hub_of(ctx), target), as_json, record_text)


@shop.command("mapping")
@click.argument("slug")
@_STATUS
@click.option("--reset", is_flag=True, help="Go back to the connector's default mapping first.")
@json_option
@click.pass_context
def shop_mapping(
    ctx: click.Context, slug: str, statuses: tuple[str, ...], reset: bool, as_json: bool
) -> None:
    """Show the status mapping (payment event -> shop status), or change it."""
    hub = hub_of(ctx)
    target = get_shop(hub, slug)
    if statuses or reset:
        target = set_status_mapping(hub, slug, pairs(statuses, "--status"), reset=reset)
    mapping = shop_summary(hub, target)["status_mapping"]
    emit(mapping, as_json, lambda d: "\n".join(f"{k}: {v or '(left alone)'}" for k, v in d.items()))


@shop.command("pay-url")
@click.argument("slug")
@click.argument("order_ref")
@click.option("--key", default="", help="The order's own secret in the shop (order key, secure key...).")
@click.option("--expires", type=click.IntRange(min=1), default=None, help="Days a hub-signed link works.")
@json_option
@click.pass_context
def shop_pay_url(
    ctx: click.Context, slug: str, order_ref: str, key: str, expires: int | None, as_json: bool
) -> None:
    """Print the URL a buyer opens to pay ORDER_REF (what the shop's checkout must use)."""
    hub = hub_of(ctx)
    target = get_shop(hub, slug)
    cls = hub.plugins.connector(target.connector)
    if cls.ownership is Ownership.SHOP_SECRET and not key:
        raise ValidationError([], f"connector {cls.id} proves orders with the shop's own secret: give --key")
    if cls.ownership is Ownership.HUB_TOKEN and key:
        raise ValidationError([], f"connector {cls.id} links are signed by the hub: leave out --key")
    if cls.ownership is Ownership.SHOP_SECRET and expires:
        why = "links carry the shop's own order key, which never expires"
        raise ValidationError([], f"connector {cls.id} {why}: leave out --expires")
    until = hub.clock() + timedelta(days=expires) if expires else None
    url = hub.pay_url(target, order_ref, key, expires=until)
    emit({"shop": slug, "order_ref": order_ref, "pay_url": url}, as_json, lambda d: d["pay_url"])
