"""Cash application in a real browser: a specialist uploads a CSV statement, sees the counts,
finds the receipt the matcher could only suggest on the workbench and accepts the suggestion."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from billing.models import Invoice
from receivables.models import Receipt
from tests.browser.conftest import login
from tests.factories.otc import user_with_role
from tests.factories.receivables_views import make_book

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
D = Decimal
STATEMENT = (
    "Date,Amount,Currency,Payer,Payer Account,Reference,Description,Transaction ID\n"
    "2026-04-20,595.00,EUR,Someone Else Ltd,,Rechnung DE01-INV-2026-000002,,T-1\n"  # clear: applied on import
    "2026-04-20,590.00,EUR,Kunde Eins,,,,T-2\n"  # payer known, no reference, odd amount: a suggestion
)


def test_upload_a_statement_and_accept_a_suggestion(page, live_server, today, tmp_path):
    book = make_book(today)
    user_with_role("Cash Application Specialist", username="cara")
    statement = tmp_path / "april.csv"
    statement.write_text(STATEMENT)

    login(page, live_server, "cara")
    page.get_by_role("link", name="Cash").click()
    page.get_by_role("link", name="Statement imports").click()
    page.set_input_files("#id_file", str(statement))
    page.locator("summary").click()
    page.select_option("#id_bank_account", str(book["account"].pk))
    page.get_by_test_id("import").click()
    expect(page.get_by_test_id("count-receipts")).to_have_text("2")
    expect(page.get_by_test_id("count-auto")).to_have_text("1")

    waiting = Receipt.objects.get(bank_reference="T-2")
    assert waiting.suggestions, "the matcher leaves a suggestion for a known payer"
    page.get_by_role("link", name="Cash").click()
    row = page.locator(f'tr[data-receipt="{waiting.pk}"]')
    expect(row).to_contain_text("Kunde Eins")
    row.get_by_test_id("accept").click()
    expect(page.locator(".alert-success")).to_contain_text(re.compile(rf"{waiting.number}: .* applied as suggested"))
    expect(page.locator(f'tr[data-receipt="{waiting.pk}"]')).to_have_count(0)

    waiting.refresh_from_db()
    assert (waiting.status, waiting.amount_applied) == ("applied", D("590.00"))
    assert Invoice.objects.get(pk=book["first"].pk).amount_paid == D("590.00")
    assert not page.offsite_requests and not page.failed_responses
