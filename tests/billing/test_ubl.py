"""UBL 2.1 (Peppol BIS Billing 3.0) export: schema-valid against the OASIS XSD, with the amounts,
parties and tax breakdown of the stored invoice. The issued-document builders here are shared
with test_cxml."""

from __future__ import annotations

from decimal import Decimal
from functools import cache
from pathlib import Path

import pytest
from lxml import etree

from billing.einvoice import credit_note_to_ubl, invoice_to_ubl
from billing.einvoice.ubl import CUSTOMIZATION_ID, PROFILE_ID
from billing.models import Invoice
from tests.factories.einvoice import BUYER, SELLER, issued_credit_note, issued_invoice

pytestmark = pytest.mark.django_db

REPO_ROOT = Path(__file__).resolve().parents[2]
STANDARDS = REPO_ROOT / "tests" / "standards"  # vendored: nothing outside the repository is read
NS = {
    "inv": "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2",
    "cn": "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2",
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
}

@cache
def schema(name: str) -> etree.XMLSchema:
    path = STANDARDS / "ubl-2.1" / "xsd" / "maindoc" / name
    if not path.exists():
        pytest.fail(f"OASIS UBL 2.1 schema not found at {path}: it is vendored in tests/standards/.")
    return etree.XMLSchema(etree.parse(str(path)))


def parse(xml: bytes) -> etree._Element:
    return etree.fromstring(xml)


def one(doc: etree._Element, path: str) -> str:
    found = doc.xpath(path, namespaces=NS)
    assert len(found) == 1, f"{path}: {len(found)} matches"
    return found[0] if isinstance(found[0], str) else found[0].text


def test_schema_rejects_a_broken_document():
    """The schema check itself works: an Invoice without its mandatory parts is invalid."""
    broken = etree.fromstring(b'<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"/>')
    assert not schema("UBL-Invoice-2.1.xsd").validate(broken)


def test_invoice_is_valid_ubl_with_peppol_ids_and_parties():
    invoice = issued_invoice()

    doc = parse(invoice_to_ubl(invoice))

    schema("UBL-Invoice-2.1.xsd").assertValid(doc)
    assert one(doc, "/inv:Invoice/cbc:CustomizationID") == CUSTOMIZATION_ID
    assert one(doc, "/inv:Invoice/cbc:ProfileID") == PROFILE_ID
    assert one(doc, "/inv:Invoice/cbc:ID") == "E01-INV-2026-000042"
    assert one(doc, "/inv:Invoice/cbc:IssueDate") == "2026-03-31"
    assert one(doc, "/inv:Invoice/cbc:DueDate") == "2026-04-30"
    assert one(doc, "/inv:Invoice/cbc:InvoiceTypeCode") == "380"
    assert one(doc, "/inv:Invoice/cbc:DocumentCurrencyCode") == "EUR"
    assert one(doc, "/inv:Invoice/cac:OrderReference/cbc:ID") == "PO-4711"
    assert one(doc, "/inv:Invoice/cac:InvoicePeriod/cbc:StartDate") == "2026-03-01"
    assert one(doc, "/inv:Invoice/cac:InvoicePeriod/cbc:EndDate") == "2026-03-31"
    seller = "/inv:Invoice/cac:AccountingSupplierParty/cac:Party"
    buyer = "/inv:Invoice/cac:AccountingCustomerParty/cac:Party"
    # the seller's explicit endpoint; the buyer has none, so its German VAT id with scheme 9930
    assert one(doc, f"{seller}/cbc:EndpointID") == "IE6388047V"
    assert one(doc, f"{seller}/cbc:EndpointID/@schemeID") == "9935"
    assert one(doc, f"{buyer}/cbc:EndpointID") == "DE136695976"
    assert one(doc, f"{buyer}/cbc:EndpointID/@schemeID") == "9930"
    assert one(doc, f"{seller}/cac:PartyIdentification/cbc:ID") == "AN01000000123"
    assert one(doc, f"{buyer}/cac:PostalAddress/cbc:CityName") == "Berlin"
    assert one(doc, f"{buyer}/cac:PostalAddress/cac:Country/cbc:IdentificationCode") == "DE"
    assert one(doc, f"{buyer}/cac:PartyTaxScheme/cbc:CompanyID") == "DE136695976"
    assert one(doc, f"{buyer}/cac:PartyTaxScheme/cac:TaxScheme/cbc:ID") == "VAT"
    assert one(doc, f"{buyer}/cac:PartyLegalEntity/cbc:RegistrationName") == "Acme Industrie GmbH"
    assert one(doc, "//cac:PaymentMeans/cbc:PaymentMeansCode") == "58"
    assert one(doc, "//cac:PayeeFinancialAccount/cbc:ID") == "IE29AIBK93115212345678"
    assert one(doc, "//cac:PayeeFinancialAccount/cac:FinancialInstitutionBranch/cbc:ID") == "AIBKIE2D"
    assert "2026-04-30" in one(doc, "//cac:PaymentTerms/cbc:Note")


