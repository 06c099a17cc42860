"""Starting a payment: ``GET /pay/<shop>/<order>`` sends the buyer to the platform."""

from __future__ import annotations

import re
from collections.abc import Callable
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from sqlalchemy import func, select

from bluepaid_plugins import Connector, Order, PaymentEvent, ShopView, hookimpl
from bluepaid_plugins.domain import Schedule
from bluepaid_plugins.errors import PaymentVetoed, ShopUnavailable
from bluepaid_plugins.money import Money
from bluepaid_plugins.protocol import divers_token
from hub.models import LinkOrder, Payment, Shop
from hub.orders import create_link_order
from hub.shops import add_shop
from tests.hub.conftest import PLATFORM, SANDBOX_IP, HubDriver, MakeDriver


class FormParser(HTMLParser):
    """The forms, inputs and scripts of a page, attribute values unescaped."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, str | None]] = []
        self.inputs: list[dict[str, str | None]] = []
        self.scripts: list[dict[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {"form": self.forms, "input": self.inputs, "script": self.scripts}.get(tag)
        if found is not None:
            found.append(dict(attrs))


def parse_page(text: str) -> FormParser:
    parser = FormParser()
    parser.feed(text)
    parser.close()
    return parser


def location_fields(location: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(location).query, keep_blank_values=True))


def payments_of(driver: HubDriver, order_ref: str) -> list[Payment]:
    with driver.hub.db.transaction() as session:
        return list(session.scalars(select(Payment).where(Payment.order_ref == order_ref)))


def link_order(
    driver: HubDriver, amount: str = "36.60", *, email: str = "", ref: str = "", language: str = ""
) -> str:
    order = create_link_order(
        driver.hub.db,
        driver.shop,
        Money.parse(amount, "EUR"),
        now=driver.hub.clock(),
        email=email,
        ref=ref,
        language=language,
    )
    return order.ref


def assert_no_way_to_the_platform(response: Any) -> None:
    assert "Location" not in response.headers
    assert PLATFORM not in response.text
    assert "paiement-securise" not in response.text
    assert "<form" not in response.text
    assert "<script" not in response.text


# GET redirect


def test_pay_redirects_to_the_platform_with_the_protocol_variables(driver: HubDriver) -> None:
    ref = driver.new_order("36.60")

    response = driver.client.get(driver.pay_path(ref))

    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith(f"{PLATFORM}/in.php?")
    fields = location_fields(location)
    payment_id = fields["url_retour_ok"].split("/")[-2]
    assert fields == {
        "id_boutique": "21573www",
        "id_client": ref,
        "montant": "36.60",
        "devise": "EUR",
        "langue": "FR",
        "divers": divers_token(driver.shop.secret, "21573www", ref, Money.parse("36.60", "EUR"), payment_id),
        "url_retour_ok": f"hub.test/return/demo/{payment_id}/ok",
        "url_retour_stop": f"hub.test/return/demo/{payment_id}/stop",
        "set_secure_return": "0",
        "set_secure_conf": "1",
    }


def test_amount_in_the_query_string_is_ignored(driver: HubDriver) -> None:
    ref = driver.new_order("36.60")

    response = driver.client.get(driver.pay_path(ref) + "&montant=0.01&devise=USD&amount=0.01")

    assert response.status_code == 302
    fields = location_fields(response.headers["Location"])
    assert (fields["montant"], fields["devise"]) == ("36.60", "EUR")
    (payment,) = payments_of(driver, ref)
    assert str(payment.amount) == "36.60"


def test_payment_row_records_the_shops_amount(driver: HubDriver) -> None:
    ref = driver.new_order("12.34")

    driver.client.get(driver.pay_path(ref) + "&montant=99.99")

    (payment,) = payments_of(driver, ref)
    assert (str(payment.amount), payment.currency, payment.state) == ("12.34", "EUR", "created")


# POST redirect


def test_post_shop_gets_an_auto_submitting_form_with_the_variables(make_driver: MakeDriver) -> None:
    driver = make_driver(redirect_method="post")
    ref = link_order(driver, "36.60", email="buyer@example.com")

    response = driver.client.get(driver.pay_path(ref))

    assert response.status_code == 200
    assert "Location" not in response.headers
    page = parse_page(response.text)
    assert [(f.get("method"), f.get("action"), f.get("id")) for f in page.forms] == [
        ("post", f"{PLATFORM}/in.php", "pay")
    ]
    assert 'document.getElementById("pay").submit()' in response.text
    sent = {str(i["name"]): str(i["value"]) for i in page.inputs if i.get("type") == "hidden"}
    (payment,) = payments_of(driver, ref)
    assert sent == {
        "id_boutique": "21573www",
        "id_client": ref,
        "montant": "36.60",
        "devise": "EUR",
        "langue": "FR",
        "divers": divers_token(
            driver.shop.secret, "21573www", ref, Money.parse("36.60", "EUR"), payment.public_id
        ),
        "email_client": "buyer@example.com",
        "url_retour_ok": f"hub.test/return/demo/{payment.public_id}/ok",
        "url_retour_stop": f"hub.test/return/demo/{payment.public_id}/stop",
        "set_secure_return": "0",
        "set_secure_conf": "1",
    }


def test_post_form_script_carries_the_csp_nonce(make_driver: MakeDriver) -> None:
    driver = make_driver(redirect_method="post")
    ref = driver.new_order()

    response = driver.client.get(driver.pay_path(ref))

    csp = response.headers["Content-Security-Policy"]
    nonce = re.search(r"script-src 'nonce-([^']+)'", csp)
    assert nonce is not None
    assert "form-action http://platform.test" in csp
    scripts = parse_page(response.text).scripts
    assert [s.get("nonce") for s in scripts] == [nonce.group(1)]


def test_post_form_nonce_changes_on_every_page(make_driver: MakeDriver) -> None:
    driver = make_driver(redirect_method="post")
    ref = driver.new_order()

    first = driver.client.get(driver.pay_path(ref)).headers["Content-Security-Policy"]
    second = driver.client.get(driver.pay_path(ref)).headers["Content-Security-Policy"]

    assert first != second


def test_post_form_values_are_html_escaped(make_driver: MakeDriver) -> None:
    class Naming:
        @hookimpl
        def bluepaid_payment_request(self, shop: ShopView, order: Order, fields: dict[str, str]) -> None:
            fields["nom"] = '"><script>alert(1)</script>'

    driver = make_driver(Naming(), redirect_method="post")
    email = 'x"><script>@example.com'
    ref = link_order(driver, email=email, ref='A"><img src=x onerror=alert(1)>')

    response = driver.client.get(driver.pay_path(ref))

    assert response.status_code == 200
    assert '"><script>' not in response.text
    assert '"><img' not in response.text
    page = parse_page(response.text)
    sent = {str(i["name"]): str(i["value"]) for i in page.inputs if i.get("type") == "hidden"}
    assert sent["email_client"] == email
    assert sent["id_client"] == ref
    assert sent["nom"] == '"><script>alert(1)</script>'
    assert len(page.scripts) == 1


# The payment page's language


@pytest.mark.parametrize(
    ("order_language", "accept_language", "langue"),
    [
        ("EN", "fr-FR,fr;q=0.9", "EN"),  # the order's language comes first
        ("", "de-DE,de;q=0.9,en;q=0.5", "DE"),  # then the buyer's, though the hub's pages lack it
        ("", "ja,en;q=0.3", "EN"),  # the browser's best the platform speaks
        ("", "ja", "FR"),  # then the shop's
        ("", "", "FR"),
    ],
)
def test_the_platform_page_speaks_the_orders_then_the_buyers_then_the_shops_language(
    driver: HubDriver, order_language: str, accept_language: str, langue: str
) -> None:
    ref = link_order(driver, language=order_language)

    response = driver.client.get(driver.pay_path(ref), headers={"Accept-Language": accept_language})

    assert location_fields(response.headers["Location"])["langue"] == langue


def test_a_subscription_request_speaks_the_buyers_language_too(driver: HubDriver) -> None:
    ref = create_link_order(
        driver.hub.db,
        driver.shop,
        Money.parse("9.90", "EUR"),
        now=driver.hub.clock(),
        schedule=Schedule(occurrences=3),
    ).ref

    response = driver.client.get(driver.pay_path(ref), headers={"Accept-Language": "en-GB"})

    assert location_fields(response.headers["Location"])["LANGUE"] == "EN"


# Already paid


def test_already_paid_payment_shows_already_paid_and_no_way_to_pay(driver: HubDriver) -> None:
    started = driver.start(driver.new_order())
    driver.post(driver.confirmation(started))

    response = driver.client.get(driver.pay_path(started.fields["id_client"]))

    assert response.status_code == 409
    assert "This order is already paid." in response.text
    assert_no_way_to_the_platform(response)


def test_order_the_shop_says_is_paid_shows_already_paid(driver: HubDriver) -> None:
    started = driver.start(driver.new_order())
    driver.post(driver.confirmation(started))
    driver.run_worker()  # the shop now marks its order paid

    response = driver.client.get(
        driver.pay_path(started.fields["id_client"]), headers={"Accept-Language": "fr"}
    )

    assert response.status_code == 409
    assert "Cette commande est déjà payée." in response.text
    assert_no_way_to_the_platform(response)


def test_already_paid_post_shop_shows_no_form(make_driver: MakeDriver) -> None:
    driver = make_driver(redirect_method="post")
    ref = driver.new_order()
    page = parse_page(driver.client.get(driver.pay_path(ref)).text)
    fields = {str(i["name"]): str(i["value"]) for i in page.inputs if i.get("type") == "hidden"}
    driver.post(
        {
            "etat": "ok",
            "mode": "test",
            "id_trans": "T1",
            "id_client": ref,
            "id_boutique": "21573www",
            "divers": fields["divers"],
            "montant": "36.60",
            "devise": "EUR",
        }
    )

    response = driver.client.get(driver.pay_path(ref))

    assert response.status_code == 409
    assert_no_way_to_the_platform(response)
    assert "Content-Security-Policy" in response.headers
    assert "nonce" not in response.headers["Content-Security-Policy"]


# Unknown shop or order


def test_unknown_shop_is_404(driver: HubDriver) -> None:
    ref = driver.new_order()

    response = driver.client.get(f"/pay/nowhere/{ref}")

    assert response.status_code == 404
    assert "This payment link does not match any order." in response.text
    assert_no_way_to_the_platform(response)


def test_unknown_order_is_404_with_a_clear_text(driver: HubDriver) -> None:
    response = driver.client.get("/pay/demo/NO-SUCH-ORDER")

    assert response.status_code == 404
    assert "This payment link does not match any order." in response.text
    assert_no_way_to_the_platform(response)
    assert payments_of(driver, "NO-SUCH-ORDER") == []


def test_unknown_order_is_explained_in_french_to_a_french_browser(driver: HubDriver) -> None:
    response = driver.client.get(
        "/pay/demo/NO-SUCH-ORDER", headers={"Accept-Language": "fr-FR,fr;q=0.9,en;q=0.8"}
    )

    assert response.status_code == 404
    assert "Ce lien de paiement ne correspond à aucune commande." in response.text
    assert '<html lang="fr">' in response.text


def test_order_of_another_shop_is_unknown_here(make_driver: MakeDriver) -> None:
    driver = make_driver()
    other = add_shop(driver.hub, slug="other", id_boutique="99999www", allowed_ips=[SANDBOX_IP])
    ref = create_link_order(driver.hub.db, other, Money.parse("5.00", "EUR"), now=driver.hub.clock()).ref
    theirs = urlsplit(driver.hub.pay_url(other, ref))

    response = driver.client.get(f"/pay/demo/{ref}?{theirs.query}")

    assert response.status_code == 404
    assert "This payment link does not match any order." in response.text


# Plugins


def test_check_order_hook_blocks_the_payment_with_its_reason(make_driver: MakeDriver) -> None:
    class StockCheck:
        @hookimpl
        def bluepaid_check_order(self, shop: ShopView, order: Order) -> str | None:
            return "the blue T-shirt is out of stock"

    driver = make_driver(StockCheck())
    ref = driver.new_order()

    response = driver.client.get(driver.pay_path(ref))

    assert response.status_code == 409
    assert "the blue T-shirt is out of stock" in response.text
    assert_no_way_to_the_platform(response)
    assert payments_of(driver, ref) == []


def test_check_order_hook_returning_none_lets_the_payment_go(make_driver: MakeDriver) -> None:
    seen: list[tuple[str, str]] = []

    class Watcher:
        @hookimpl
        def bluepaid_check_order(self, shop: ShopView, order: Order) -> str | None:
            seen.append((shop.slug, order.ref))
            return None

    driver = make_driver(Watcher())
    ref = driver.new_order()

    response = driver.client.get(driver.pay_path(ref))

    assert response.status_code == 302
    assert seen == [("demo", ref)]


def test_payment_request_hook_may_add_an_optional_variable(make_driver: MakeDriver) -> None:
    class Shipping:
        @hookimpl
        def bluepaid_payment_request(self, shop: ShopView, order: Order, fields: dict[str, str]) -> None:
            fields["pays_liv"] = "FRA"

    driver = make_driver(Shipping())

    response = driver.client.get(driver.pay_path(driver.new_order()))

    assert response.status_code == 302
    assert location_fields(response.headers["Location"])["pays_liv"] == "FRA"


@pytest.mark.parametrize(
    ("name", "value"),
    [("montant", "0.01"), ("devise", "USD"), ("id_boutique", "99999www"), ("divers", "0" * 32)],
)
def test_payment_request_hook_changing_a_protected_variable_is_refused(
    make_driver: MakeDriver, name: str, value: str
) -> None:
    class Tamper:
        @hookimpl
        def bluepaid_payment_request(self, shop: ShopView, order: Order, fields: dict[str, str]) -> None:
            fields[name] = value

    driver = make_driver(Tamper())

    response = driver.client.get(driver.pay_path(driver.new_order()))

    assert response.status_code == 500  # the merchant's plugin is broken: a configuration error
    assert name in response.text
    assert_no_way_to_the_platform(response)


def test_payment_request_hook_veto_is_shown_to_the_buyer(make_driver: MakeDriver) -> None:
    class Veto:
        @hookimpl
        def bluepaid_payment_request(self, shop: ShopView, order: Order, fields: dict[str, str]) -> None:
            raise PaymentVetoed("payments are closed for the night")

    driver = make_driver(Veto())

    response = driver.client.get(driver.pay_path(driver.new_order()))

    assert response.status_code == 409
    assert "payments are closed for the night" in response.text
    assert_no_way_to_the_platform(response)


def test_hook_gets_a_shop_view_without_secrets(make_driver: MakeDriver) -> None:
    views: list[ShopView] = []

    class Watcher:
        @hookimpl
        def bluepaid_payment_request(self, shop: ShopView, order: Order, fields: dict[str, str]) -> None:
            views.append(shop)

    driver = make_driver(Watcher())
    driver.client.get(driver.pay_path(driver.new_order()))

    assert views == [ShopView("demo", "21573www", "demo", "payment_link", True, "FR")]


# Coming back to pay again


def test_restarting_an_unpaid_order_reuses_its_payment(driver: HubDriver) -> None:
    ref = driver.new_order()

    first = driver.start(ref)
    second = driver.start(ref)

    assert second.payment_id == first.payment_id
    assert second.fields["divers"] == first.fields["divers"]
    assert len(payments_of(driver, ref)) == 1


def test_restarting_after_a_refusal_gets_a_payment_of_its_own(driver: HubDriver) -> None:
    ref = driver.new_order()
    first = driver.start(ref)
    driver.post(driver.confirmation(first, etat="ko"))

    second = driver.start(ref)

    assert second.fields["divers"] != first.fields["divers"]
    assert len(payments_of(driver, ref)) == 2


def test_retry_after_a_refusal_is_not_taken_for_the_refused_one(driver: HubDriver) -> None:
    ref = driver.new_order()
    first = driver.start(ref)
    driver.post(driver.confirmation(first, etat="ko", id_trans="T1"))
    second = driver.start(ref)

    driver.post(driver.confirmation(second, etat="attente", id_trans="T2"))

    assert driver.payment(second.payment_id).state == "pending"
    page = driver.client.get(f"/return/demo/{second.payment_id}/ok")
    assert '<meta http-equiv="refresh"' in page.text


def test_an_old_tab_cannot_pay_an_order_whose_amount_changed(make_driver: MakeDriver) -> None:
    driver = make_driver()
    ref = driver.new_order("10.00")
    old_tab = driver.start(ref)
    with driver.hub.db.transaction() as session:
        order = session.scalars(select(LinkOrder).where(LinkOrder.ref == ref)).one()
        order.amount_minor = 2500  # the cart grew
    new_tab = driver.start(ref)

    driver.post(driver.confirmation(old_tab))

    assert driver.last_inbox().verdict == "amount_mismatch"
    assert driver.payment(old_tab.payment_id).state == "created"
    assert new_tab.fields["montant"] == "25.00"
    assert driver.tasks("apply_event") == 0


def test_a_second_payment_of_a_paid_order_is_flagged(driver: HubDriver) -> None:
    ref = driver.new_order()
    first = driver.start(ref)
    driver.post(driver.confirmation(first, etat="ko", id_trans="T1"))
    second = driver.start(ref)
    driver.post(driver.confirmation(second, id_trans="T2"))

    # The platform changes its mind about the first attempt: the buyer paid twice.
    driver.post(driver.confirmation(first, etat="ok", id_trans="T3"))

    assert driver.payment(first.payment_id).state == "paid"
    assert "double_payment" in driver.payment(first.payment_id).flags
    assert "double_payment" not in driver.payment(second.payment_id).flags


# The shop cannot answer


class DownConnector(Connector):
    """A shop whose API times out."""

    id = "down"
    label = "Down shop"
    contract = ">=1,<2"

    def fetch_order(self, ref: str) -> Order:
        raise ShopUnavailable(f"{self.label} answered 503 for order {ref}; will retry")

    def apply_event(self, event: PaymentEvent) -> None:
        raise ShopUnavailable(f"{self.label} answered 503; will retry")


class DownPlugin:
    @hookimpl
    def bluepaid_register_connectors(self, register: Callable[[type[Connector]], None]) -> None:
        register(DownConnector)


def test_shop_unavailable_gives_503_with_a_retry_text(make_driver: MakeDriver) -> None:
    driver = make_driver(DownPlugin(), connector="down")

    response = driver.client.get("/pay/demo/A1")

    assert response.status_code == 503
    assert "Please try again in a few minutes." in response.text
    assert "Down shop answered 503" not in response.text
    assert_no_way_to_the_platform(response)


def test_shop_unavailable_in_french(make_driver: MakeDriver) -> None:
    driver = make_driver(DownPlugin(), connector="down")

    response = driver.client.get("/pay/demo/A1", headers={"Accept-Language": "fr"})

    assert response.status_code == 503
    assert "Réessayez dans quelques minutes." in response.text


def test_shop_unavailable_stores_no_payment(make_driver: MakeDriver) -> None:
    driver = make_driver(DownPlugin(), connector="down")

    driver.client.get("/pay/demo/A1")

    with driver.hub.db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Payment)) == 0


def test_the_secret_confirmation_url_never_reaches_the_buyer_by_default(driver: HubDriver) -> None:
    response = driver.client.get(driver.pay_path(driver.new_order()))

    assert driver.shop.confirm_token not in response.headers["Location"]
    assert "url_retour_bo" not in location_fields(response.headers["Location"])


def test_a_shop_may_send_its_confirmation_url_with_each_payment(make_driver: MakeDriver) -> None:
    driver = make_driver()
    with driver.hub.db.transaction() as session:
        shop = session.get(Shop, driver.shop.id)
        assert shop is not None
        shop.send_confirmation_url = True

    response = driver.client.get(driver.pay_path(driver.new_order()))

    fields = location_fields(response.headers["Location"])
    assert fields["url_retour_bo"] == f"hub.test/confirm/demo/{driver.shop.confirm_token}"
    assert fields["set_secure_conf"] == "0"
