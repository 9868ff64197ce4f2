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