def test_invoice_totals_and_tax_breakdown_match_the_invoice():
    invoice = issued_invoice(reverse_charge=False)

    doc = parse(invoice_to_ubl(invoice))

    schema("UBL-Invoice-2.1.xsd").assertValid(doc)
    total = "/inv:Invoice/cac:LegalMonetaryTotal"
    assert one(doc, f"{total}/cbc:LineExtensionAmount") == "225.00"
    assert one(doc, f"{total}/cbc:TaxExclusiveAmount") == "225.00"
    assert one(doc, f"{total}/cbc:TaxInclusiveAmount") == "255.75"
    assert one(doc, f"{total}/cbc:PayableAmount") == "255.75"
    assert one(doc, f"{total}/cbc:PayableAmount/@currencyID") == "EUR"
    assert Decimal(one(doc, f"{total}/cbc:TaxInclusiveAmount")) == invoice.gross_total
    assert one(doc, "/inv:Invoice/cac:TaxTotal/cbc:TaxAmount") == "30.75"
    subtotals = doc.xpath("/inv:Invoice/cac:TaxTotal/cac:TaxSubtotal", namespaces=NS)
    breakdown = [(one(s, "cac:TaxCategory/cbc:ID"), one(s, "cac:TaxCategory/cbc:Percent"),
                  one(s, "cbc:TaxableAmount"), one(s, "cbc:TaxAmount")) for s in subtotals]
    assert breakdown == [("S", "7.00", "100.00", "7.00"), ("S", "19.00", "125.00", "23.75")]
    assert sum(Decimal(row[3]) for row in breakdown) == invoice.tax_total
    assert sum(Decimal(row[2]) for row in breakdown) == invoice.net_total


def test_invoice_lines_carry_unit_codes_prices_and_categories():
    invoice = issued_invoice()

    doc = parse(invoice_to_ubl(invoice))

    lines = doc.xpath("/inv:Invoice/cac:InvoiceLine", namespaces=NS)
    assert [one(line, "cbc:ID") for line in lines] == ["1", "2"]
    assert [one(line, "cbc:InvoicedQuantity/@unitCode") for line in lines] == ["C62", "HUR"]
    assert [one(line, "cbc:InvoicedQuantity") for line in lines] == ["10", "3"]
    assert [one(line, "cbc:LineExtensionAmount") for line in lines] == ["125.00", "100.00"]
    assert [one(line, "cac:Price/cbc:PriceAmount") for line in lines] == ["12.50", "33.3333"]
    assert [one(line, "cac:Item/cbc:Name") for line in lines] == ["Platform seats", "Consulting hours"]
    assert [one(line, "cac:Item/cac:ClassifiedTaxCategory/cbc:ID") for line in lines] == ["S", "AE"]
    assert one(lines[0], "cac:InvoicePeriod/cbc:StartDate") == "2026-03-01"


def test_reverse_charge_line_is_category_ae_with_exemption_reason_and_legal_note():
    invoice = issued_invoice(reverse_charge=True)

    doc = parse(invoice_to_ubl(invoice))

    ae = doc.xpath("/inv:Invoice/cac:TaxTotal/cac:TaxSubtotal[cac:TaxCategory/cbc:ID='AE']", namespaces=NS)
    assert len(ae) == 1
    assert one(ae[0], "cbc:TaxableAmount") == "100.00"
    assert one(ae[0], "cbc:TaxAmount") == "0.00"
    assert one(ae[0], "cac:TaxCategory/cbc:Percent") == "0.00"
    assert one(ae[0], "cac:TaxCategory/cbc:TaxExemptionReason").startswith("Reverse charge")
    assert doc.xpath("/inv:Invoice/cac:TaxTotal/cac:TaxSubtotal[cac:TaxCategory/cbc:ID='S']"
                     "/cac:TaxCategory/cbc:TaxExemptionReason", namespaces=NS) == []
    assert any(n.text.startswith("Reverse charge") for n in doc.xpath("/inv:Invoice/cbc:Note", namespaces=NS))


def test_jpy_amounts_have_no_decimals():
    invoice = issued_invoice(currency="JPY", reverse_charge=False)

    doc = parse(invoice_to_ubl(invoice))

    schema("UBL-Invoice-2.1.xsd").assertValid(doc)
    assert one(doc, "/inv:Invoice/cac:LegalMonetaryTotal/cbc:PayableAmount") == "25575"
    assert one(doc, "/inv:Invoice/cac:TaxTotal/cbc:TaxAmount") == "3075"
    amounts = doc.xpath("//*[@currencyID]", namespaces=NS)
    assert {a.get("currencyID") for a in amounts} == {"JPY"}
    assert not [a.text for a in amounts if "." in a.text]


