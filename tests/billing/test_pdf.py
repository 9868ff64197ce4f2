"""Invoice PDFs: the text a customer reads, and the stored bytes never change after issue."""

from __future__ import annotations

import hashlib
from decimal import Decimal

import pytest

from billing.pdf import invoice_render_pdf, invoice_store_pdf
from tests.factories.billing import de_entity, draft, issued, text_of
from tests.factories.customers import CustomerFactory

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def test_pdf_carries_the_eu_vat_invoice_fields_and_reverse_charge_note():
    entity = de_entity()
    customer = CustomerFactory(country="FR", legal_name="Client Industrie SARL", tax_id="FR40303265045",
                               address_line1="12 rue de la Paix", city="Paris", postal_code="75002")
    inv = issued(entity, customer=customer, po_number="PO-4711", lines=[
        {"description": "Platform subscription", "quantity": D("1"), "unit_price": D("1000.00"),
         "tax_category": "digital", "unit": "MON"},
        {"description": "Implementation days", "quantity": D("2.5"), "unit_price": D("800.00"),
         "discount_percent": D("10"), "tax_category": "services", "unit": "DAY"},
    ])
    text = text_of(invoice_render_pdf(inv))
    for expected in [
        "otc DE01 GmbH", "Friedrichstrasse 10", "DE136695976", "HRB 123456 B",       # seller, VAT id, register
        "Client Industrie SARL", "12 rue de la Paix", "75002 Paris", "France", "FR40303265045",  # customer
        "DE01-INV-2026-000001", "2026-03-31", "2026-04-30", "2026-03-01 – 2026-03-31", "PO-4711",
        "Platform subscription", "Implementation days", "2.5", "800.00", "10%", "1,800.00", "1,000.00",
        "0%", "2,800.00 EUR", "Total due",
        "Reverse charge: VAT to be accounted for by the recipient (Article 196, Directive 2006/112/EC)",
        "DE89370400440532013000", "COBADEFFXXX", "quote the invoice number DE01-INV-2026-000001",
    ]:
        assert expected in text, expected


def test_pdf_domestic_tax_summary_per_rate_and_exemption_reference():
    entity = de_entity()
    inv = issued(entity, lines=[
        {"description": "Subscription", "quantity": D("1"), "unit_price": D("100.00"), "tax_category": "digital"},
        {"description": "Printed handbook", "quantity": D("1"), "unit_price": D("50.00"), "tax_category": "reduced"},
    ])
    text = text_of(invoice_render_pdf(inv))
    assert "19% German VAT standard rate (digital) 100.00 EUR 19.00 EUR" in text
    assert "7% German VAT reduced rate 50.00 EUR 3.50 EUR" in text
    assert "172.50 EUR" in text
    exempt = CustomerFactory(country="DE", legal_name="Stiftung Bildung", tax_exempt=True,
                             tax_exemption_reference="FA Berlin 27/640/12345")
    text = text_of(invoice_render_pdf(issued(entity, customer=exempt)))
    assert "Tax exemption reference: FA Berlin 27/640/12345" in text and "1,000.00 EUR" in text


def test_draft_pdf_is_marked_draft():
    text = text_of(invoice_render_pdf(draft(de_entity())))
    assert "DRAFT" in text and "(assigned at issue)" in text


def test_stored_pdf_hash_matches_and_never_changes(settings, tmp_path):
    inv = issued(de_entity())
    stored = invoice_store_pdf(invoice_id=inv.pk)
    content = stored.pdf.read()
    stored.pdf.close()
    assert stored.pdf_sha256 == hashlib.sha256(content).hexdigest()
    assert "DE01-INV-2026-000001" in text_of(content)
    # a later template change (here: a different template directory) never alters the stored PDF
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [str(tmp_path)]}]
    again = invoice_store_pdf(invoice_id=inv.pk)
    assert (again.pdf.name, again.pdf_sha256) == (stored.pdf.name, stored.pdf_sha256)
    with again.pdf.open("rb") as handle:
        assert handle.read() == content


def test_a_draft_pdf_is_never_stored():
    from otc.errors import InvalidTransition

    inv = draft(de_entity())
    with pytest.raises(InvalidTransition):
        invoice_store_pdf(invoice_id=inv.pk)
