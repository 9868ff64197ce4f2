"""The collector's day in a real browser: the worklist ranks the customer, the collector opens it,
logs a call with a promise to pay in one step, and goes back to the worklist, where the row shows
the promise and the last contact."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from collections_app.models import Activity, PromiseToPay
from collections_app.services.portfolio import portfolio_reassign
from tests.browser.conftest import login
from tests.factories.billing import de_entity
from tests.factories.collections_worklist import collector, issued_for, manager
from tests.factories.customers import ContactFactory, CustomerFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
D = Decimal


def test_worklist_customer_log_a_call_with_a_promise_and_back(page, live_server, today):
    today(dt.date(2026, 5, 20))
    entity = de_entity()
    cole = collector(username="cole")
    risky = CustomerFactory(legal_name="Risky AG", risk_rating="high")
    ContactFactory(customer=risky, name="Petra Payables")
    calm = CustomerFactory(legal_name="Calm GmbH")
    old = issued_for(entity, risky, "10000.00", on=dt.date(2026, 1, 5))
    issued_for(entity, calm, "1000.00", on=dt.date(2026, 4, 1))
    portfolio_reassign(by=manager(), customer_ids=[risky.pk, calm.pk], collector_id=cole.pk)

    login(page, live_server, "cole")
    page.get_by_test_id("nav-collections").click()
    page.get_by_role("link", name="Worklist").click()
    rows = page.get_by_test_id("worklist-table").locator("tbody tr")
    expect(rows.first).to_contain_text("Risky AG")
    expect(rows.first.get_by_test_id("score")).to_have_text("60.00")
    rows.first.get_by_role("link", name="Risky AG").click()

    expect(page.get_by_test_id("open-invoices")).to_contain_text(old.number)
    form = page.get_by_test_id("activity-form")
    form.locator("#id_kind").select_option("call")
    form.locator("#id_outcome").select_option("promised")
    form.locator("#id_contact").select_option(label="Petra Payables (Accounts payable)")
    form.locator("#id_note").fill("Petra confirms half of the invoice goes out next Wednesday.")
    form.locator("#id_promise_amount").fill("5950.00")
    form.locator("#id_promise_date").fill("2026-05-27")
    form.locator(f'input[name="promise_invoices"][value="{old.pk}"]').check()
    form.get_by_role("button", name="Log it").click()

    expect(page.locator(".alert-success")).to_contain_text("promise of 5,950.00 EUR by 2026-05-27")
    expect(page.get_by_test_id("timeline")).to_contain_text("Promise to pay 5,950.00 EUR by 2026-05-27")
    expect(page.get_by_test_id("promises")).to_contain_text(old.number)
    expect(page.get_by_test_id("next-action")).to_contain_text("2026-05-31")

    page.get_by_test_id("back-to-worklist").click()
    row = page.locator(f'tr[data-customer="{risky.pk}"]')
    expect(row).to_contain_text("call · promised")
    expect(row).to_contain_text("1 · 5,950.00")

    promise = PromiseToPay.objects.get()
    assert (promise.amount, promise.promised_date, promise.taken_by_id) == (D("5950.00"), dt.date(2026, 5, 27), cole.pk)
    assert Activity.objects.get().contact.name == "Petra Payables"
    assert not page.offsite_requests and not page.failed_responses and not page.csp_violations