def test_the_same_invoice_always_gives_the_same_xml_from_its_snapshots():
    invoice = issued_invoice()
    first = invoice_to_ubl(invoice)
    invoice.customer.legal_name = "Renamed AG"
    invoice.customer.save()

    assert invoice_to_ubl(Invoice.objects.get(pk=invoice.pk)) == first


def test_endpoint_falls_back_to_vat_scheme_or_is_left_out():
    buyer = {**BUYER, "tax_id": "", "einvoice_endpoint": ""}
    seller = {**SELLER, "einvoice_endpoint": "", "tax_id": "GB123456789", "iban": "",
              "bank_account_number": "12345678"}
    invoice = issued_invoice(seller=seller, bill_to=buyer, po_number="")

    doc = parse(invoice_to_ubl(invoice))

    schema("UBL-Invoice-2.1.xsd").assertValid(doc)
    assert one(doc, "//cac:AccountingSupplierParty/cac:Party/cbc:EndpointID/@schemeID") == "9932"
    assert doc.xpath("//cac:AccountingCustomerParty/cac:Party/cbc:EndpointID", namespaces=NS) == []
    assert one(doc, "//cac:PaymentMeans/cbc:PaymentMeansCode") == "30"
    assert doc.xpath("/inv:Invoice/cac:OrderReference", namespaces=NS) == []
    assert one(doc, "/inv:Invoice/cbc:BuyerReference") == "C100001"


def test_credit_note_is_valid_ubl_referring_to_its_invoice():
    invoice = issued_invoice()
    note = issued_credit_note(invoice)

    doc = parse(credit_note_to_ubl(note))

    schema("UBL-CreditNote-2.1.xsd").assertValid(doc)
    assert one(doc, "/cn:CreditNote/cbc:CustomizationID") == CUSTOMIZATION_ID
    assert one(doc, "/cn:CreditNote/cbc:ProfileID") == PROFILE_ID
    assert one(doc, "/cn:CreditNote/cbc:ID") == "E01-CN-2026-000007"
    assert one(doc, "/cn:CreditNote/cbc:CreditNoteTypeCode") == "381"
    assert one(doc, "/cn:CreditNote/cac:BillingReference/cac:InvoiceDocumentReference/cbc:ID") == invoice.number
    assert one(doc, "/cn:CreditNote/cac:BillingReference/cac:InvoiceDocumentReference/cbc:IssueDate") == "2026-03-31"
    assert one(doc, "/cn:CreditNote/cac:LegalMonetaryTotal/cbc:PayableAmount") == "148.75"
    assert one(doc, "/cn:CreditNote/cac:TaxTotal/cbc:TaxAmount") == "23.75"
    assert one(doc, "/cn:CreditNote/cac:CreditNoteLine/cbc:CreditedQuantity/@unitCode") == "C62"
    assert one(doc, "/cn:CreditNote/cac:CreditNoteLine/cac:Price/cbc:PriceAmount") == "12.50"
    assert one(doc, "//cac:AccountingCustomerParty/cac:Party/cbc:EndpointID/@schemeID") == "9930"


def test_an_invoice_issued_by_the_billing_services_exports_valid_ubl():
    """End to end with the real issue path: its seller/bill_to snapshots are what the writer reads."""
    from tests.factories.billing import de_entity, issued
    from tests.factories.customers import CustomerFactory

    entity = de_entity()
    customer = CustomerFactory(country="FR", legal_name="Client Deux SARL", tax_id="FR40303265045", city="Paris",
                               postal_code="75001")
    invoice = issued(entity, customer=customer, po_number="PO-77")

    doc = parse(invoice_to_ubl(invoice))

    schema("UBL-Invoice-2.1.xsd").assertValid(doc)
    assert one(doc, "/inv:Invoice/cbc:ID") == invoice.number
    assert one(doc, "//cac:AccountingSupplierParty/cac:Party/cbc:EndpointID/@schemeID") == "9930"
    assert one(doc, "//cac:AccountingCustomerParty/cac:Party/cbc:EndpointID/@schemeID") == "9957"
    assert Decimal(one(doc, "/inv:Invoice/cac:LegalMonetaryTotal/cbc:PayableAmount")) == invoice.gross_total
    assert Decimal(one(doc, "/inv:Invoice/cac:TaxTotal/cbc:TaxAmount")) == invoice.tax_total
    categories = doc.xpath("/inv:Invoice/cac:TaxTotal/cac:TaxSubtotal/cac:TaxCategory/cbc:ID/text()", namespaces=NS)
    assert categories == [line.tax_code.ubl_category for line in invoice.lines.all()]
