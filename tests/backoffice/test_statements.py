"""Monthly statements: the lines, the fee estimates per plan, CSV and a PDF read back."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

from pypdf import PdfReader

from hub.backoffice.pdf import LINES_PER_PAGE, text_pdf
from hub.backoffice.statements import PLANS, fee
from hub.testing.driver import HubDriver
from tests.backoffice.conftest import Browser, paid_payment

MONTH = "/backoffice/statements/demo/2026-11"


def test_fees_follow_the_plan() -> None:
    assert fee(PLANS["start"], "payment", Decimal("100.00")) == Decimal("3.20")
    assert fee(PLANS["pro"], "payment", Decimal("100.00")) == Decimal("2.64")
    assert fee(PLANS["start"], "refusal", Decimal("100.00")) == Decimal("0.30")
    assert fee(PLANS["pro"], "refund", Decimal("100.00")) == Decimal("0.00")


def test_the_csv_lists_live_payments_and_refusals_with_fees(owner: Browser, driver: HubDriver) -> None:
    paid_payment(driver, "100.00", mode="", id_trans="T1")
    paid_payment(driver, "50.00", mode="", etat="ko", id_trans="T2")
    paid_payment(driver, "70.00", id_trans="T3")  # a test card: no fee, not listed

    rows = list(csv.DictReader(io.StringIO(owner.get(f"{MONTH}.csv").text)))

    assert [(r["kind"], r["id_trans"], r["amount"], r["estimated_fee"]) for r in rows] == [
        ("payment", "T1", "100.00", "3.20"),
        ("refusal", "T2", "50.00", "0.30"),
    ]


def test_the_pro_plan_adds_its_monthly_fee(owner: Browser, driver: HubDriver) -> None:
    owner.post("/backoffice/statements/demo/plan", {"plan": "pro"}, page="/backoffice/statements")

    rows = list(csv.DictReader(io.StringIO(owner.get(f"{MONTH}.csv").text)))

    assert rows[-1]["kind"] == "subscription" and rows[-1]["estimated_fee"] == "9.99"


def test_the_pdf_opens_and_reads_back(owner: Browser, driver: HubDriver) -> None:
    paid_payment(driver, "100.00", mode="", id_trans="T1")

    response = owner.get(f"{MONTH}.pdf")
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.data)).pages)

    assert response.mimetype == "application/pdf"
    assert "Statement 2026-11" in text
    assert "T1" in text and "100.00 EUR" in text and "3.20" in text
    assert "START" in text


def test_another_shops_statement_is_not_found(browser: Browser, driver: HubDriver) -> None:
    browser.login("owner@other.test")

    assert browser.get(f"{MONTH}.csv").status_code == 404


def test_only_the_last_six_months_are_offered(owner: Browser) -> None:
    assert owner.get("/backoffice/statements/demo/2026-06.csv").status_code == 200
    assert owner.get("/backoffice/statements/demo/2026-05.csv").status_code == 404
    assert "2026-11" in owner.get("/backoffice/statements").text


def test_the_pdf_keeps_accents_and_the_euro_sign_and_pages_long_statements() -> None:
    lines = [f"Relevé ligne {n} : 36,60 €" for n in range(LINES_PER_PAGE + 1)]

    reader = PdfReader(io.BytesIO(text_pdf(lines, title="Relevé 2026-11")))

    assert len(reader.pages) == 2
    assert "Relevé ligne 0 : 36,60 €" in reader.pages[0].extract_text()
    assert reader.pages[1].extract_text().strip() == f"Relevé ligne {LINES_PER_PAGE} : 36,60 €"
    assert reader.metadata is not None and reader.metadata.title == "Relevé 2026-11"
