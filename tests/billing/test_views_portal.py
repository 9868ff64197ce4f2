"""The portal upload worklist page: rows by due date with age and overdue flags, filters, the
row actions moving the task through its states (refusals leave it unchanged), the e-invoice
downloads, who is refused, the dashboard panel, and a query count that does not grow."""

from __future__ import annotations

import datetime as dt
from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from billing.models import PortalSubmission
from billing.services.portal import portal_submission_ensure
from otc.models import User
from tests.factories.billing import ISSUE, de_entity, issued
from tests.factories.customers import CustomerFactory
from tests.factories.otc import user_with_role

pytestmark = pytest.mark.django_db
Status = PortalSubmission.Status
DUE = dt.date(2026, 4, 7)  # five business days after Tuesday 2026-03-31


def login(client, role: str) -> User:
    user = user_with_role(role)
    client.force_login(user)
    return user


@pytest.fixture
def entity():
    return de_entity()


def upload_task(entity, portal: str = "ariba", name: str = "Procurement AG") -> PortalSubmission:
    customer = CustomerFactory(country="DE", legal_name=name, procurement_portal=portal,
                               portal_supplier_id="AN01000000123")
    invoice = issued(entity, customer=customer)
    submission, _ = portal_submission_ensure(invoice_id=invoice.pk)
    assert (submission.status, submission.due_date, invoice.issue_date) == ("pending", DUE, ISSUE)
    return submission


def worklist(client, **params) -> str:
    response = client.get(reverse("billing:portal"), params)
    assert response.status_code == 200
    return response.content.decode()


def row(body: str, submission: PortalSubmission) -> str:
    start = body.find(f'data-testid="portal-row-{submission.pk}"')
    return body[start:body.find("</tr>", start)] if start >= 0 else ""


def test_worklist_shows_due_date_age_and_overdue(client, entity, today):
    # created on 2026-03-31 (created_at is frozen by the database once written)
    with mock.patch("django.utils.timezone.now", return_value=dt.datetime(2026, 3, 31, 12, tzinfo=dt.UTC)):
        task = upload_task(entity)
    login(client, "Billing Specialist")
    today(dt.date(2026, 4, 7))
    line = row(worklist(client), task)
    assert task.invoice.number in line and "Procurement AG" in line
    assert "2026-04-07" in line and "7 d" in line and "overdue" not in line
    today(dt.date(2026, 4, 8))
    line = row(worklist(client), task)
    assert "8 d" in line and 'data-testid="overdue"' in line
    assert row(worklist(client, overdue="on"), task)


def test_filters_by_status_portal_and_customer(client, entity):
    ariba = upload_task(entity, "ariba", "Ariba Kunde GmbH")
    coupa = upload_task(entity, "coupa", "Coupa Kunde GmbH")
    PortalSubmission.objects.filter(pk=coupa.pk).update(status=Status.ACCEPTED)
    login(client, "Billing Specialist")
    body = worklist(client)  # not yet accepted
    assert row(body, ariba) and not row(body, coupa)
    body = worklist(client, status="accepted")
    assert row(body, coupa) and not row(body, ariba)
    assert not row(worklist(client, portal="coupa"), ariba)
    body = worklist(client, q="ariba kunde")
    assert row(body, ariba)
    assert not row(worklist(client, q="Coupa"), ariba)


def test_actions_move_the_task_through_its_states(client, entity):
    task = upload_task(entity)
    specialist = login(client, "Billing Specialist")
    back = reverse("billing:portal") + "?portal=ariba"
    # pending -> uploaded with the portal's reference; back to the filtered list
    response = client.post(reverse("billing:portal_mark_uploaded", args=[task.pk]),
                           {"portal_reference": "AN-4711", "next": back})
    assert response.status_code == 302 and response["Location"] == back
    task.refresh_from_db()
    assert (task.status, task.portal_reference, task.uploaded_by_id) == ("uploaded", "AN-4711", specialist.pk)
    # uploaded -> rejected with a reason
    client.post(reverse("billing:portal_reject", args=[task.pk]), {"reason": "PO number missing"})
    task.refresh_from_db()
    assert (task.status, task.rejection_reason) == ("rejected", "PO number missing")
    assert "PO number missing" in row(worklist(client), task)
    # rejected -> resubmitted with a new reference -> accepted
    client.post(reverse("billing:portal_resubmit", args=[task.pk]), {"portal_reference": "AN-4712"})
    task.refresh_from_db()
    assert (task.status, task.portal_reference) == ("resubmitted", "AN-4712")
    response = client.post(reverse("billing:portal_accept", args=[task.pk]), follow=True)
    task.refresh_from_db()
    assert task.status == "accepted" and task.decided_at is not None
    assert f"{task.invoice.number} accepted by ariba." in response.content.decode()
    assert not row(worklist(client), task)  # done: off the default list


