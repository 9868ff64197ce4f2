"""Delivery: e-mail with the PDF attached, portal upload tasks, the delivery log, idempotency."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail

from billing.models import Delivery, PortalSubmission
from billing.services import invoice_deliver, invoices_issue
from billing.services.portal import add_business_days
from tests.factories.billing import ISSUE, de_entity, draft, issued
from tests.factories.customers import ContactFactory, CustomerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def test_email_to_billing_contacts_with_the_pdf_once():
    customer = CustomerFactory(country="DE", legal_name="Kunde Eins GmbH")
    ContactFactory(customer=customer, email="ap@kunde.example")
    ContactFactory(customer=customer, email="cfo@kunde.example", is_billing_contact=False)
    inv = issued(de_entity(), customer=customer)
    delivery = invoice_deliver(invoice_id=inv.pk)
    assert (delivery.channel, delivery.status, delivery.recipients) == ("email", "sent", "ap@kunde.example")
    [message] = mail.outbox
    assert message.to == ["ap@kunde.example"]
    assert message.subject == "Invoice DE01-INV-2026-000001 from otc DE01 GmbH"
    assert "1,190.00 EUR" in message.body and "due on 2026-04-30" in message.body
    [(name, content, mimetype)] = message.attachments
    inv.refresh_from_db()
    assert (name, mimetype) == ("DE01-INV-2026-000001.pdf", "application/pdf")
    assert content.startswith(b"%PDF") and inv.pdf_sha256
    assert invoice_deliver(invoice_id=inv.pk) is None  # already sent: nothing happens
    assert len(mail.outbox) == 1 and Delivery.objects.count() == 1


def test_no_billing_contact_is_skipped_and_logged():
    inv = issued(de_entity(), customer=CustomerFactory(country="DE", legal_name="Ohne Kontakt AG"))
    delivery = invoice_deliver(invoice_id=inv.pk)
    assert (delivery.status, delivery.detail) == ("skipped", "Ohne Kontakt AG has no billing contact with an e-mail address.")
    assert mail.outbox == []


def test_failed_send_is_logged(monkeypatch):
    customer = CustomerFactory(country="DE")
    ContactFactory(customer=customer, email="ap@kunde.example")
    inv = issued(de_entity(), customer=customer)

    def boom(self, fail_silently=False):
        raise ConnectionRefusedError("SMTP server refused the connection")

    monkeypatch.setattr("django.core.mail.EmailMessage.send", boom)
    delivery = invoice_deliver(invoice_id=inv.pk)
    assert (delivery.status, delivery.detail) == ("failed", "ConnectionRefusedError: SMTP server refused the connection")


def test_portal_customer_gets_a_pending_upload_task_once():
    customer = CustomerFactory(country="DE", procurement_portal="ariba", portal_supplier_id="AN0123",
                               invoice_delivery="portal")
    ContactFactory(customer=customer)
    inv = issued(de_entity(), customer=customer)  # issued Tuesday 2026-03-31
    delivery = invoice_deliver(invoice_id=inv.pk)
    submission = PortalSubmission.objects.get(invoice=inv)
    assert (submission.status, submission.portal, submission.due_date) == ("pending", "ariba", dt.date(2026, 4, 7))
    assert (delivery.channel, delivery.status) == ("portal", "skipped")
    assert invoice_deliver(invoice_id=inv.pk) is None
    assert PortalSubmission.objects.count() == 1 and mail.outbox == []


def test_post_customer_is_logged_once():
    customer = CustomerFactory(country="DE", invoice_delivery="post")
    inv = issued(de_entity(), customer=customer)
    assert invoice_deliver(invoice_id=inv.pk).channel == "post"
    assert invoice_deliver(invoice_id=inv.pk) is None


def test_business_days_skip_weekends():
    assert add_business_days(dt.date(2026, 4, 3), 5) == dt.date(2026, 4, 10)  # Friday -> next Friday
    assert add_business_days(dt.date(2026, 4, 4), 1) == dt.date(2026, 4, 6)   # Saturday -> Monday


def test_issue_queues_pdf_and_delivery_after_commit(django_capture_on_commit_callbacks):
    customer = CustomerFactory(country="DE")
    ContactFactory(customer=customer, email="ap@kunde.example")
    inv = draft(de_entity(), customer=customer)
    with django_capture_on_commit_callbacks(execute=True):
        invoices_issue(invoice_ids=[inv.pk], by=None, issue_date=ISSUE)
    inv.refresh_from_db()
    assert inv.pdf_sha256 and inv.deliveries.get().status == "sent"
    assert len(mail.outbox) == 1
