"""Voids that reach the customer, and credit notes delivered like invoices.

- A delivered invoice (e-mailed, uploaded to the portal, posted) is voided by a credit note for the
  full amount: numbered in the credit-note series, posted (settling the open item), delivered by
  e-mail with its PDF or queued for the portal.
- A never-delivered invoice is voided by the reversal of its entry and the customer gets a
  cancellation notice with the VOID copy.
- A void invoice downloads as its stored VOID copy (watermark on every page, own SHA-256); the
  issued PDF's bytes stay as they were; its UBL and cXML are gone (410).
- The void's history row names the person and the business time.
- Issued credit notes are e-mailed with their PDF (delivery log) or queued for the portal; the
  people who may approve a requested credit note get an e-mail."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
from decimal import Decimal

import pytest
from django.core import mail
from django.urls import reverse
from pypdf import PdfReader

from billing.models import CreditNote, Delivery, Invoice, PortalSubmission
from billing.pdf import invoice_store_pdf
from billing.services import (
    credit_note_approve,
    credit_note_issue,
    credit_note_request,
    invoice_deliver,
    invoice_void,
    portal_submission_mark_uploaded,
)
from ledger.models import JournalEntry
from ledger.selectors import ar_reconciliation
from otc.errors import InvalidTransition
from otc.models import ApprovalLimit, StatusChange
from tests.factories.billing import de_entity, issued
from tests.factories.customers import ContactFactory, CustomerFactory
from tests.factories.otc import user_with_role

pytestmark = pytest.mark.django_db
D = Decimal
VOID_DAY = dt.date(2026, 4, 10)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def pinned(monkeypatch, today):
    """Business time pinned to 10 April 2026, 09:00 UTC (as the demo pins it)."""
    from otc import dates

    today(VOID_DAY)
    moment = dt.datetime(2026, 4, 10, 9, 0, tzinfo=dt.UTC)
    monkeypatch.setattr(dates, "now", lambda: moment)
    return moment


def customer(**kwargs):
    c = CustomerFactory(country="DE", legal_name="Kunde Eins GmbH", **kwargs)
    ContactFactory(customer=c, email="ap@kunde.example")
    return c


def text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def run_on_commit(callbacks) -> None:
    for callback in callbacks:
        callback()


def test_voiding_a_delivered_invoice_issues_and_delivers_a_full_credit_note(
        pinned, client, django_capture_on_commit_callbacks):
    entity = de_entity()
    invoice = issued(entity, customer=customer())
    assert invoice_deliver(invoice_id=invoice.pk).status == Delivery.Status.SENT
    manager = user_with_role("Finance Manager")
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        voided = invoice_void(invoice_id=invoice.pk, by=manager, reason="Billed to the wrong legal entity")

    voided.refresh_from_db()
    note = voided.void_credit_note
    assert (voided.status, voided.amount_credited, voided.void_entry_id) == ("void", D("1190.0000"), None)
    assert (note.number, note.status, note.reason, note.gross_total, note.issue_date) == (
        "DE01-CN-2026-000001", "issued", "cancellation", D("1190.0000"), VOID_DAY)
    assert (note.requested_by, note.decided_by, note.issued_by) == (manager, manager, manager)
    assert note.explanation == f"Cancels invoice {invoice.number}: Billed to the wrong legal entity"
    assert [(line.description, line.net_amount, line.tax_amount) for line in note.lines.all()] == [
        ("Platform subscription", D("1000.0000"), D("190.0000"))]
    entry = note.journal_entry
    assert sorted((line.account.code, line.amount) for line in entry.lines.all()) == [
        ("1100", D("-1190.0000")), ("2200", D("190.0000")), ("4000", D("1000.0000"))]
    voided.open_item.refresh_from_db()
    assert voided.open_item.open_amount == 0
    assert not JournalEntry.objects.filter(kind="reversal").exists()  # cancelled once, by the credit note
    assert all(row["difference"] == 0 for row in ar_reconciliation(legal_entity_id=entity.id))
    # the status rows walk the credit note's workflow, by the person voiding
    assert list(StatusChange.objects.filter(object_id=note.pk, content_type__model="creditnote")
                .values_list("from_state", "to_state", "by")) == [
        ("", "requested", manager.pk), ("requested", "approved", manager.pk), ("approved", "issued", manager.pk)]
    # delivered: e-mail with the credit note's PDF, logged
    [message] = mail.outbox
    assert message.subject == f"Credit note DE01-CN-2026-000001 on invoice {invoice.number} from otc DE01 GmbH"
    [(name, content, _)] = message.attachments
    note.refresh_from_db()
    assert name == "DE01-CN-2026-000001.pdf" and hashlib.sha256(content).hexdigest() == note.pdf_sha256
    assert note.deliveries.get().status == Delivery.Status.SENT
    # the history names the person and the business time
    [row] = voided.history.filter(history_change_reason__isnull=True, status="void").order_by("history_id")[:1]
    assert (row.history_user, row.history_date, row.void_reason) == (manager, pinned, "Billed to the wrong legal entity")


def test_voiding_a_never_delivered_invoice_reverses_it_and_sends_a_cancellation_notice(
        pinned, django_capture_on_commit_callbacks):
    entity = de_entity()
    invoice = issued(entity, customer=customer())
    manager = user_with_role("Finance Manager")
    with django_capture_on_commit_callbacks(execute=True):
        voided = invoice_void(invoice_id=invoice.pk, by=manager, reason="Duplicate of the legacy invoice")
    voided.refresh_from_db()
    assert (voided.void_credit_note_id, voided.void_entry.kind) == (None, "reversal")
    assert not CreditNote.objects.exists()
    [message] = mail.outbox
    assert message.subject == f"Invoice {invoice.number} from otc DE01 GmbH is cancelled"
    assert "Nothing is owed on it" in message.body
    [(name, content, _)] = message.attachments
    assert name == f"{invoice.number}-VOID.pdf" and hashlib.sha256(content).hexdigest() == voided.void_pdf_sha256
    assert "VOID" in text(content)
    [log] = voided.deliveries.all()
    assert (log.status, log.detail) == ("sent", f"Cancellation notice: Sent with {invoice.number}-VOID.pdf attached.")


def test_a_void_invoice_is_served_as_its_stamped_void_copy_and_its_issued_bytes_stay(
        pinned, client, django_capture_on_commit_callbacks):
    invoice = invoice_store_pdf(invoice_id=issued(de_entity(), customer=customer()).pk)
    issued_sha = invoice.pdf_sha256
    with open(invoice.pdf.path, "rb") as handle:
        issued_bytes = handle.read()
    assert "VOID" not in text(issued_bytes)
    invoice_void(invoice_id=invoice.pk, by=user_with_role("Finance Manager"), reason="Wrong customer")
    client.force_login(user_with_role("Billing Specialist"))
    response = client.get(reverse("billing:invoice_pdf", args=[invoice.pk]))  # stored now, on demand
    assert response.status_code == 200
    served = b"".join(response.streaming_content)
    invoice.refresh_from_db()
    assert f'{invoice.number}-VOID.pdf' in response["Content-Disposition"]
    assert hashlib.sha256(served).hexdigest() == invoice.void_pdf_sha256 != issued_sha
    served_text = text(served)
    assert "VOID" in served_text and f"invoice {invoice.number} was voided on 2026-04-10" in served_text
    assert invoice.number in served_text and "1,190.00" in served_text  # the issued invoice underneath
    assert invoice.pdf_sha256 == issued_sha
    with open(invoice.pdf.path, "rb") as handle:
        assert handle.read() == issued_bytes
    for name in ("billing:invoice_ubl", "billing:invoice_cxml"):
        gone = client.get(reverse(name, args=[invoice.pk]))
        assert gone.status_code == 410 and b"is void" in gone.content


def test_voiding_an_uploaded_portal_invoice_queues_the_credit_note_for_the_portal(
        pinned, django_capture_on_commit_callbacks):
    portal_customer = customer(procurement_portal="coupa", portal_supplier_id="SUP-1")
    invoice = issued(de_entity(), customer=portal_customer)
    invoice_deliver(invoice_id=invoice.pk)
    submission = PortalSubmission.objects.get(invoice=invoice)
    specialist = user_with_role("Billing Specialist")
    portal_submission_mark_uploaded(submission_id=submission.pk, by=specialist, portal_reference="COUPA-1")
    with django_capture_on_commit_callbacks(execute=True):
        voided = invoice_void(invoice_id=invoice.pk, by=user_with_role("Finance Manager"), reason="Wrong PO")
    note = Invoice.objects.get(pk=voided.pk).void_credit_note
    upload = PortalSubmission.objects.get(credit_note=note)
    assert (upload.status, upload.portal, upload.customer_id) == ("pending", "coupa", portal_customer.pk)
    assert note.deliveries.get().channel == Delivery.Channel.PORTAL
    assert mail.outbox == []


def test_a_void_with_a_pending_credit_note_request_is_refused_and_writes_nothing(pinned):
    invoice = issued(de_entity(), customer=customer())
    invoice_deliver(invoice_id=invoice.pk)
    credit_note_request(invoice_id=invoice.pk, by=user_with_role("Collector"), reason="goodwill",
                        explanation="Outage", amount=D("10.00"))
    with pytest.raises(InvalidTransition, match="credit note requests pending"):
        invoice_void(invoice_id=invoice.pk, by=user_with_role("Finance Manager"), reason="Wrong")
    assert Invoice.objects.get(pk=invoice.pk).status == "issued"
    assert CreditNote.objects.filter(status="issued").count() == 0


# --- credit notes reach the customer; approvers are told ------------------------------------------

@pytest.fixture
def limits():
    from django.contrib.auth.models import Group

    from otc.roles import ensure_roles

    ensure_roles()

    ApprovalLimit.objects.create(kind="credit_note", role=Group.objects.get(name="Finance Manager"), currency="EUR",
                                 max_amount=D("500.00"))
    ApprovalLimit.objects.create(kind="credit_note", role=Group.objects.get(name="Controller"), currency="EUR",
                                 max_amount=D("100000.00"))


def test_approvers_within_their_limit_are_emailed_when_a_credit_note_waits(limits, django_capture_on_commit_callbacks):
    invoice = issued(de_entity(), customer=customer())
    small_limit = user_with_role("Finance Manager", email="fm@otc.example")
    controller = user_with_role("Controller", email="controller@otc.example")
    requester = user_with_role("Collector", email="requester@otc.example")
    assert small_limit.email == "fm@otc.example"
    with django_capture_on_commit_callbacks(execute=True):
        note = credit_note_request(invoice_id=invoice.pk, by=requester, reason="goodwill",
                                   explanation="Outage on 3 April", amount=D("800.00"))
    # 800 + 19% = 952.00: above the finance manager's 500.00; the collector may not approve at all
    assert [m.to for m in mail.outbox] == [[controller.email]]
    [message] = mail.outbox
    assert message.subject == (f"Credit note request #{note.pk} waits for your approval: 952.00 EUR for "
                               "Kunde Eins GmbH")
    assert reverse("billing:credit_note_detail", args=[note.pk]) in message.body and "Outage on 3 April" in message.body


def test_an_issued_credit_note_is_emailed_with_its_pdf_once(limits, django_capture_on_commit_callbacks):
    invoice = issued(de_entity(), customer=customer())
    note = credit_note_request(invoice_id=invoice.pk, by=user_with_role("Collector"), reason="goodwill",
                               explanation="Outage", amount=D("100.00"))
    credit_note_approve(credit_note_id=note.pk, by=user_with_role("Finance Manager"))
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        credit_note_issue(credit_note_id=note.pk, by=user_with_role("Billing Specialist"))
    note.refresh_from_db()
    [message] = mail.outbox
    assert message.to == ["ap@kunde.example"] and "119.00 EUR" in message.body
    [(name, content, mimetype)] = message.attachments
    assert (name, mimetype) == ("DE01-CN-2026-000001.pdf", "application/pdf")
    assert hashlib.sha256(content).hexdigest() == note.pdf_sha256
    [log] = note.deliveries.all()
    assert (log.channel, log.status, log.recipients) == ("email", "sent", "ap@kunde.example")
    from billing.services import credit_note_deliver

    assert credit_note_deliver(credit_note_id=note.pk) is None  # already sent
    assert len(mail.outbox) == 1


def test_a_pending_upload_of_an_invoice_voided_before_upload_leaves_the_worklist(pinned):
    from billing.selectors import portal_worklist, portal_worklist_counts

    invoice = issued(de_entity(), customer=customer(procurement_portal="coupa", portal_supplier_id="SUP-1"))
    invoice_deliver(invoice_id=invoice.pk)  # queued for upload, not uploaded: not delivered
    assert portal_worklist().filter(invoice=invoice).exists()
    voided = invoice_void(invoice_id=invoice.pk, by=user_with_role("Finance Manager"), reason="Wrong customer")
    assert (voided.void_credit_note_id, voided.void_entry.kind) == (None, "reversal")
    assert not portal_worklist().filter(invoice=invoice).exists()
    assert portal_worklist_counts()["pending"] == 0


def test_a_credit_note_pdf_that_fails_to_render_is_retried_by_its_task_and_rendered_on_demand(
        limits, monkeypatch, django_capture_on_commit_callbacks):
    """Issue 17: the credit note's PDF is rendered by a documents task with retries, like an
    invoice's, never in-process swallowing the error; a download renders it when still missing."""
    from billing.services import credit_note_pdf_download
    from billing.tasks import DOCUMENT_TASK, credit_note_publish_task

    assert credit_note_publish_task.max_retries == DOCUMENT_TASK["max_retries"] == 5
    assert credit_note_publish_task.autoretry_for == (Exception,) and credit_note_publish_task.acks_late
    invoice = issued(de_entity(), customer=customer())
    note = credit_note_request(invoice_id=invoice.pk, by=user_with_role("Collector"), reason="goodwill",
                               explanation="Outage", amount=D("100.00"))
    credit_note_approve(credit_note_id=note.pk, by=user_with_role("Finance Manager"))

    def broken(note):
        raise OSError("fontconfig cache unreadable")

    monkeypatch.setattr("billing.services.credit_notes.credit_note_render_pdf", broken)
    from celery.exceptions import Retry

    # The task fails loudly and is retried (eager: the Retry is raised).
    with pytest.raises(Retry, match="fontconfig"), django_capture_on_commit_callbacks(execute=True):
        credit_note_issue(credit_note_id=note.pk, by=user_with_role("Billing Specialist"))
    note.refresh_from_db()
    assert note.status == "issued" and note.pdf_sha256 == "" and not note.deliveries.exists()
    monkeypatch.undo()
    content, name = credit_note_pdf_download(credit_note_id=note.pk)  # the download renders it now
    note.refresh_from_db()
    assert name == "DE01-CN-2026-000001.pdf" and hashlib.sha256(content).hexdigest() == note.pdf_sha256
    assert credit_note_publish_task(credit_note_id=note.pk) == "email sent"  # the retry delivers it once
