"""cXML InvoiceDetailRequest export (SAP Ariba / Coupa style): well-formed, deterministic, with
the header credentials, order reference, lines and a summary matching the stored invoice."""

from __future__ import annotations

from decimal import Decimal

import pytest
from lxml import etree

from billing.einvoice import invoice_to_cxml
from billing.models import CreditNote
from tests.factories.einvoice import BUYER, issued_invoice
from tests.factories.otc import user_with_role

pytestmark = pytest.mark.django_db


def parse(xml: bytes) -> etree._ElementTree:
    # The default parser neither loads the DTD nor touches the network.
    return etree.ElementTree(etree.fromstring(xml, etree.XMLParser(load_dtd=False, no_network=True)))


def one(doc, path: str) -> str:
    found = doc.xpath(path)
    assert len(found) == 1, f"{path}: {len(found)} matches"
    return found[0] if isinstance(found[0], str) else found[0].text


def test_cxml_header_and_doctype():
    invoice = issued_invoice()

    xml = invoice_to_cxml(invoice, sender_identity="otc-eu", shared_secret="s3cret")
    doc = parse(xml)

    assert xml.startswith(b"<?xml version='1.0' encoding='UTF-8'?>\n<!DOCTYPE cXML SYSTEM ")
    assert doc.docinfo.system_url.endswith("/InvoiceDetail.dtd")
    assert one(doc, "/cXML/@payloadID") == f"20260331093000.{invoice.legal_entity_id}.E01-INV-2026-000042@otc-eu"
    assert one(doc, "/cXML/@timestamp") == "2026-03-31T09:30:00+00:00"
    assert one(doc, "/cXML/Header/From/Credential[@domain='NetworkID']/Identity") == "AN01000000123"
    assert one(doc, "/cXML/Header/To/Credential[@domain='CustomerAccount']/Identity") == "C100001"
    assert one(doc, "/cXML/Header/Sender/Credential[@domain='NetworkID']/Identity") == "AN01000000123"
    assert one(doc, "/cXML/Header/Sender/Credential/SharedSecret") == "s3cret"
    assert one(doc, "/cXML/Header/Sender/UserAgent") == "otc-eu"


def test_cxml_buyer_network_id_when_the_snapshot_has_one():
    invoice = issued_invoice(bill_to={**BUYER, "portal_buyer_id": "AN02000000999"})

    doc = parse(invoice_to_cxml(invoice))

    assert one(doc, "/cXML/Header/To/Credential[@domain='NetworkID']/Identity") == "AN02000000999"
    assert doc.xpath("/cXML/Header/Sender/Credential/SharedSecret") == []


def test_cxml_request_header_partners_and_order():
    invoice = issued_invoice()

    doc = parse(invoice_to_cxml(invoice))

    head = "/cXML/Request/InvoiceDetailRequest/InvoiceDetailRequestHeader"
    assert one(doc, f"{head}/@invoiceID") == "E01-INV-2026-000042"
    assert one(doc, f"{head}/@purpose") == "standard"
    assert one(doc, f"{head}/@operation") == "new"
    assert one(doc, f"{head}/@invoiceDate") == "2026-03-31T09:30:00+00:00"
    assert len(doc.xpath(f"{head}/InvoiceDetailHeaderIndicator")) == 1
    assert one(doc, f"{head}/InvoiceDetailLineIndicator/@isTaxInLine") == "yes"
    assert one(doc, f"{head}/InvoicePartner/Contact[@role='remitTo']/Name") == "otc Europe Ltd"
    assert one(doc, f"{head}/InvoicePartner[Contact/@role='remitTo']/IdReference[@domain='ibanID']/@identifier") \
        == "IE29AIBK93115212345678"
    assert one(doc, f"{head}/InvoicePartner/Contact[@role='billTo']/PostalAddress/City") == "Berlin"
    assert one(doc, f"{head}/InvoicePartner/Contact[@role='billTo']/PostalAddress/Country/@isoCountryCode") == "DE"
    assert one(doc, f"{head}/InvoicePartner[Contact/@role='billTo']/IdReference[@domain='vatID']/@identifier") \
        == "DE136695976"
    assert one(doc, f"{head}/PaymentTerm/@payInNumberOfDays") == "30"
    assert one(doc, f"{head}/Period/@startDate") == "2026-03-01"
    assert "Reverse charge" in one(doc, f"{head}/Comments")
    order = "/cXML/Request/InvoiceDetailRequest/InvoiceDetailOrder"
    assert one(doc, f"{order}/InvoiceDetailOrderInfo/OrderReference/@orderID") == "PO-4711"


