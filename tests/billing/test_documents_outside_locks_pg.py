"""PDFs render and e-mails go out with no row lock held (PostgreSQL): while a worker renders an
invoice's PDF or talks to the SMTP server, another transaction can lock the invoice row at once
(a payment applied to it, a void). Concurrent deliveries of one invoice still send one e-mail:
they serialise on the delivery's key lock, not on the row."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.db import DatabaseError, connection, transaction

from billing.models import CreditNote, Delivery, Invoice
from billing.services import credit_note_approve, credit_note_issue, credit_note_request, invoice_deliver
from billing.services.credit_notes import credit_note_store_pdf
from otc.models import ApprovalLimit
from tests.factories.billing import ISSUE, de_entity, issued
from tests.factories.customers import ContactFactory, CustomerFactory
from tests.factories.otc import user_with_role
from tests.factories.races import race

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def row_is_free(model, pk) -> bool:
    """Whether another connection can lock the row right now (FOR UPDATE NOWAIT)."""
    outcome: dict[str, bool] = {}

    def probe():
        try:
            with transaction.atomic():
                model.objects.select_for_update(nowait=True).get(pk=pk)
            outcome["free"] = True
        except DatabaseError:
            outcome["free"] = False
        finally:
            connection.close()

    thread = threading.Thread(target=probe)
    thread.start()
    thread.join(timeout=30)
    return outcome["free"]


def billed_customer():
    customer = CustomerFactory(country="DE", legal_name="Kunde Eins GmbH")
    ContactFactory(customer=customer, email="ap@kunde.example")
    return customer


def test_the_pdf_renders_while_the_invoice_row_stays_free(monkeypatch):
    import billing.pdf

    invoice = issued(de_entity(), customer=billed_customer())
    seen: list[bool] = []
    render = billing.pdf.invoice_render_pdf

    def watched_render(inv):
        seen.append(row_is_free(Invoice, inv.pk))
        return render(inv)

    monkeypatch.setattr(billing.pdf, "invoice_render_pdf", watched_render)
    stored = billing.pdf.invoice_store_pdf(invoice_id=invoice.pk)
    assert seen == [True]
    assert stored.pdf_sha256 and Invoice.objects.get(pk=invoice.pk).pdf_sha256 == stored.pdf_sha256


def test_the_credit_note_pdf_renders_while_its_row_stays_free(monkeypatch):
    import billing.services.credit_notes as credit_notes

    invoice = issued(de_entity(), customer=billed_customer())
    ApprovalLimit.objects.create(kind="credit_note", role=Group.objects.get(name="Finance Manager"), currency="EUR",
                                 max_amount=Decimal("10000.00"))
    seen: list[bool] = []
    render = credit_notes.credit_note_render_pdf

    def watched_render(n):
        seen.append(row_is_free(CreditNote, n.pk))
        return render(n)

    monkeypatch.setattr(credit_notes, "credit_note_render_pdf", watched_render)
    note = credit_note_request(invoice_id=invoice.pk, by=user_with_role("Collector"), reason="billing_error",
                               explanation="Billed twice")
    credit_note_approve(credit_note_id=note.pk, by=user_with_role("Finance Manager"))
    credit_note_issue(credit_note_id=note.pk, by=user_with_role("Billing Specialist"), issue_date=ISSUE)
    # issuing queued the documents task on commit: it rendered with the note's row free
    assert seen == [True]
    assert CreditNote.objects.get(pk=note.pk).pdf_sha256
    assert credit_note_store_pdf(credit_note_id=note.pk).pdf_sha256  # stored once: not rendered again
    assert seen == [True]


def test_the_email_goes_out_while_the_invoice_row_stays_free(monkeypatch):
    import billing.services.delivery as delivery

    invoice = issued(de_entity(), customer=billed_customer())
    seen: list[bool] = []
    send = delivery._send_message

    def watched_send(message):
        seen.append(row_is_free(Invoice, invoice.pk))
        send(message)

    monkeypatch.setattr(delivery, "_send_message", watched_send)
    result = invoice_deliver(invoice_id=invoice.pk)
    assert seen == [True]
    assert (result.channel, result.status) == ("email", "sent")


def test_concurrent_deliveries_of_one_invoice_send_one_email():
    invoice = issued(de_entity(), customer=billed_customer())
    results, errors = race([lambda: invoice_deliver(invoice_id=invoice.pk) for _ in range(4)])
    assert errors == []
    assert sorted(r is None for r in results) == [False, True, True, True]
    assert len(mail.outbox) == 1
    assert Delivery.objects.filter(invoice=invoice, status=Delivery.Status.SENT).count() == 1
