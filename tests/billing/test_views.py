"""Billing pages: invoice list and detail, the actions through the views (issue, hold, void),
refusals, visibility for sales reps, billing runs, query counts."""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from billing.models import BillingRun, Invoice
from tests.factories.billing import ISSUE, de_entity, draft, issued
from tests.factories.customers import CustomerFactory
from tests.factories.otc import user_with_role
from tests.factories.queries import queries_for

pytestmark = pytest.mark.django_db
D = Decimal


def login(client, role: str):
    user = user_with_role(role)
    client.force_login(user)
    return user


def test_list_shows_invoices_with_exact_amounts(client):
    entity = de_entity()
    invoice = issued(entity)
    login(client, "Billing Specialist")
    response = client.get(reverse("billing:invoices"))
    assert response.status_code == 200
    body = response.content.decode()
    assert invoice.number in body
    assert "1,190.00 EUR" in body
    assert 'class="badge text-bg-primary status-issued"' in body


def test_list_filters_by_status_and_hold(client):
    entity = de_entity()
    kept = issued(entity)
    held = draft(entity)
    Invoice.objects.filter(pk=held.pk).update(on_hold=True, hold_reason="PO missing")
    login(client, "Billing Specialist")
    body = client.get(reverse("billing:invoices"), {"status": "issued"}).content.decode()
    assert kept.number in body and f"#{held.pk}<" not in body
    body = client.get(reverse("billing:invoices"), {"on_hold": "on"}).content.decode()
    assert kept.number not in body and f"#{held.pk}<" in body


def test_list_query_count_does_not_grow(client):
    entity = de_entity()
    login(client, "Billing Specialist")
    for _ in range(3):
        draft(entity)
    few = queries_for(client, reverse("billing:invoices"))
    for _ in range(9):
        draft(entity)
    with CaptureQueriesContext(connection) as many:
        response = client.get(reverse("billing:invoices"))
    assert response.content.decode().count("billing/invoices/") >= 12
    assert len(many) == few


def test_detail_shows_lines_totals_and_ledger_links(client):
    entity = de_entity()
    invoice = issued(entity)
    login(client, "Billing Specialist")
    response = client.get(reverse("billing:invoice_detail", args=[invoice.pk]))
    assert response.status_code == 200
    body = response.content.decode()
    assert invoice.number in body
    assert "Platform subscription" in body
    assert "1,000.00" in body and "190.00 EUR" in body and "1,190.00 EUR" in body
    assert reverse("ledger:journal_detail", args=[invoice.journal_entry_id]) in body
    assert reverse("ledger:open_item_detail", args=[invoice.open_item_id]) in body
    assert "History" in body


def test_sales_rep_sees_only_own_customers_invoices(client):
    entity = de_entity()
    rep = login(client, "Sales Rep")
    mine = draft(entity, customer=CustomerFactory(country="DE", sales_owner=rep))
    theirs = draft(entity, customer=CustomerFactory(country="DE", legal_name="Other AG"))
    body = client.get(reverse("billing:invoices")).content.decode()
    assert reverse("billing:invoice_detail", args=[mine.pk]) in body
    assert reverse("billing:invoice_detail", args=[theirs.pk]) not in body
    assert client.get(reverse("billing:invoice_detail", args=[mine.pk])).status_code == 200
    assert client.get(reverse("billing:invoice_detail", args=[theirs.pk])).status_code == 404


def test_issue_through_the_view_assigns_a_number(client, today):
    today(ISSUE)
    entity = de_entity()
    invoice = draft(entity)
    login(client, "Billing Specialist")
    response = client.post(reverse("billing:invoice_issue", args=[invoice.pk]))
    assert response.status_code == 302
    invoice.refresh_from_db()
    assert invoice.status == "issued"
    assert invoice.number.startswith("DE01-INV")
    assert invoice.issue_date == ISSUE


def test_auditor_cannot_issue_or_void(client):
    entity = de_entity()
    a_draft = draft(entity)
    an_issued = issued(entity)
    login(client, "Auditor")
    assert client.get(reverse("billing:invoice_detail", args=[a_draft.pk])).status_code == 200
    assert client.post(reverse("billing:invoice_issue", args=[a_draft.pk])).status_code == 403
    assert client.post(reverse("billing:invoice_void", args=[an_issued.pk]), {"reason": "x"}).status_code == 403
    assert client.post(reverse("billing:invoice_hold", args=[a_draft.pk]), {"reason": "x"}).status_code == 403
    a_draft.refresh_from_db()
    an_issued.refresh_from_db()
    assert (a_draft.status, a_draft.number, a_draft.on_hold) == ("draft", "", False)
    assert (an_issued.status, an_issued.void_entry_id) == ("issued", None)


def test_void_through_the_view_needs_a_reason(client, today):
    today(ISSUE)
    entity = de_entity()
    invoice = issued(entity)
    login(client, "Controller")
    url = reverse("billing:invoice_void", args=[invoice.pk])
    response = client.post(url, {"reason": ""}, follow=True)
    assert "Say why the invoice is voided." in response.content.decode()
    invoice.refresh_from_db()
    assert invoice.status == "issued"
    client.post(url, {"reason": "Duplicate of another invoice"})
    invoice.refresh_from_db()
    assert (invoice.status, invoice.void_reason) == ("void", "Duplicate of another invoice")
    assert invoice.void_entry_id is not None


