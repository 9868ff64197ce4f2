"""While seeding, documents wait for their first download and e-mails are only recorded (issue 16)."""

from __future__ import annotations

import pytest
from django.core import mail
from django.urls import reverse

from billing.models import Delivery
from billing.services.delivery import invoice_deliver
from demo.billing import documents_on_first_download
from tests.factories.billing import de_entity, issued
from tests.factories.customers import ContactFactory, CustomerFactory

pytestmark = pytest.mark.django_db


def test_seeded_invoices_are_recorded_as_emailed_and_rendered_on_first_download(client, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    customer = CustomerFactory(country="DE", legal_name="Kunde Eins GmbH")
    ContactFactory(customer=customer, email="ap@kunde.example", is_billing_contact=True)
    invoice = issued(de_entity(), customer=customer)
    with documents_on_first_download():
        invoice_deliver(invoice_id=invoice.pk)
    delivery = Delivery.objects.get(invoice=invoice)
    assert (delivery.channel, delivery.status, delivery.recipients) == ("email", "sent", "ap@kunde.example")
    assert mail.outbox == []
    invoice.refresh_from_db()
    assert not invoice.pdf_sha256
    # after the seed everything is real again: the first download renders and stores the PDF
    from tests.factories.otc import user_with_role

    client.force_login(user_with_role("Billing Specialist"))
    response = client.get(reverse("billing:invoice_pdf", args=[invoice.pk]))
    assert response.status_code == 200
    invoice.refresh_from_db()
    assert len(invoice.pdf_sha256) == 64


def test_the_month_end_documents_task_delivers_the_seeded_invoices_without_rendering(settings, tmp_path):
    """The batched documents task (`invoices_publish_task`, queued on commit through
    `billing.services.invoices.documents_queue`) renders its invoices in batches: while seeding it
    still delivers them (the e-mail recorded) but renders and stores no PDF; after the seed it
    renders again."""
    from billing.services import invoices as invoice_services

    settings.MEDIA_ROOT = tmp_path
    customer = CustomerFactory(country="DE", legal_name="Kunde Zwei GmbH")
    ContactFactory(customer=customer, email="ap@kunde2.example", is_billing_contact=True)
    seeded = issued(de_entity(), customer=customer)
    with documents_on_first_download():
        invoice_services.documents_queue([seeded.pk])
    seeded.refresh_from_db()
    assert not seeded.pdf_sha256
    assert list(Delivery.objects.filter(invoice=seeded).values_list("channel", "status")) == [("email", "sent")]
    assert mail.outbox == []
    # the seam is restored: the same task renders, stores and e-mails the next invoice
    later = issued(seeded.legal_entity, customer=customer)
    invoice_services.documents_queue([later.pk])
    later.refresh_from_db()
    assert len(later.pdf_sha256) == 64 and len(mail.outbox) == 1


def test_the_collectors_statement_is_e_mailed_without_drawing_its_pdf_while_seeding():
    """The seed's statement e-mail goes through `statement_email` (its delivery recorded, the
    message sent to the in-memory backend) with an empty attachment; after the seed it is drawn."""
    import datetime as dt

    from receivables import statements
    from receivables.models import StatementDelivery
    from tests.factories.otc import user_with_role

    customer = CustomerFactory(country="DE", legal_name="Kunde Drei GmbH")
    ContactFactory(customer=customer, email="ap@kunde3.example", is_billing_contact=True)
    invoice = issued(de_entity(), customer=customer)
    send = {"customer_id": customer.pk, "legal_entity_id": invoice.legal_entity_id, "currency": invoice.currency,
            "date_from": invoice.issue_date - dt.timedelta(days=30), "date_to": invoice.issue_date + dt.timedelta(days=1),
            "by": user_with_role("Controller")}
    with documents_on_first_download():
        statements.statement_email(**send)
    assert [m.to for m in mail.outbox] == [["ap@kunde3.example"]]
    assert [content for _name, content, _type in mail.outbox[0].attachments] == [b""]
    assert StatementDelivery.objects.filter(customer=customer).count() == 1
    statements.statement_email(**send)
    assert mail.outbox[1].attachments[0][1].startswith(b"%PDF")