def test_refusals_come_back_as_messages_with_nothing_changed(client, entity):
    task = upload_task(entity)
    login(client, "Billing Specialist")
    response = client.post(reverse("billing:portal_mark_uploaded", args=[task.pk]), {"portal_reference": " "},
                           follow=True)
    assert "Enter the reference the portal gave the upload." in response.content.decode()
    response = client.post(reverse("billing:portal_accept", args=[task.pk]), follow=True)
    assert response.status_code == 200
    task.refresh_from_db()
    assert (task.status, task.portal_reference, task.decided_at) == ("pending", "", None)


def test_offsite_next_is_ignored(client, entity):
    task = upload_task(entity)
    login(client, "Billing Specialist")
    response = client.post(reverse("billing:portal_mark_uploaded", args=[task.pk]),
                           {"portal_reference": "AN-1", "next": "https://evil.example/"})
    assert response["Location"] == reverse("billing:portal")


def test_row_buttons_follow_the_state(client, entity):
    task = upload_task(entity)
    login(client, "Billing Specialist")
    line = row(worklist(client), task)
    assert ">Mark uploaded</button>" in line and ">Accept</button>" not in line
    PortalSubmission.objects.filter(pk=task.pk).update(status=Status.UPLOADED)
    line = row(worklist(client), task)
    assert ">Accept</button>" in line and ">Reject</button>" in line and ">Mark uploaded</button>" not in line


def test_auditor_sees_the_list_but_cannot_act(client, entity):
    task = upload_task(entity)
    login(client, "Auditor")
    line = row(worklist(client), task)
    assert line and "</button>" not in line
    for name, data in (("portal_mark_uploaded", {"portal_reference": "X"}), ("portal_accept", {}),
                       ("portal_reject", {"reason": "x"}), ("portal_resubmit", {"portal_reference": "X"})):
        assert client.post(reverse(f"billing:{name}", args=[task.pk]), data).status_code == 403
    task.refresh_from_db()
    assert (task.status, task.portal_reference) == ("pending", "")


def test_users_without_view_permission_get_403(client, entity):
    upload_task(entity)
    for role in ("Collector", "Sales Rep"):
        login(client, role)
        assert client.get(reverse("billing:portal")).status_code == 403


def test_downloads_cxml_ubl_and_pdf_link(client, entity, settings, tmp_path):
    from django.core.files.base import ContentFile

    settings.MEDIA_ROOT = tmp_path
    task = upload_task(entity)
    invoice = task.invoice
    login(client, "Billing Specialist")
    line = row(worklist(client), task)
    assert reverse("billing:invoice_cxml", args=[invoice.pk]) in line
    assert reverse("billing:invoice_ubl", args=[invoice.pk]) in line
    assert reverse("billing:invoice_pdf", args=[invoice.pk]) not in line  # not rendered yet
    cxml = client.get(reverse("billing:invoice_cxml", args=[invoice.pk]))
    assert cxml.status_code == 200 and b"InvoiceDetailRequest" in cxml.content
    assert invoice.number.encode() in cxml.content
    assert f'{invoice.number}.cxml.xml' in cxml["Content-Disposition"]
    invoice.pdf.save("x.pdf", ContentFile(b"%PDF-1.7"), save=True)
    assert reverse("billing:invoice_pdf", args=[invoice.pk]) in row(worklist(client), task)


def test_dashboard_panel_counts_pending_uploads(client, entity, today):
    upload_task(entity, name="Eins GmbH")
    upload_task(entity, name="Zwei GmbH")
    today(dt.date(2026, 4, 8))
    login(client, "Billing Specialist")
    body = client.get(reverse("home")).content.decode()
    assert 'data-panel="billing-portal-pending"' in body
    assert 'data-testid="portal-count">2<' in body and 'data-testid="portal-overdue">2 overdue<' in body
    login(client, "Auditor")
    assert 'data-panel="billing-portal-pending"' not in client.get(reverse("home")).content.decode()


def test_worklist_query_count_does_not_grow(client, entity):
    login(client, "Billing Specialist")
    for n in range(2):
        upload_task(entity, name=f"Kunde {n}")
    with CaptureQueriesContext(connection) as few:
        worklist(client)
    for n in range(2, 8):
        upload_task(entity, name=f"Kunde {n}")
    with CaptureQueriesContext(connection) as many:
        body = worklist(client)
    assert body.count('data-testid="portal-row-') == 8
    assert len(many) == len(few)
