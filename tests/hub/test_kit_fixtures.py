"""The kit's fixtures as a partner uses them: a test file of theirs, run by pytest with
nothing but our package installed (the plugin comes through its ``pytest11`` entry point)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

pytest_plugins = ["pytester"]

SHOP_DOUBLE_TESTS = """
import json

import pytest
import requests

from hub.testing.shop_double import Reply


@pytest.fixture
def api(bluepaid_shop_double, tmp_path):
    (tmp_path / "order.json").write_text(json.dumps({"id": "", "total": "36.60", "currency": "EUR"}))
    double = bluepaid_shop_double("https://shop.example/wp-json", examples=tmp_path)

    def order(call, match):
        return Reply(json={**double.example("order.json"), "id": match[1]})

    double.route("GET", r"/orders/(\\d+)", order)
    return double


def test_a_route_answers_from_a_recorded_example_and_the_call_is_kept(api):
    got = requests.get("https://shop.example/wp-json/orders/7?fields=all", headers={"X-Key": "k"}, timeout=4)

    assert (got.status_code, got.json()) == (200, {"id": "7", "total": "36.60", "currency": "EUR"})
    [call] = api.calls
    assert (call.method, call.path, call.query) == ("GET", "/orders/7", {"fields": "all"})
    assert (call.headers["x-key"], call.timeout) == ("k", 4)


def test_a_fault_is_armed_for_the_next_calls_only(api):
    api.fail_next(503, json_body={"message": "busy"}, times=2)

    answers = [requests.get("https://shop.example/wp-json/orders/7", timeout=4) for _ in range(3)]

    assert [a.status_code for a in answers] == [503, 503, 200]
    assert answers[0].json() == {"message": "busy"}


def test_a_fault_can_wait_for_one_call_among_others_in_the_shops_own_format(api):
    xml = "<prestashop><errors><error><message>Invalid ID</message></error></errors></prestashop>"
    api.answer_next(Reply(400, body=xml, content_type="text/xml"), methods=("GET",), path=r"/orders/8")

    first = requests.get("https://shop.example/wp-json/orders/7", timeout=4)
    second = requests.get("https://shop.example/wp-json/orders/8", timeout=4)

    assert first.status_code == 200
    assert (second.status_code, second.headers["Content-Type"], second.text) == (400, "text/xml", xml)


def test_a_timeout_and_a_redirect_can_be_armed(api):
    api.time_out_next()
    api.redirect_next("https://169.254.169.254/")

    with pytest.raises(requests.Timeout):
        requests.get("https://shop.example/wp-json/orders/7", timeout=4)
    moved = requests.get("https://shop.example/wp-json/orders/7", timeout=4, allow_redirects=False)
    assert (moved.status_code, moved.headers["Location"]) == (302, "https://169.254.169.254/")


def test_an_unknown_route_is_a_404_and_writes_are_told_apart(api):
    answer = requests.put("https://shop.example/wp-json/orders/7/notes", json={"note": "x"}, timeout=4)

    assert answer.status_code == 404
    assert "PUT /orders/7/notes" in answer.json()["message"]
    assert [(c.method, c.json()) for c in api.writes] == [("PUT", {"note": "x"})]


def test_no_call_leaves_for_the_network(api):
    with pytest.raises(requests.ConnectionError):
        requests.get("https://elsewhere.example/", timeout=4)
"""

CONFIRMATIONS_TESTS = """
from connectors.payment_link import PaymentLinkConnector


def post(kit, message):
    assert kit.driver.post(message).status_code == 200
    return kit.driver.last_inbox().verdict


def test_accepted_then_its_duplicate_pays_once(bluepaid_make_kit, bluepaid_confirmations):
    kit = bluepaid_make_kit(PaymentLinkConnector)
    ref = kit.driver.new_order("36.60")
    platform = bluepaid_confirmations(kit.driver.start(ref).fields)
    accepted = platform.accepted()

    verdicts = [post(kit, platform.pending()), post(kit, accepted)]
    tasks = kit.driver.tasks("apply_event")
    verdicts.append(post(kit, platform.duplicate(accepted)))
    kit.driver.run_worker()

    assert verdicts == ["accepted", "accepted", "duplicate"]
    assert kit.driver.tasks("apply_event") == tasks
    [payment] = kit.driver.payments_of(ref)
    assert (payment.state, payment.id_trans) == ("paid", accepted["id_trans"])
    assert kit.driver.payments_of(ref)[0].state == "paid"


def test_a_refund_is_its_own_transaction(bluepaid_make_kit, bluepaid_confirmations):
    kit = bluepaid_make_kit(PaymentLinkConnector)
    ref = kit.driver.new_order("36.60")
    platform = bluepaid_confirmations(kit.driver.start(ref).fields)
    accepted, refund = platform.accepted(), platform.refund("10.00")

    assert [post(kit, accepted), post(kit, refund)] == ["accepted", "accepted"]
    assert refund["id_trans"] != accepted["id_trans"] and refund["mode"] == "r"
    assert kit.driver.payments_of(ref)[0].state == "partially_refunded"


def test_refused_and_cancelled_leave_the_order_payable(bluepaid_make_kit, bluepaid_confirmations):
    kit = bluepaid_make_kit(PaymentLinkConnector)
    states = []
    for outcome in ("refused", "cancelled"):
        ref = kit.driver.new_order("12.00")
        platform = bluepaid_confirmations(kit.driver.start(ref).fields)
        post(kit, getattr(platform, outcome)())
        states.append(kit.driver.payments_of(ref)[0].state)
        kit.driver.run_worker()
        assert kit.driver.open_pay(ref).status_code in (200, 302)

    assert states == ["refused", "cancelled"]