def test_cxml_lines_and_summary_amounts_match_the_invoice():
    invoice = issued_invoice(reverse_charge=False)

    doc = parse(invoice_to_cxml(invoice))

    items = doc.xpath("/cXML/Request/InvoiceDetailRequest/InvoiceDetailOrder/InvoiceDetailItem")
    assert [i.get("invoiceLineNumber") for i in items] == ["1", "2"]
    assert [i.get("quantity") for i in items] == ["10", "3"]
    assert [one(i, "UnitOfMeasure") for i in items] == ["C62", "HUR"]
    assert [one(i, "UnitPrice/Money") for i in items] == ["12.50", "33.3333"]
    assert [one(i, "SubtotalAmount/Money") for i in items] == ["125.00", "100.00"]
    assert [one(i, "Tax/Money") for i in items] == ["23.75", "7.00"]
    assert [one(i, "Tax/TaxDetail/@percentageRate") for i in items] == ["19.00", "7.00"]
    assert [one(i, "InvoiceDetailItemReference/Description") for i in items] == ["Platform seats", "Consulting hours"]
    summary = "/cXML/Request/InvoiceDetailRequest/InvoiceDetailSummary"
    assert one(doc, f"{summary}/SubtotalAmount/Money") == "225.00"
    assert one(doc, f"{summary}/Tax/Money") == "30.75"
    assert one(doc, f"{summary}/GrossAmount/Money") == "255.75"
    assert one(doc, f"{summary}/NetAmount/Money") == "255.75"
    assert one(doc, f"{summary}/DueAmount/Money") == "255.75"
    assert Decimal(one(doc, f"{summary}/DueAmount/Money")) == invoice.gross_total
    details = doc.xpath(f"{summary}/Tax/TaxDetail")
    assert [(d.get("category"), d.get("percentageRate"), one(d, "TaxableAmount/Money"), one(d, "TaxAmount/Money"))
            for d in details] == [("vat", "7.00", "100.00", "7.00"), ("vat", "19.00", "125.00", "23.75")]
    assert sum(Decimal(one(d, "TaxAmount/Money")) for d in details) == invoice.tax_total
    assert {m.get("currency") for m in doc.xpath("//Money")} == {"EUR"}


def test_cxml_reverse_charge_detail_and_jpy_amounts():
    invoice = issued_invoice(currency="JPY", reverse_charge=True)

    doc = parse(invoice_to_cxml(invoice))

    # reverse charge is coded as reverse charge (UNCL5305 AE), not as an exempt supply (issue 14)
    summary = "/cXML/Request/InvoiceDetailRequest/InvoiceDetailSummary"
    assert doc.xpath(f"{summary}/Tax/TaxDetail[@exemptDetail]") == []
    rc = doc.xpath(f"{summary}/Tax/TaxDetail[TaxExemption/@exemptCode='AE']")
    assert len(rc) == 1
    assert one(rc[0], "@percentageRate") == "0.00"
    assert one(rc[0], "TaxableAmount/Money") == "10000"
    assert one(rc[0], "TaxAmount/Money") == "0"
    assert one(rc[0], "Description").startswith("Reverse charge")
    assert one(rc[0], "TaxExemption/ExemptReason").startswith("Reverse charge")
    assert one(doc, "/cXML/Request/InvoiceDetailRequest/InvoiceDetailSummary/DueAmount/Money") == "24875"
    assert not [m.text for m in doc.xpath("//Money") if "." in m.text]


def test_cxml_is_deterministic():
    invoice = issued_invoice()

    assert invoice_to_cxml(invoice) == invoice_to_cxml(invoice)


def test_the_shared_secret_comes_from_settings_and_only_for_users_who_post_to_portals(client, settings):
    # given the Ariba shared secret in the environment-backed settings (never in code)
    settings.CXML_SHARED_SECRETS = {"ariba": "from-the-vault", "coupa": ""}
    settings.CXML_SENDER_IDENTITY = "otc-eu"
    invoice = issued_invoice()
    url = f"/billing/invoices/{invoice.pk}/cxml.xml"

    # the billing specialist, who uploads to portals, gets it in the Sender credential
    client.force_login(user_with_role("Billing Specialist"))
    doc = parse(client.get(url).content)
    assert one(doc, "/cXML/Header/Sender/Credential/SharedSecret") == "from-the-vault"
    assert one(doc, "/cXML/Header/Sender/UserAgent") == "otc-eu"

    # someone who may read the invoice but does not post to portals gets the document without it
    client.force_login(user_with_role("Help Desk Agent"))
    response = client.get(url)
    assert response.status_code == 200
    assert parse(response.content).xpath("/cXML/Header/Sender/Credential/SharedSecret") == []
    assert b"from-the-vault" not in response.content


def test_credit_note_cxml_download(client):
    from tests.factories.einvoice import issued_credit_note

    note = issued_credit_note(issued_invoice())
    client.force_login(user_with_role("Billing Specialist"))

    response = client.get(f"/billing/credit-notes/{note.pk}/cxml.xml")

    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="{note.number}.cxml.xml"'
    doc = parse(response.content)
    assert one(doc, "/cXML/Request/InvoiceDetailRequest/InvoiceDetailRequestHeader/@purpose") == "lineLevelCreditMemo"
    assert one(doc, "//InvoiceDetailSummary/DueAmount/Money") == "-148.75"
    # a credit note that is not issued has no e-document (an issued one cannot go back: a second, approved one)
    pending = CreditNote.objects.create(
        legal_entity=note.legal_entity, customer=note.customer, invoice=note.invoice, status=CreditNote.Status.APPROVED,
        reason=note.reason, explanation="Not issued yet", currency=note.currency, net_total=note.net_total,
        tax_total=note.tax_total, gross_total=note.gross_total, requested_by=note.requested_by)
    assert client.get(f"/billing/credit-notes/{pending.pk}/cxml.xml").status_code == 404