def test_hold_and_release_through_the_view(client):
    entity = de_entity()
    invoice = draft(entity)
    login(client, "Billing Specialist")
    client.post(reverse("billing:invoice_hold", args=[invoice.pk]), {"reason": "Awaiting PO"})
    invoice.refresh_from_db()
    assert (invoice.on_hold, invoice.hold_reason) == (True, "Awaiting PO")
    response = client.post(reverse("billing:invoice_issue", args=[invoice.pk]), follow=True)
    invoice.refresh_from_db()
    assert invoice.status == "draft"
    assert response.status_code == 200
    client.post(reverse("billing:invoice_release", args=[invoice.pk]))  # no reason: refused
    invoice.refresh_from_db()
    assert invoice.on_hold is True
    client.post(reverse("billing:invoice_release", args=[invoice.pk]), {"reason": "PO received"})
    invoice.refresh_from_db()
    assert invoice.on_hold is False


def test_ubl_for_issued_only_and_pdf_rendered_on_first_download(client, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    entity = de_entity()
    a_draft = draft(entity)
    an_issued = issued(entity)
    login(client, "Billing Specialist")
    assert client.get(reverse("billing:invoice_ubl", args=[a_draft.pk])).status_code == 404
    response = client.get(reverse("billing:invoice_ubl", args=[an_issued.pk]))
    assert response.status_code == 200
    assert an_issued.number.encode() in response.content
    assert client.get(reverse("billing:invoice_pdf", args=[a_draft.pk])).status_code == 404
    first = client.get(reverse("billing:invoice_pdf", args=[an_issued.pk]))  # its task has not run: rendered now
    assert first.status_code == 200
    body = b"".join(first.streaming_content)
    assert body.startswith(b"%PDF")
    an_issued.refresh_from_db()
    assert an_issued.pdf and an_issued.pdf_sha256
    again = client.get(reverse("billing:invoice_pdf", args=[an_issued.pk]))
    assert b"".join(again.streaming_content) == body  # stored once, never re-rendered


def test_run_start_through_the_view_creates_a_run(client):
    login(client, "Billing Specialist")
    response = client.post(reverse("billing:run_start"), {"period": "2026-03"})
    run = BillingRun.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("billing:run_detail", args=[run.pk])
    assert run.period_start == dt.date(2026, 3, 1)
    body = client.get(reverse("billing:run_detail", args=[run.pk])).content.decode()
    assert "progress-bar" in body
    assert client.get(reverse("billing:runs")).status_code == 200


def test_run_progress_polls_only_while_active(client):
    login(client, "Billing Specialist")
    run = BillingRun.objects.create(period_start=dt.date(2026, 3, 1), contracts_total=4, contracts_done=1)
    body = client.get(reverse("billing:run_progress", args=[run.pk])).content.decode()
    assert 'hx-trigger="every 2s"' in body and "25%" in body
    BillingRun.objects.filter(pk=run.pk).update(status="generated", contracts_done=4)
    body = client.get(reverse("billing:run_progress", args=[run.pk])).content.decode()
    assert "hx-get" not in body and "100%" in body


def test_auditor_cannot_start_a_run(client):
    login(client, "Auditor")
    assert client.post(reverse("billing:run_start"), {"period": "2026-03"}).status_code == 403
    assert not BillingRun.objects.exists()


def test_overdue_filter_and_badge(client, today):
    entity = de_entity()
    late = issued(entity)  # issued 2026-03-31, due 30 days later
    paid_late = issued(entity)
    Invoice.objects.filter(pk=paid_late.pk).update(status="paid", amount_paid=paid_late.gross_total)
    today(dt.date(2026, 6, 1))
    login(client, "Billing Specialist")
    body = client.get(reverse("billing:invoices"), {"overdue": "on"}).content.decode()
    assert late.number in body and paid_late.number not in body
    assert body.count(">overdue</span>") == 1


def test_nav_and_on_hold_panel_on_the_dashboard(client):
    entity = de_entity()
    held = draft(entity)
    Invoice.objects.filter(pk=held.pk).update(on_hold=True, hold_reason="PO missing")
    login(client, "Billing Specialist")
    body = client.get(reverse("home")).content.decode()
    assert reverse("billing:invoices") in body
    assert 'data-panel="billing-on-hold"' in body
    assert 'data-testid="hold-count">1<' in body
    assert "PO missing" in body
    login(client, "Auditor")
    assert 'data-panel="billing-on-hold"' not in client.get(reverse("home")).content.decode()


def test_pdf_download_returns_the_stored_bytes(client, settings, tmp_path):
    from django.core.files.base import ContentFile

    settings.MEDIA_ROOT = tmp_path
    invoice = issued(de_entity())
    invoice.pdf.save("x.pdf", ContentFile(b"%PDF-1.7 stored bytes"), save=False)
    invoice.pdf_sha256 = hashlib.sha256(b"%PDF-1.7 stored bytes").hexdigest()  # as invoice_store_pdf stores it
    invoice.save(update_fields=["pdf", "pdf_sha256"])
    login(client, "Billing Specialist")
    response = client.get(reverse("billing:invoice_pdf", args=[invoice.pk]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"%PDF-1.7 stored bytes"
    assert f'{invoice.number}.pdf' in response["Content-Disposition"]
