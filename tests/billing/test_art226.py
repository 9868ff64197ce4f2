"""The art. 226 (EU VAT Directive) checklist, read from the PDF text of an invoice and of a
credit note on it, in each tax situation: domestic, intra-EU reverse charge, export out of the
EU, and a non-EU seller (US sales tax). Also the per-country wording a customer reads: bank
labels (sort code, ABA routing, IBAN/BIC), US address order, "Tax" where there is no VAT, no
placeholder text."""

from __future__ import annotations

from decimal import Decimal

import pytest

from billing.pdf import invoice_render_pdf
from billing.services.credit_notes import credit_note_render_pdf
from tests.factories.billing import ART226_LINES as LINES
from tests.factories.billing import credit_whole, de_entity, issued, text_of, us_entity
from tests.factories.customers import CustomerFactory

pytestmark = pytest.mark.django_db
D = Decimal
SITUATIONS = {
    # situation: (entity, customer kwargs, currency, tax rows expected on both documents, legal wording, tax label)
    "domestic": ("DE", {"country": "DE", "legal_name": "Kunde Eins GmbH", "tax_id": "DE811569869",
                        "address_line1": "Hauptstrasse 5", "city": "München", "postal_code": "80331"},
                 "EUR", ["19%", "2,680.00 EUR 509.20 EUR"], [], "VAT"),
    "reverse_charge": ("DE", {"country": "FR", "legal_name": "Client Industrie SARL", "tax_id": "FR40303265045",
                              "address_line1": "12 rue de la Paix", "city": "Paris", "postal_code": "75002"},
                       "EUR", ["0%", "2,680.00 EUR 0.00 EUR"], ["Reverse charge"], "VAT"),
    "export": ("DE", {"country": "US", "legal_name": "Acme Corp.", "tax_id": "",
                      "address_line1": "1 Market Street", "city": "Austin", "region": "TX", "postal_code": "78701"},
               "EUR", ["0%", "2,680.00 EUR 0.00 EUR"], [], "VAT"),
    "non_eu": ("US", {"country": "US", "legal_name": "Acme Corp.", "tax_id": "",
                      "address_line1": "1 Market Street", "city": "Austin", "region": "TX", "postal_code": "78701"},
               "USD", ["0%", "2,680.00 USD 0.00 USD"], [], "Tax"),
}


@pytest.mark.parametrize("situation", list(SITUATIONS))
def test_art_226_checklist_on_the_invoice_and_its_credit_note(situation):
    country, customer_kwargs, currency, tax_rows, wording, label = SITUATIONS[situation]
    entity = us_entity() if country == "US" else de_entity()
    customer = CustomerFactory(**customer_kwargs)
    invoice = issued(entity, customer=customer, currency=currency, lines=LINES, po_number="PO-77")
    note = credit_whole(invoice)
    seller_rows = (["otc Inc.", "500 Howard Street", "San Francisco, CA 94105", "United States", "94-1234567"]
                   if country == "US" else
                   ["otc DE01 GmbH", "Friedrichstrasse 10", "10117 Berlin", "Germany", "DE136695976"])
    buyer_rows = {
        "DE": ["Kunde Eins GmbH", "Hauptstrasse 5", "80331 München", "Germany", "DE811569869"],
        "FR": ["Client Industrie SARL", "12 rue de la Paix", "75002 Paris", "France", "FR40303265045"],
        "US": ["Acme Corp.", "1 Market Street", "Austin, TX 78701", "United States"],
    }[customer.country]
    common = [
        *seller_rows, *buyer_rows,                                                  # (3)-(5) parties, ids, addresses
        "Platform subscription", "Implementation days", "3 month", "2 day",          # (6) nature and quantity
        "Service period 2026-03-01 – 2026-03-31", "2026-03-01 – 2026-03-31",       # (7) date of supply
        "400.00", "800.00", "10%",                                                  # (8) unit price, discount
        *tax_rows,                                                                   # (8)/(9)/(10) per rate
        *wording,                                                                    # (11) reverse charge
        f"{label} rate", f"{label.upper()} ID",
    ]
    invoice_text = text_of(invoice_render_pdf(invoice))
    note_text = text_of(credit_note_render_pdf(note))
    for expected in [*common, invoice.number, "Date of issue 2026-03-31"]:               # (1) date, (2) number
        assert expected in invoice_text, f"invoice: {expected}"
    for expected in [*common, note.number, "Date of issue 2026-04-15",
                     f"Credited invoice {invoice.number} of 2026-03-31"]:           # art. 219: the invoice it corrects
        assert expected in note_text, f"credit note: {expected}"
    # The tax codes' legal notes are billing/tax.py's wording (reviewed with the e-invoice rules);
    # everything else on the page comes from the templates and must hold no placeholder.
    notes = {" ".join(line.tax_code.legal_note.split()) for line in invoice.lines.all() if line.tax_code.legal_note}
    for text in (invoice_text, note_text):
        for legal_note in notes:
            text = text.replace(legal_note, "")
        assert "placeholder" not in text.lower()
        if label == "Tax":
            assert "VAT" not in text


def test_bank_details_are_labelled_as_the_country_names_them():
    gb = de_entity("GB01", country="GB", legal_name="otc UK Ltd", address_line1="1 Poultry", city="London",
                   postal_code="EC2R 8EJ", tax_id="GB123456789", iban="GB29NWBK60161331926819", bic="NWBKGB2L",
                   bank_account_number="31926819", bank_routing_number="60-16-13", functional_currency="GBP",
                   invoice_prefix="GB01-INV")
    text = text_of(invoice_render_pdf(issued(gb, customer=CustomerFactory(country="GB", legal_name="Buyer Ltd",
                                                                       city="Leeds", postal_code="LS1 4DY",
                                                                       address_line1="2 Park Row"),
                                             currency="GBP", lines=LINES[:1])))
    assert "Sort code 60-16-13" in text and "Account number 31926819" in text and "Routing" not in text
    assert "Leeds LS1 4DY United Kingdom" in text  # town, then the postcode
    us = us_entity()
    text = text_of(invoice_render_pdf(issued(us, customer=CustomerFactory(country="US", legal_name="Acme Corp.",
                                                                       city="Austin", region="TX", postal_code="78701"),
                                             currency="USD", lines=LINES[:1])))
    assert "Routing number (ABA) 121000248" in text and "Account number 000123456789" in text
    assert "IBAN" not in text and "Sort code" not in text
    text = text_of(invoice_render_pdf(issued(de_entity("DE02"), lines=LINES[:1])))
    assert "IBAN DE89370400440532013000" in text and "BIC / SWIFT COBADEFFXXX" in text and "Routing" not in text