def test_a_duplicate_is_of_a_message_of_the_same_request(bluepaid_make_kit, bluepaid_confirmations):
    kit = bluepaid_make_kit(PaymentLinkConnector)
    first = bluepaid_confirmations(kit.driver.start(kit.driver.new_order()).fields)
    second = bluepaid_confirmations(kit.driver.start(kit.driver.new_order()).fields)

    try:
        second.duplicate(first.accepted())
    except ValueError as exc:
        assert "duplicate() takes a message these confirmations built" in str(exc)
    else:
        raise AssertionError("a message of another request was taken as a duplicate")
"""

SANDBOX_TESTS = '''
import requests

from connectors.payment_link import PaymentLinkConnector
from hub.testing.stack import pay_with_card
from sandbox.cards import TEST_CARDS, Scenario

ACCEPTED = next(card for card in TEST_CARDS if card.scenario is Scenario.ACCEPTED)
REFUSED = next(card for card in TEST_CARDS if card.scenario is Scenario.REFUSED_CEILING)


class PartnerLinks(PaymentLinkConnector):
    """A partner's connector (here: payment links under another id)."""

    id = "partner_links"
    label = "Partner links"


def test_a_test_card_pays_on_the_sandbox_and_the_hub_marks_the_order_paid(bluepaid_sandbox):
    stack = bluepaid_sandbox()
    ref = stack.new_order("36.60")

    back = pay_with_card(stack, stack.pay_url(ref), ACCEPTED)

    assert back.url.startswith(f"{stack.hub_url}/return/")
    assert stack.payment(ref).state == "paid"
    assert stack.run_worker() == ["done"]
    assert stack.order_status(ref) == "paid"
    assert requests.get(stack.pay_url(ref), timeout=10).status_code == 409


def test_the_sandbox_serves_the_connector_under_test(bluepaid_sandbox):
    stack = bluepaid_sandbox(connector=PartnerLinks)
    ref = stack.new_order("12.00")

    pay_with_card(stack, stack.pay_url(ref), REFUSED)

    assert stack.shop.connector == "partner_links"
    assert stack.payment(ref).state == "refused"


def test_each_call_serves_a_stack_of_its_own(bluepaid_sandbox):
    first, second = bluepaid_sandbox(), bluepaid_sandbox()

    assert len({first.hub_url, second.hub_url, first.sandbox_url, second.sandbox_url}) == 4
    assert requests.get(f"{second.sandbox_url}/", timeout=10).status_code < 500
'''


@pytest.fixture
def partner(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """A partner's test folder: their files, pytest with what our package installed, on SQLite."""
    monkeypatch.delenv("BLUEPAID_TEST_POSTGRES_URL", raising=False)
    return pytester


def run(partner: pytest.Pytester, source: str) -> pytest.RunResult:
    partner.makepyfile(test_partner=textwrap.dedent(source))
    return partner.runpytest("-p", "no:cacheprovider", "-W", "error")


def test_the_shop_double_fixture_answers_records_and_fails_on_demand(partner: pytest.Pytester) -> None:
    result = run(partner, SHOP_DOUBLE_TESTS)

    result.assert_outcomes(passed=6)


def test_the_confirmations_fixture_speaks_the_protocol_to_a_hub(partner: pytest.Pytester) -> None:
    result = run(partner, CONFIRMATIONS_TESTS)

    result.assert_outcomes(passed=4)


@pytest.mark.slow
def test_the_sandbox_fixture_serves_a_hub_and_the_platform_over_http(partner: pytest.Pytester) -> None:
    result = run(partner, SANDBOX_TESTS)

    result.assert_outcomes(passed=3)


def test_the_plugin_is_on_without_a_conftest(partner: pytest.Pytester) -> None:
    result = partner.runpytest("-p", "no:cacheprovider", "--fixtures")

    assert result.ret == 0
    listed = result.stdout.str().split("fixtures defined from hub.testing.pytest_plugin", 1)[1]
    fixtures = [line.split(" -- ")[0] for line in listed.splitlines() if " -- " in line]
    assert sorted(fixtures) == [
        "bluepaid_clock",
        "bluepaid_confirmations",
        "bluepaid_database_url",
        "bluepaid_make_kit",
        "bluepaid_sandbox",
        "bluepaid_shop_double",
    ]
    assert "no docstring available" not in listed


LAZY = """
import sys

import pytest

before = set(sys.modules)
import hub.testing.pytest_plugin

print("\\n".join(sorted(set(sys.modules) - before)))
"""


def test_importing_the_plugin_imports_nothing_of_the_hub() -> None:
    """pytest loads the plugin in every test run of an environment with our package, the
    partner's unrelated projects too: it must not start Flask, SQLAlchemy or the hub."""
    result = subprocess.run(
        [sys.executable, "-c", LAZY], capture_output=True, text=True, timeout=60, check=True
    )

    assert result.stdout.split() == ["hub", "hub.testing", "hub.testing.pytest_plugin"]


def test_a_test_run_that_uses_no_fixture_stays_light(partner: pytest.Pytester) -> None:
    partner.makepyfile(
        test_light="""
        import sys

        def test_nothing_heavy_was_imported(request):
            assert request.config.pluginmanager.has_plugin("bluepaid")
            heavy = {"flask", "sqlalchemy", "alembic", "responses", "sandbox", "hub.app", "hub.testing.kit"}
            assert sorted(heavy & set(sys.modules)) == []
        """
    )

    result = partner.runpytest_subprocess("-p", "no:cacheprovider")

    result.assert_outcomes(passed=1)
