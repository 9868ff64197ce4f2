"""Write-off pages: request with evidence, approve / reject / post through the buttons, batches,
the policy, who is refused; the list's query count does not grow with rows."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from billing.models import Invoice
from collections_app.models import WriteOff, WriteOffBatch, WriteOffPolicy
from collections_app.services.writeoffs import writeoff_request
from tests.factories.collections_writeoffs import book
from tests.factories.otc import user_with_role
from tests.factories.queries import queries_for

pytestmark = pytest.mark.django_db
D = Decimal
ON = dt.date(2026, 6, 30)


@pytest.fixture
def b(today):
    today(ON)
    return book()


def login(client, user):
    client.force_login(user)
    return client


def test_a_collector_requests_with_evidence_a_manager_approves_and_posts(client, b):
    invoice = b["invoices"][0]
    login(client, b["collector"])
    page = client.get(reverse("collections_app:writeoffs-request") + f"?customer={b['customer'].pk}")
    assert page.status_code == 200 and invoice.number in page.content.decode()
    response = client.post(reverse("collections_app:writeoffs-request"), {
        "customer": b["customer"].pk, "items": [invoice.open_item_id], "reason": "bankruptcy",
        "explanation": "Insolvency filed", "submit": "on",
        "evidence": SimpleUploadedFile("court-notice.pdf", b"%PDF-1.4 notice", content_type="application/pdf")})
    write_off = WriteOff.objects.get()
    assert response.status_code == 302 and response.url == reverse("collections_app:writeoffs-detail", args=[write_off.pk])
    assert (write_off.status, write_off.amount, write_off.attachments.get().name) == (
        "submitted", D("1190.0000"), "court-notice.pdf")
    detail = client.get(response.url).content.decode()
    assert "another person approves it" in detail and ">Approve<" not in detail
    # the requester's own approval is refused by the service even when posted by hand
    client.post(reverse("collections_app:writeoffs-action", args=[write_off.pk, "approve"]))
    assert WriteOff.objects.get().status == "submitted"
    login(client, b["manager"])
    assert ">Approve<" in client.get(response.url).content.decode()
    client.post(reverse("collections_app:writeoffs-action", args=[write_off.pk, "approve"]))
    client.post(reverse("collections_app:writeoffs-action", args=[write_off.pk, "post"]))
    assert WriteOff.objects.get().status == "posted"
    assert Invoice.objects.get(pk=invoice.pk).status == "written_off"
    page = client.get(response.url).content.decode()
    assert "JE-DE01-2026-" in page and "Written off" in page
    assert client.get(reverse("collections_app:writeoffs-attachment",
                              args=[write_off.pk, write_off.attachments.get().pk])).status_code == 200


def test_reject_needs_a_reason_and_a_sales_rep_is_refused(client, b):
    write_off = writeoff_request(invoice_ids=[b["invoices"][0].pk], reason="settlement", explanation="x",
                                 by=b["collector"])
    login(client, b["manager"])
    client.post(reverse("collections_app:writeoffs-action", args=[write_off.pk, "reject"]), {"note": ""})
    assert WriteOff.objects.get().status == "submitted"
    client.post(reverse("collections_app:writeoffs-action", args=[write_off.pk, "reject"]), {"note": "Still paying"})
    assert WriteOff.objects.get().status == "rejected"
    login(client, user_with_role("Sales Rep"))
    assert client.get(reverse("collections_app:writeoffs-list")).status_code == 403
    assert client.get(reverse("collections_app:writeoffs-request")).status_code == 403


def test_the_list_query_count_does_not_grow(client, b):
    login(client, b["manager"])
    writeoff_request(invoice_ids=[b["invoices"][0].pk], reason="settlement", explanation="x", by=b["collector"])
    one = queries_for(client, reverse("collections_app:writeoffs-list"))
    writeoff_request(invoice_ids=[b["invoices"][1].pk], reason="settlement", explanation="y", by=b["collector"])
    with CaptureQueriesContext(connection) as two:
        page = client.get(reverse("collections_app:writeoffs-list")).content.decode()
    assert len(two) == one and page.count("WO-") == 2


def test_the_button_proposes_a_batch_and_the_policy_page_saves(client, b):
    controller = b["controller"]
    login(client, controller)
    response = client.post(reverse("collections_app:writeoffs-policy", args=[b["entity"].pk]), {
        "use_allowance": "on", "recovery_mode": "reinstate", "small_balance_enabled": "on",
        "small_balance_max": "2000.00", "small_balance_min_age_days": "30"})
    assert response.status_code == 302
    assert WriteOffPolicy.objects.get().small_balance_max == D("2000.00")
    login(client, b["manager"])
    assert "Propose this month" in client.get(reverse("collections_app:writeoffs-batches")).content.decode()
    response = client.post(reverse("collections_app:writeoffs-batch-propose"), {"legal_entity": b["entity"].pk})
    batch = WriteOffBatch.objects.get()
    assert response.url == reverse("collections_app:writeoffs-batch", args=[batch.pk])
    assert batch.write_offs.get().amount == D("1785.0000")  # both invoices, 61+ days past due
    client.post(reverse("collections_app:writeoffs-batch-action", args=[batch.pk, "submit"]))
    client.post(reverse("collections_app:writeoffs-batch-action", args=[batch.pk, "approve"]))
    assert WriteOffBatch.objects.get().status == "submitted"  # the submitter does not approve
    login(client, controller)
    client.post(reverse("collections_app:writeoffs-batch-action", args=[batch.pk, "approve"]))
    client.post(reverse("collections_app:writeoffs-batch-action", args=[batch.pk, "post"]))
    assert WriteOffBatch.objects.get().status == "posted"
    assert "1,785.00 EUR" in client.get(reverse("collections_app:writeoffs-batch", args=[batch.pk])).content.decode()


def test_the_dashboard_and_the_invoice_page_show_the_write_off_work(client, b):
    invoice = b["invoices"][0]
    write_off = writeoff_request(invoice_ids=[invoice.pk], reason="settlement", explanation="x", by=b["collector"])
    login(client, b["manager"])
    panel = client.get(reverse("home")).content.decode()
    assert "1 awaiting your approval" in panel
    page = client.get(reverse("billing:invoice_detail", args=[invoice.pk])).content.decode()
    assert str(write_off) in page and "Submitted" in page
    other = client.get(reverse("billing:invoice_detail", args=[b["invoices"][1].pk])).content.decode()
    assert "Request a write-off" in other
