"""Stored PDFs are served only when their bytes match the SHA-256 stored at issue: a swapped file
is an incident (500, an error logged naming the document, the bytes never served or e-mailed).
`manage.py documents_check` verifies every stored PDF and compares every issued document with
its posting."""

from __future__ import annotations

import hashlib
import logging
from decimal import Decimal
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.urls import reverse

from billing.models import CreditNote, Delivery, Invoice
from billing.pdf import invoice_store_pdf
from billing.services import credit_note_approve, credit_note_issue, credit_note_request, invoice_deliver
from otc.models import ApprovalLimit
from tests.factories.billing import de_entity, issued
from tests.factories.customers import ContactFactory, CustomerFactory
from tests.factories.otc import integration_client, user_with_role

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def swap(document, content: bytes = b"%PDF-1.7 someone else's bank account") -> None:
    """What an attacker with disk access does: overwrite the stored file in place."""
    with open(document.pdf.path, "wb") as handle:
        handle.write(content)


def issued_note(invoice: Invoice) -> CreditNote:
    manager = user_with_role("Finance Manager")
    ApprovalLimit.objects.get_or_create(kind="credit_note", role=manager.groups.get(), currency="EUR",
                                        defaults={"max_amount": D("10000.00")})
    note = credit_note_request(invoice_id=invoice.pk, by=user_with_role("Collector"), reason="billing_error",
                               explanation="Seats billed twice", amount=D("100.00"))
    credit_note_approve(credit_note_id=note.pk, by=manager)
    return credit_note_issue(credit_note_id=note.pk, by=user_with_role("Billing Specialist"))


def alerts(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "otc.documents" and r.levelno == logging.ERROR]


def test_an_intact_invoice_pdf_is_served(client):
    invoice = invoice_store_pdf(invoice_id=issued(de_entity()).pk)
    client.force_login(user_with_role("Billing Specialist"))
    response = client.get(reverse("billing:invoice_pdf", args=[invoice.pk]))
    body = b"".join(response.streaming_content)
    assert response.status_code == 200 and hashlib.sha256(body).hexdigest() == invoice.pdf_sha256


def test_a_swapped_invoice_pdf_is_an_incident_not_a_download(client, caplog):
    invoice = invoice_store_pdf(invoice_id=issued(de_entity()).pk)
    swap(invoice)
    client.force_login(user_with_role("Billing Specialist"))
    response = client.get(reverse("billing:invoice_pdf", args=[invoice.pk]))
    assert response.status_code == 500
    assert b"someone else" not in response.content and b"integrity check" in response.content
    [alert] = alerts(caplog)
    assert "invoice DE01-INV-2026-000001" in alert and f"expected {invoice.pdf_sha256}" in alert


def test_a_deleted_pdf_file_is_an_incident_too(client, caplog):
    invoice = invoice_store_pdf(invoice_id=issued(de_entity()).pk)
    invoice.pdf.storage.delete(invoice.pdf.name)
    client.force_login(user_with_role("Billing Specialist"))
    assert client.get(reverse("billing:invoice_pdf", args=[invoice.pk])).status_code == 500
    assert "cannot be read" in alerts(caplog)[0]


def test_the_api_answers_500_for_a_swapped_pdf(api_client, caplog):
    invoice = invoice_store_pdf(invoice_id=issued(de_entity()).pk)
    swap(invoice)
    _, key = integration_client(name="ERP", scopes=["invoices:read"])
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    response = api_client.get(f"/api/v1/invoices/{invoice.pk}/pdf/", HTTP_ACCEPT="application/pdf")
    assert response.status_code == 500
    assert response.json()["error"] == "document_integrity"
    assert len(alerts(caplog)) == 1


def test_a_swapped_credit_note_pdf_is_an_incident(client, caplog):
    note = issued_note(issued(de_entity()))
    assert not note.pdf_sha256  # its task runs after commit (not in this test's transaction)...
    client.force_login(user_with_role("Billing Specialist"))
    assert client.get(reverse("billing:credit_note_pdf", args=[note.pk])).status_code == 200  # ...so rendered now
    note.refresh_from_db()
    assert note.pdf_sha256
    swap(note)
    response = client.get(reverse("billing:credit_note_pdf", args=[note.pk]))
    assert response.status_code == 500 and b"someone else" not in response.content
    assert "credit note DE01-CN-2026-000001" in alerts(caplog)[0]


def test_a_swapped_pdf_is_never_emailed():
    customer = CustomerFactory(country="DE", legal_name="Kunde Eins GmbH")
    ContactFactory(customer=customer, email="ap@kunde.example")
    invoice = invoice_store_pdf(invoice_id=issued(de_entity(), customer=customer).pk)
    swap(invoice)
    delivery = invoice_deliver(invoice_id=invoice.pk)
    assert (delivery.status, mail.outbox) == (Delivery.Status.FAILED, [])
    assert delivery.detail.startswith("Not sent: The stored PDF of invoice DE01-INV-2026-000001")


# --- documents_check -------------------------------------------------------------------------------

def check() -> str:
    out = StringIO()
    call_command("documents_check", stdout=out)
    return out.getvalue()


def tamper(sql: str, params: list) -> None:
    """Change a row below every guard (on PostgreSQL the triggers are switched off for the session,
    as only a superuser can): what the check must catch."""
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(sql, params)


def test_documents_check_passes_on_intact_documents():
    entity = de_entity()
    invoice_store_pdf(invoice_id=issued(entity).pk)
    issued_note(issued(entity))
    assert "Documents intact and in agreement with the ledger." in check()


def test_documents_check_reports_a_swapped_pdf_and_a_document_that_disagrees_with_its_posting():
    entity = de_entity()
    swapped = invoice_store_pdf(invoice_id=issued(entity).pk)
    swap(swapped)
    changed = issued(entity)
    other = CustomerFactory(country="DE", legal_name="Someone Else GmbH")
    tamper("UPDATE billing_invoice SET net_total = 900, gross_total = 1090, customer_id = %s WHERE id = %s",
           [other.pk, changed.pk])
    note = issued_note(issued(entity))
    tamper("UPDATE billing_creditnote SET tax_total = 0, gross_total = net_total WHERE id = %s", [note.pk])
    out = StringIO()
    with pytest.raises(CommandError, match="6 document problem"):
        call_command("documents_check", stdout=out)
    report = out.getvalue()
    assert "invoice DE01-INV-2026-000001" in report and "does not match its SHA-256.  <-- MISMATCH" in report
    assert "invoice DE01-INV-2026-000002 (id" in report
    assert "total (AR) 1,090.00 EUR on the document, 1,190.00 EUR in the posting" in report
    assert "net (revenue) -900.00 EUR on the document, -1,000.00 EUR in the posting" in report
    assert f"customer {other.pk} on the document" in report
    assert "credit note DE01-CN-2026-000001" in report and "tax 0.00 EUR on the document, 19.00 EUR in the posting" in report
    assert "total (AR) -100.00 EUR on the document, -119.00 EUR in the posting" in report
