"""The production lock of a shop's payment settings holds for every writer: the
command line obeys it like the back office, and its unlock records why and who."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from hub.models import AuditEntry, Shop
from tests.hub.test_cli import app, bluepaid, env, upgraded

__all__ = ["app", "bluepaid", "env", "upgraded"]


def audit(app: Any) -> list[tuple[str, str, str]]:
    with app.extensions["bluepaid.hub"].db.transaction() as db:
        rows = db.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
        return [(row.actor, row.action, row.detail) for row in rows]


def proxy_of(app: Any) -> str:
    with app.extensions["bluepaid.hub"].db.transaction() as db:
        return str(db.scalars(select(Shop.proxy_url).where(Shop.slug == "demo")).one())


def test_the_command_line_cannot_change_a_production_shop_until_unlocked_with_a_reason(
    upgraded: Any, app: Any
) -> None:
    assert upgraded("shop", "add", "demo", "--id-boutique", "21573www", "--production").code == 0

    proxy = upgraded("shop", "set", "demo", "--proxy", "http://proxy.test:3128")
    mapping = upgraded("shop", "mapping", "demo", "--status", "refused=open")
    no_reason = upgraded("shop", "unlock", "demo", "--reason", " ")

    for refused in (proxy, mapping):
        assert refused.code != 0 and "locked in production" in refused.err
    assert no_reason.code != 0 and "reason" in no_reason.err
    assert proxy_of(app) == "" and audit(app) == []

    assert upgraded("shop", "unlock", "demo", "--reason", "new proxy", "--by", "ops@demo.test").code == 0
    assert upgraded("shop", "set", "demo", "--proxy", "http://proxy.test:3128").code == 0
    assert upgraded("shop", "mapping", "demo", "--status", "refused=open").code == 0

    assert proxy_of(app) == "http://proxy.test:3128"
    assert audit(app) == [("ops@demo.test", "unlock_settings", "new proxy")]


def test_saving_unchanged_values_of_a_locked_shop_is_not_refused(upgraded: Any, app: Any) -> None:
    assert upgraded("shop", "add", "demo", "--id-boutique", "21573www", "--production").code == 0

    same_proxy = upgraded("shop", "set", "demo", "--proxy", "")
    same_mapping = upgraded("shop", "mapping", "demo", "--status", "paid=paid")

    assert (same_proxy.code, same_mapping.code) == (0, 0)


def test_a_test_shop_is_never_locked(upgraded: Any, app: Any) -> None:
    assert upgraded("shop", "add", "demo", "--id-boutique", "21573www").code == 0

    assert upgraded("shop", "set", "demo", "--proxy", "http://proxy.test:3128").code == 0
    assert proxy_of(app) == "http://proxy.test:3128"
