"""Every e-invoice otc issues is one a Peppol access point accepts and a procurement portal can
post: invoices and credit notes issued through the services, for each legal entity (DE, US, UK)
and each kind of buyer (domestic, EU reverse charge, EU without a VAT id, UK, US, other non-EU,
tax-exempt), run through the vendored validator (OASIS UBL 2.1 XSD, EN 16931, Peppol BIS 3: no
fatal rule), and their cXML checked for what Ariba and Coupa refuse.

This is the suite's guard on issue 14: a writer change that makes any situation fail a fatal rule
fails here with the rule ids and texts."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from lxml import etree
from pypdf import PdfReader

from billing.einvoice import credit_note_to_cxml, credit_note_to_ubl, invoice_to_cxml, invoice_to_ubl
from billing.einvoice._common import line_price
from billing.models import CreditNote, Invoice, TaxCode
from billing.pdf import invoice_render_pdf
from billing.services import credit_note_approve, credit_note_issue, credit_note_request, invoices_issue
from otc.models import ApprovalLimit
from tests.factories.billing import ISSUE, de_entity, draft
from tests.factories.customers import CustomerFactory
from tests.factories.otc import user_with_role

pytestmark = pytest.mark.django_db
D = Decimal
NS = {"cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
      "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"}

ENTITIES = {
    "DE": lambda: de_entity(email="ar-de@otc.example", phone="+49 30 5550 1000", einvoice_endpoint="9930:DE136695976"),
    "US": lambda: de_entity(
        code="US01", legal_name="otc Software Inc.", address_line1="500 Market Street", city="San Francisco",
        region="CA", postal_code="94105", country="US", tax_id="94-3276543", registration_number="",
        functional_currency="USD", invoice_prefix="US-INV", iban="", bic="", bank_name="First Trust",
        bank_account_name="otc Software Inc.", bank_account_number="000123456789", bank_routing_number="121000248",
        einvoice_endpoint="0060:943276543", email="ar-us@otc.example", phone="+1 415 555 0100"),
    "GB": lambda: de_entity(
        code="GB01", legal_name="otc Software Ltd", address_line1="1 Finsbury Avenue", city="London",
        postal_code="EC2M 2PF", country="GB", tax_id="GB980780684", registration_number="12345678",
        functional_currency="GBP", invoice_prefix="GB-INV", iban="GB33BUKB20201555555555", bic="BUKBGB22",
        bank_name="Barclays", bank_account_name="otc Software Ltd", bank_account_number="55555555",
        bank_routing_number="20-20-15", einvoice_endpoint="9932:GB980780684", email="ar-uk@otc.example"),
}
BUYERS = {
    # German business: its VAT id is its address (9930), no participant id on file
    "DE": {"country": "DE", "tax_id": "DE811128135", "city": "Berlin", "postal_code": "10115"},
    # French business with a valid VAT id: reverse charge from a German seller
    "FR": {"country": "FR", "tax_id": "FR40303265045", "city": "Paris", "postal_code": "75001",
           "peppol_scheme": "0009", "peppol_id": "30326504500015"},
    # Dutch consumer-like buyer without a VAT id: the seller's VAT is charged
    "NL-no-vat": {"country": "NL", "tax_id": "", "city": "Amsterdam", "postal_code": "1012 AB",
                  "peppol_scheme": "0088", "peppol_id": "5790000436101"},
    # UK business, VAT id typed without its GB prefix
    "GB": {"country": "GB", "tax_id": "693628450", "city": "Manchester", "postal_code": "M1 1AE",
           "peppol_scheme": "9932", "peppol_id": "GB693628450"},
    # US business with an EIN, a D-U-N-S number as participant id
    "US": {"country": "US", "tax_id": "12-3456789", "city": "Austin", "region": "TX", "postal_code": "78701",
           "peppol_scheme": "0060", "peppol_id": "123456789"},
    # US business holding a sales-tax exemption certificate
    "US-exempt": {"country": "US", "tax_id": "12-3456789", "city": "Austin", "region": "TX", "postal_code": "78701",
                  "tax_exempt": True, "tax_exemption_reference": "TX-EXM-4711",
                  "peppol_scheme": "0088", "peppol_id": "5790000436101"},
    # Japanese business: corporate number as tax id and participant id
    "JP": {"country": "JP", "tax_id": "5166286452971", "city": "Tokyo", "postal_code": "100-0001",
           "peppol_scheme": "0188", "peppol_id": "5166286452971"},
}
# (entity, buyer, expected UNCL5305 category of the lines)
SITUATIONS = [
    ("DE", "DE", "S"), ("DE", "FR", "AE"), ("DE", "NL-no-vat", "S"), ("DE", "GB", "O"), ("DE", "US", "O"),
    ("DE", "JP", "O"),
    ("US", "US", "O"), ("US", "US-exempt", "E"), ("US", "GB", "O"), ("US", "DE", "O"), ("US", "JP", "O"),
    ("GB", "GB", "S"), ("GB", "DE", "O"), ("GB", "US", "O"),
]
LINES = [
    {"description": "Platform subscription", "quantity": D("1"), "unit_price": D("1000.00"),
     "tax_category": "digital", "unit": "MON"},
    # 3 x 33.3333 = 99.9999 -> 100.00: the unit price alone does not give the amount
    {"description": "Consulting hours", "quantity": D("3"), "unit_price": D("33.3333"), "tax_category": "services",
     "unit": "HUR"},
    # 7 seats at 13.4567 less 10%: 84.77721 -> 84.78
    {"description": "Seats", "quantity": D("7"), "unit_price": D("13.4567"), "discount_percent": D("10"),
     "tax_category": "digital"},
]


def issue_invoice(entity_key: str, buyer_key: str, **data) -> Invoice:
    entity = ENTITIES[entity_key]()
    buyer = BUYERS[buyer_key]
    customer = CustomerFactory(legal_name=f"Buyer {buyer_key} Ltd", default_currency=entity.functional_currency,
                               procurement_portal="ariba", portal_supplier_id="AN01000000123",
                               portal_buyer_id="AN02000000999", **buyer)
    invoice = draft(entity, customer=customer, lines=LINES, currency=entity.functional_currency,
                    po_number=data.pop("po_number", "PO-4711"), **data)
    return invoices_issue(invoice_ids=[invoice.pk], by=None, issue_date=ISSUE, queue_documents=False)[0]


def issue_credit_note(invoice: Invoice) -> CreditNote:
    for role in ("Finance Manager",):
        ApprovalLimit.objects.get_or_create(kind="credit_note", role=Group.objects.get_or_create(name=role)[0],
                                            currency=invoice.currency, defaults={"max_amount": D("100000.00")})
    note = credit_note_request(invoice_id=invoice.pk, by=user_with_role("Collector"), reason="billing_error",
                               explanation="Seats billed twice")
    note = credit_note_approve(credit_note_id=note.pk, by=user_with_role("Finance Manager"))
    return credit_note_issue(credit_note_id=note.pk, by=user_with_role("Billing Specialist"),
                             issue_date=dt.date(2026, 4, 15))


def fatal(validator, xml: bytes) -> list[str]:
    return [f"{e['layer']} {e['id']}: {e['text'][:160]}" for e in validator.errors(xml, fatal_only=True)]


def xpath(xml: bytes, path: str) -> list:
    return etree.fromstring(xml).xpath(path, namespaces=NS)


@pytest.mark.parametrize(("entity", "buyer", "category"), SITUATIONS, ids=[f"{e}-to-{b}" for e, b, _ in SITUATIONS])
def test_invoice_and_credit_note_pass_xsd_en16931_and_peppol(einvoice_validator, entity, buyer, category):
    # given an invoice issued through the services, and a credit note for all of it
    invoice = issue_invoice(entity, buyer)
    note = issue_credit_note(invoice)
    assert {line.tax_code.ubl_category for line in invoice.lines.select_related("tax_code")} == {category}

    # when both are written as UBL
    invoice_xml, note_xml = invoice_to_ubl(invoice), credit_note_to_ubl(note)

    # then an access point accepts both: no XSD error, no fatal EN 16931 or Peppol rule
    assert fatal(einvoice_validator, invoice_xml) == []
    assert fatal(einvoice_validator, note_xml) == []
    for xml in (invoice_xml, note_xml):
        # both parties have an electronic address with a scheme on the EAS list
        assert len(xpath(xml, "//cac:AccountingSupplierParty/cac:Party/cbc:EndpointID/@schemeID")) == 1
        assert len(xpath(xml, "//cac:AccountingCustomerParty/cac:Party/cbc:EndpointID/@schemeID")) == 1
        vat_ids = xpath(xml, "//cac:PartyTaxScheme[cac:TaxScheme/cbc:ID='VAT']/cbc:CompanyID/text()")
        if category == "O":  # BR-O-02: no VAT identifier on a document not subject to VAT
            assert vat_ids == []
        # every VAT id carries an ISO country prefix (BR-CO-09); UK ids their GB
        assert all(v[:2].isalpha() for v in vat_ids)
        if buyer == "GB" and category == "S":
            assert "GB693628450" in vat_ids
        assert len(xpath(xml, "/*/cbc:Note")) <= 1
    # customer-facing wording: no placeholder, and no EU law on a US entity's documents
    for xml in (invoice_xml, note_xml, invoice_to_cxml(invoice), credit_note_to_cxml(note)):
        assert b"placeholder" not in xml.lower()
        if entity == "US":
            assert b"Directive" not in xml
    # the totals are the document's
    assert D(xpath(invoice_xml, "string(//cac:LegalMonetaryTotal/cbc:PayableAmount)")) == invoice.gross_total
    assert D(xpath(note_xml, "string(//cac:LegalMonetaryTotal/cbc:PayableAmount)")) == note.gross_total


@pytest.mark.parametrize(("entity", "buyer"), [("DE", "FR"), ("US", "US"), ("GB", "GB"), ("US", "JP")])
def test_cxml_lines_are_quantity_times_unit_price_to_the_cent(entity, buyer):
    invoice = issue_invoice(entity, buyer)
    note = issue_credit_note(invoice)

    for xml in (invoice_to_cxml(invoice), credit_note_to_cxml(note)):
        items = etree.fromstring(xml).xpath("//InvoiceDetailItem")
        assert len(items) == 3
        for item in items:
            quantity = D(item.get("quantity"))
            price = D(item.findtext("UnitPrice/Money"))
            subtotal = D(item.findtext("SubtotalAmount/Money"))
            assert (quantity * price).quantize(D("0.01")) == subtotal, (quantity, price, subtotal)


def test_line_price_derives_the_price_of_a_prorated_line():
    # 200 seats x 45.00 x 12/31 less 10% = 3,135.48: no 2-decimal price gives it, 15.6774 does
    assert line_price(D("3135.48"), D("200"), "USD", preferred=D("45.00") * D("0.9")) == "15.6774"
    assert (D("200") * D("15.6774")).quantize(D("0.01")) == D("3135.48")
    # the contract price is kept when it gives the amount
    assert line_price(D("125.00"), D("10"), "EUR", preferred=D("12.50")) == "12.50"
    assert line_price(D("100.00"), D("3"), "EUR", preferred=D("33.3333")) == "33.3333"
    # a currency without decimals still needs the product within a cent (PEPPOL-EN16931-R120)
    assert line_price(D("160313"), D("25"), "JPY", preferred=D("6412.5")) == "6412.52"


def test_cxml_credit_memo_refers_to_its_invoice_with_negative_amounts():
    invoice = issue_invoice("DE", "FR")
    note = issue_credit_note(invoice)

    doc = etree.fromstring(credit_note_to_cxml(note, sender_identity="otc-eu"))

    head = doc.find("Request/InvoiceDetailRequest/InvoiceDetailRequestHeader")
    assert (head.get("invoiceID"), head.get("purpose"), head.get("operation")) == (
        note.number, "lineLevelCreditMemo", "new")
    invoice_payload = etree.fromstring(invoice_to_cxml(invoice, sender_identity="otc-eu")).get("payloadID")
    assert head.find("DocumentReference").get("payloadID") == invoice_payload != ""
    assert head.find("InvoiceIDInfo").get("invoiceID") == invoice.number
    assert doc.get("payloadID") != invoice_payload
    summary = doc.find("Request/InvoiceDetailRequest/InvoiceDetailSummary")
    assert D(summary.findtext("DueAmount/Money")) == -note.gross_total
    assert D(summary.findtext("SubtotalAmount/Money")) == -note.net_total
    assert all(D(i.get("quantity")) < 0 for i in doc.iter("InvoiceDetailItem"))
    assert all(D(m.text) > 0 for m in doc.iter("Money") if m.getparent().tag == "UnitPrice")
    # reverse charge, coded as such
    assert doc.xpath("//TaxDetail[TaxExemption/@exemptCode='AE']") and not doc.xpath("//TaxDetail[@exemptDetail]")
    # To: the buyer's network id from the customer's portal data
    assert doc.findtext("Header/To/Credential[@domain='NetworkID']/Identity") == "AN02000000999"


def test_cxml_document_reference_carries_the_po_and_never_an_empty_payload_id():
    with_po = etree.fromstring(invoice_to_cxml(issue_invoice("GB", "GB", po_number="4500012345")))
    assert with_po.xpath("//OrderReference/@orderID") == ["4500012345"]
    assert with_po.xpath("//OrderReference/DocumentReference/@payloadID") == ["4500012345"]

    without_po = etree.fromstring(invoice_to_cxml(issue_invoice("US", "US", po_number="")))
    assert without_po.xpath("//DocumentReference") == []
    assert without_po.xpath("//SupplierOrderInfo/@orderID")[0].startswith("US-INV-")
    for doc in (with_po, without_po):
        assert all(value.strip() for value in doc.xpath("//@payloadID"))


def test_the_validator_refuses_what_an_access_point_refuses(einvoice_validator):
    # the guard is live: the same accepted invoice without the buyer's address, or with a second
    # note, or with a scheme no longer on the EAS list, is refused with the rule's id
    xml = invoice_to_ubl(issue_invoice("DE", "FR"))  # carries the reverse-charge note
    assert fatal(einvoice_validator, xml) == []
    doc = etree.fromstring(xml)
    endpoint = doc.xpath("//cac:AccountingCustomerParty/cac:Party/cbc:EndpointID", namespaces=NS)[0]
    endpoint.set("schemeID", "9906")
    note = doc.xpath("/*/cbc:Note", namespaces=NS)[0]
    note.addnext(etree.fromstring(etree.tostring(note)))
    ids = {e.split(":")[0] for e in fatal(einvoice_validator, etree.tostring(doc))}
    assert {"EN16931 BR-CL-25", "PEPPOL PEPPOL-EN16931-CL008", "PEPPOL PEPPOL-EN16931-R002"} <= ids
    endpoint.getparent().remove(endpoint)
    ids = {e.split(":")[0] for e in fatal(einvoice_validator, etree.tostring(doc))}
    assert "PEPPOL PEPPOL-EN16931-R010" in ids


@pytest.mark.parametrize(("entity", "buyer"), [("US", "US"), ("US", "JP"), ("GB", "DE")])
def test_no_document_text_contains_placeholder_wording(entity, buyer):
    # the PDF, the UBL and the cXML of a US domestic, a US export and a UK export invoice
    invoice = issue_invoice(entity, buyer)
    pdf_text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(invoice_render_pdf(invoice))).pages)
    texts = [pdf_text, invoice_to_ubl(invoice).decode(), invoice_to_cxml(invoice).decode()]
    notes = {line.tax_code.legal_note for line in invoice.lines.select_related("tax_code")}
    assert len(notes) == 1 and notes.pop().split(":")[0] in pdf_text.replace("\n", " ")
    for text in texts:
        assert "placeholder" not in text.lower()
        assert "Directive 2006/112" not in text
    # and no reference tax code carries such wording for a document to print
    assert not TaxCode.objects.filter(legal_note__icontains="placeholder").exists()


def test_gbp_and_usd_documents_do_not_declare_sepa():
    gbp = etree.fromstring(invoice_to_ubl(issue_invoice("GB", "GB")))
    assert gbp.xpath("string(//cac:PaymentMeans/cbc:PaymentMeansCode)", namespaces=NS) == "30"
    assert gbp.xpath("string(//cac:PayeeFinancialAccount/cbc:ID)", namespaces=NS) == "55555555"
    assert gbp.xpath("string(//cac:FinancialInstitutionBranch/cbc:ID)", namespaces=NS) == "202015"
    usd = etree.fromstring(invoice_to_ubl(issue_invoice("US", "US")))
    assert usd.xpath("string(//cac:PaymentMeans/cbc:PaymentMeansCode)", namespaces=NS) == "30"
    assert usd.xpath("string(//cac:PayeeFinancialAccount/cbc:ID)", namespaces=NS) == "000123456789"
    eur = etree.fromstring(invoice_to_ubl(issue_invoice("DE", "DE")))
    assert eur.xpath("string(//cac:PaymentMeans/cbc:PaymentMeansCode)", namespaces=NS) == "58"
