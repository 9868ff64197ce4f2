"""A credit note in a real browser, by two people: a billing specialist requests it from the
invoice page (and is offered no Approve button), a finance manager finds it under "Awaiting my
approval" and approves it, the specialist issues it and sees its number and journal entry."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from playwright.sync_api import expect

from billing.models import CreditNote
from otc.models import ApprovalLimit
from tests.browser.conftest import login, logout
from tests.factories.billing import de_entity, issued
from tests.factories.otc import user_with_role

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
D = Decimal
LINES = [
    {"description": "Subscription", "quantity": D("1"), "unit_price": D("100.00"), "tax_category": "digital"},
    {"description": "Consulting", "quantity": D("2"), "unit_price": D("100.00"), "tax_category": "services"},
]  # net 300.00, tax 57.00, gross 357.00


def test_credit_note_requested_approved_and_issued_by_two_people(page, live_server, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path  # the credit note's PDF is stored after issue
    invoice = issued(de_entity(), lines=LINES)
    user_with_role("Billing Specialist", username="bella")
    fiona = user_with_role("Finance Manager", username="fiona")
    ApprovalLimit.objects.create(kind="credit_note", role=Group.objects.get(name="Finance Manager"), currency="EUR",
                                 max_amount=D("10000.00"))

    # the specialist requests 100.00 net from the invoice page
    login(page, live_server, "bella")
    page.goto(f"{live_server.url}/billing/invoices/{invoice.pk}/")
    page.get_by_role("link", name="Request credit note").click()
    expect(page.locator("h1")).to_contain_text(f"Request a credit note on {invoice.number}")
    expect(page.locator("[data-testid=remaining]")).to_have_text("357.00 EUR")
    page.get_by_label("A net amount, spread over the lines").check()
    page.fill("#id_amount", "100.00")
    page.select_option("#id_reason", "service_credit")
    page.fill("#id_explanation", "Outage on 12 March")
    page.get_by_role("button", name="Request credit note").click()

    expect(page.locator(".alert-success")).to_contain_text("sent for approval")
    expect(page.locator("[data-testid=credit-note-status]")).to_have_text("Requested")
    expect(page.locator("[data-testid=gross]")).to_have_text("119.00 EUR")
    expect(page.get_by_role("button", name="Approve")).to_have_count(0)
    expect(page.locator("[data-testid=own-request]")).to_be_visible()
    note = CreditNote.objects.get()
    logout(page)

    # the finance manager finds it under "Awaiting my approval" and approves it
    login(page, live_server, "fiona")
    page.get_by_role("link", name="Billing", exact=True).first.click()
    page.get_by_role("link", name="Credit notes", exact=True).click()
    page.check("#f-awaiting_me")
    page.get_by_role("button", name="Filter").click()
    page.locator(f'a[href="/billing/credit-notes/{note.pk}/"]').click()
    expect(page.locator("[data-testid=explanation]")).to_have_text("Outage on 12 March")
    expect(page.get_by_role("button", name="Issue")).to_have_count(0)
    page.get_by_role("button", name="Approve").click()
    expect(page.locator(".alert-success")).to_contain_text("approved")
    expect(page.locator("[data-testid=credit-note-status]")).to_have_text("Approved")
    expect(page.locator("[data-testid=decision]")).to_contain_text(str(fiona))
    logout(page)

    # the specialist issues it: number, journal entry, the invoice's balance
    login(page, live_server, "bella")
    page.goto(f"{live_server.url}/billing/credit-notes/{note.pk}/")
    page.get_by_role("button", name="Issue").click()
    expect(page.locator(".alert-success")).to_contain_text("issued and posted")
    expect(page.locator("[data-testid=credit-note-status]")).to_have_text("Issued")
    expect(page.locator("[data-testid=credit-note-number]")).to_have_text(re.compile(r"^DE01-.+-2\d{3}-000001$"))
    expect(page.locator("[data-testid=journal-entry] a")).to_have_count(1)
    page.locator("[data-testid=invoice-link]").click()
    expect(page.locator("[data-testid=balance]")).to_have_text("238.00 EUR")

    note.refresh_from_db()
    assert (note.status, note.gross_total) == ("issued", D("119.00"))
    assert page.offsite_requests == []
    assert page.failed_responses == []


def test_manual_invoice_with_customer_search_and_an_added_line(page, live_server):
    from billing.models import Invoice
    from tests.factories.customers import CustomerFactory

    entity = de_entity()
    customer = CustomerFactory(country="DE", legal_name="Suchbar Handels GmbH")
    CustomerFactory(country="DE", legal_name="Andere Firma AG")
    user_with_role("Billing Specialist", username="bella")
    login(page, live_server, "bella")
    page.goto(f"{live_server.url}/billing/invoices/")
    page.get_by_role("link", name="New invoice").click()
    page.wait_for_url("**/billing/invoices/new/")
    page.wait_for_load_state("load")  # htmx is loaded with `defer`: type only once it listens
    page.wait_for_function("() => window.htmx !== undefined")
    page.select_option("#id_legal_entity", str(entity.pk))
    with page.expect_response(lambda r: "/billing/invoices/new/customers/" in r.url):
        page.locator("#customer-q").press_sequentially("suchbar")  # htmx replaces the options
    expect(page.locator("#id_customer option")).to_have_count(2)
    expect(page.locator("#id_customer")).to_have_value(str(customer.pk))
    page.select_option("#id_lines-0-tax_category", "digital")
    page.fill("#id_lines-0-description", "Setup fee")
    page.fill("#id_lines-0-unit_price", "1000.00")
    page.get_by_role("button", name="Add line").click()
    page.select_option("#id_lines-1-tax_category", "reduced")
    page.fill("#id_lines-1-description", "Handbooks")
    page.fill("#id_lines-1-quantity", "3")
    page.fill("#id_lines-1-unit_price", "20.00")
    page.get_by_role("button", name="Save draft").click()

    expect(page.locator(".alert-success")).to_contain_text("created")
    expect(page.locator("[data-testid=gross]")).to_have_text("1,254.20 EUR")  # 1,190.00 + 60.00 + 4.20
    invoice = Invoice.objects.get()
    assert (invoice.customer_id, invoice.status, invoice.lines.count()) == (customer.pk, "draft", 2)
    assert page.offsite_requests == [] and page.failed_responses == []
