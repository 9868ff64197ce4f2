"""cXML 1.2 InvoiceDetailRequest (the style SAP Ariba and Coupa accept) from a stored, issued
invoice or credit note. Pure functions of the document: the payloadID and timestamp come from its
number and issued_at, so the same document always gives the same bytes (for the same secret).

The DOCTYPE names cXML's InvoiceDetail.dtd; nothing here fetches or validates against it.

Credentials (Header From/To/Sender, domain NetworkID): From and Sender carry our supplier id on
the customer's portal (`bill_to.portal_supplier_id`, else `sender_identity`); To carries the
buyer's network id from the customer's portal data (`bill_to.portal_buyer_id`), else our account
number for the customer under domain "CustomerAccount" (the portal maps it on its side). The
Sender's SharedSecret is whatever the caller passes: the views read it from settings
(`CXML_SHARED_SECRETS`, from the environment), never from code, and only for users who post to
portals.

Tax: cXML has no reverse-charge construct. A reverse-charge line is sent as what it is, VAT at 0%
that the buyer accounts for: no `exemptDetail` (it is neither exempt nor zero-rated), a
`TaxExemption` with the UNCL5305 code AE and the legal wording, and the wording in the detail's
Description. Exempt (E) and not-subject (O) lines are `exemptDetail="exempt"` with their code;
zero-rated (Z) lines `zeroRated`.

Amounts: each line's UnitPrice times its quantity, rounded to the currency, is its
SubtotalAmount to the cent (`_common.line_price`). A credit note is a line-level credit memo
(purpose lineLevelCreditMemo) referring to the invoice's payloadID and number, with negative
quantities and amounts and positive unit prices.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

from babel import Locale
from lxml import etree

from . import _common as c

CXML_VERSION = "1.2.050"
DOCTYPE = f'<!DOCTYPE cXML SYSTEM "http://xml.cxml.org/schemas/cXML/{CXML_VERSION}/InvoiceDetail.dtd">'
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
_ENGLISH = Locale("en")
_EXEMPT_DETAIL = {"E": "exempt", "O": "exempt", "Z": "zeroRated"}


def _el(parent: etree._Element, tag: str, text: Any = None, **attrs: Any) -> etree._Element:
    el = etree.SubElement(parent, tag, {k: str(v) for k, v in attrs.items() if v not in (None, "")})
    if text not in (None, ""):
        el.text = str(text)
    return el


def _money(parent: etree._Element, tag: str, value: Decimal, currency: str) -> etree._Element:
    wrapper = _el(parent, tag)
    _el(wrapper, "Money", c.amount(value, currency), currency=currency)
    return wrapper


def _described(parent: etree._Element, tag: str, text: str) -> None:
    _el(parent, tag, text).set(XML_LANG, "en")


def _credential(parent: etree._Element, domain: str, identity: str, secret: str = "") -> None:
    cred = _el(parent, "Credential", domain=domain)
    _el(cred, "Identity", identity)
    if secret:
        _el(cred, "SharedSecret", secret)


def _tax_ids(snap: dict[str, Any]) -> list[tuple[str, str]]:
    """IdReference domains: a VAT id (with its country prefix) as vatID; a US EIN as federalTaxID."""
    vat = c.vat_id(snap)
    if vat:
        return [("vatID", vat)]
    if c.text(snap, "country").upper() == "US" and c.text(snap, "tax_id"):
        return [("federalTaxID", c.text(snap, "tax_id"))]
    return []


def _partner(parent: etree._Element, role: str, snap: dict[str, Any], ids: list[tuple[str, str]]) -> None:
    partner = _el(parent, "InvoicePartner")
    contact = _el(partner, "Contact", role=role)
    _described(contact, "Name", c.text(snap, "legal_name", "name") or "-")
    postal = _el(contact, "PostalAddress")
    for key in ("address_line1", "address_line2"):
        if c.text(snap, key):
            _el(postal, "Street", c.text(snap, key))
    _el(postal, "City", c.text(snap, "city"))
    if c.text(snap, "region"):
        _el(postal, "State", c.text(snap, "region"))
    if c.text(snap, "postal_code"):
        _el(postal, "PostalCode", c.text(snap, "postal_code"))
    code = c.text(snap, "country").upper()
    _el(postal, "Country", _ENGLISH.territories.get(code, code), isoCountryCode=code)
    if c.text(snap, "email"):
        _el(contact, "Email", c.text(snap, "email"))
    for domain, identifier in ids:
        if identifier:
            _el(partner, "IdReference", identifier=identifier, domain=domain)


def _tax(parent: etree._Element, groups: list[c.TaxGroup], total: Decimal, currency: str, sign: int) -> None:
    tax = _money(parent, "Tax", sign * total, currency)
    _described(tax, "Description", ", ".join(f"VAT {c.percent(g.rate)}% ({g.category})" for g in groups) or "VAT")
    for group in groups:
        detail = _el(tax, "TaxDetail", purpose="tax", category="vat", percentageRate=c.percent(group.rate),
                     exemptDetail=_EXEMPT_DETAIL.get(group.category))
        _money(detail, "TaxableAmount", sign * group.taxable, currency)
        _money(detail, "TaxAmount", sign * group.tax, currency)
        reason = group.exemption_reason
        _described(detail, "Description", reason or f"VAT {c.percent(group.rate)}%")
        if group.category in ("AE", "E", "O", "Z"):
            exemption = _el(detail, "TaxExemption", exemptCode=group.category)
            _described(exemption, "ExemptReason", reason or c.EXEMPTION_REASONS.get(group.category, "Zero rated"))


def _stamp(document: Any) -> dt.datetime:
    return document.issued_at or dt.datetime.combine(document.issue_date, dt.time(), tzinfo=dt.UTC)


def payload_id(document: Any, sender_identity: str = "otc") -> str:
    """Unique per document (entity and number are unique together) and the same on every export."""
    number = re.sub(r"[^A-Za-z0-9._-]", "-", document.number)
    return f"{_stamp(document):%Y%m%d%H%M%S}.{document.legal_entity_id}.{number}@{sender_identity}"


def _envelope(document: Any, buyer: dict[str, Any], sender_identity: str, shared_secret: str) -> etree._Element:
    root = etree.Element("cXML", payloadID=payload_id(document, sender_identity), timestamp=_stamp(document).isoformat())
    root.set(XML_LANG, "en-US")
    header = _el(root, "Header")
    supplier_id = c.text(buyer, "portal_supplier_id") or sender_identity
    _credential(_el(header, "From"), "NetworkID", supplier_id)
    if c.text(buyer, "portal_buyer_id"):
        _credential(_el(header, "To"), "NetworkID", c.text(buyer, "portal_buyer_id"))
    else:
        _credential(_el(header, "To"), "CustomerAccount", c.text(buyer, "account_number") or "-")
    sender = _el(header, "Sender")
    _credential(sender, "NetworkID", supplier_id, shared_secret)
    _el(sender, "UserAgent", sender_identity)
    return root


def _order_info(order: etree._Element, invoice: Any) -> None:
    """The buyer's order: with a PO, an OrderReference whose DocumentReference carries the PO number
    as payloadID (otc never receives the buyer's OrderRequest, so its own payloadID is unknown);
    without one, our own order reference (the contract number, else the invoice number)."""
    info = _el(order, "InvoiceDetailOrderInfo")
    if invoice.po_number:
        ref = _el(info, "OrderReference", orderID=invoice.po_number)
        _el(ref, "DocumentReference", payloadID=invoice.po_number)
    else:
        contract = getattr(invoice, "contract", None)
        _el(info, "SupplierOrderInfo", orderID=contract.number if contract else invoice.number)


def _item(order: etree._Element, *, position: int, quantity: Decimal, unit: str, price: str, description: str,
          net: Decimal, tax_groups: list[c.TaxGroup], tax: Decimal, currency: str, sign: int) -> None:
    item = _el(order, "InvoiceDetailItem", invoiceLineNumber=position, quantity=c.decimal_text(sign * quantity))
    _el(item, "UnitOfMeasure", unit or "C62")
    _el(_el(item, "UnitPrice"), "Money", price, currency=currency)
    reference = _el(item, "InvoiceDetailItemReference", lineNumber=position)
    _described(reference, "Description", description)
    _money(item, "SubtotalAmount", sign * net, currency)
    _tax(item, tax_groups, tax, currency, sign)


def _summary(request: etree._Element, *, net: Decimal, tax: Decimal, gross: Decimal, lines: list[Any],
             currency: str, sign: int) -> None:
    summary = _el(request, "InvoiceDetailSummary")
    _money(summary, "SubtotalAmount", sign * net, currency)
    _tax(summary, c.tax_groups(lines), tax, currency, sign)
    _money(summary, "GrossAmount", sign * gross, currency)
    _money(summary, "NetAmount", sign * gross, currency)
    _money(summary, "DueAmount", sign * gross, currency)


def _to_bytes(root: etree._Element) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True, doctype=DOCTYPE)


def invoice_to_cxml(invoice: Any, *, sender_identity: str = "otc", shared_secret: str = "") -> bytes:
    """The issued invoice as a cXML InvoiceDetailRequest (UTF-8 bytes with a DOCTYPE line)."""
    currency = invoice.currency
    lines = list(invoice.lines.select_related("tax_code").order_by("position"))
    seller, buyer = invoice.seller or {}, invoice.bill_to or {}
    stamp = _stamp(invoice)
    root = _envelope(invoice, buyer, sender_identity, shared_secret)

    request = _el(_el(root, "Request", deploymentMode="production"), "InvoiceDetailRequest")
    head = _el(request, "InvoiceDetailRequestHeader", invoiceID=invoice.number, purpose="standard",
               operation="new", invoiceDate=stamp.isoformat(), invoiceOrigin="supplier")
    _el(head, "InvoiceDetailHeaderIndicator")
    _el(head, "InvoiceDetailLineIndicator", isTaxInLine="yes")
    _partner(head, "remitTo", seller, [("ibanID", c.text(seller, "iban").replace(" ", "")),
                                       ("swiftID", c.text(seller, "bic"))])
    _partner(head, "from", seller, _tax_ids(seller))
    _partner(head, "billTo", buyer, _tax_ids(buyer))
    _el(head, "PaymentTerm", payInNumberOfDays=invoice.payment_terms_days)
    if invoice.service_start and invoice.service_end:
        _el(head, "Period", startDate=invoice.service_start.isoformat(), endDate=invoice.service_end.isoformat())
    notes = [n for n in [invoice.notes.strip(), *c.legal_notes(lines)] if n]
    if notes:
        _described(head, "Comments", " ".join(notes))
    if invoice.due_date:
        _el(head, "Extrinsic", invoice.due_date.isoformat(), name="dueDate")

    order = _el(request, "InvoiceDetailOrder")
    _order_info(order, invoice)
    for line in lines:
        price = c.line_price(line.net_amount, line.quantity, currency,
                             preferred=line.unit_price * (1 - Decimal(line.discount_percent) / 100))
        _item(order, position=line.position, quantity=line.quantity, unit=line.unit, price=price,
              description=line.description, net=line.net_amount, tax_groups=c.tax_groups([line]),
              tax=line.tax_amount, currency=currency, sign=1)
    _summary(request, net=invoice.net_total, tax=invoice.tax_total, gross=invoice.gross_total, lines=lines,
             currency=currency, sign=1)
    return _to_bytes(root)


def credit_note_to_cxml(credit_note: Any, *, sender_identity: str = "otc", shared_secret: str = "") -> bytes:
    """The issued credit note as a cXML line-level credit memo (InvoiceDetailRequest, purpose
    lineLevelCreditMemo) against its invoice: the header's DocumentReference is the invoice's
    payloadID, InvoiceIDInfo its number and date; quantities and amounts are negative."""
    invoice = credit_note.invoice
    currency = credit_note.currency
    lines = list(credit_note.lines.select_related("tax_code", "invoice_line").order_by("position"))
    seller, buyer = invoice.seller or {}, invoice.bill_to or {}
    root = _envelope(credit_note, buyer, sender_identity, shared_secret)

    request = _el(_el(root, "Request", deploymentMode="production"), "InvoiceDetailRequest")
    head = _el(request, "InvoiceDetailRequestHeader", invoiceID=credit_note.number, purpose="lineLevelCreditMemo",
               operation="new", invoiceDate=_stamp(credit_note).isoformat(), invoiceOrigin="supplier")
    _el(head, "InvoiceDetailHeaderIndicator")
    _el(head, "InvoiceDetailLineIndicator", isTaxInLine="yes")
    _partner(head, "from", seller, _tax_ids(seller))
    _partner(head, "billTo", buyer, _tax_ids(buyer))
    _el(head, "DocumentReference", payloadID=payload_id(invoice, sender_identity))
    _el(head, "InvoiceIDInfo", invoiceID=invoice.number, invoiceDate=_stamp(invoice).isoformat())
    notes = [n for n in [(credit_note.explanation or "").strip(), *c.legal_notes(lines)] if n]
    if notes:
        _described(head, "Comments", " ".join(notes))

    order = _el(request, "InvoiceDetailOrder")
    _order_info(order, invoice)
    for line in lines:
        source = line.invoice_line
        preferred = source.unit_price * (1 - Decimal(source.discount_percent) / 100) if source else None
        price = c.line_price(line.net_amount, line.quantity, currency, preferred=preferred)
        _item(order, position=line.position, quantity=Decimal(line.quantity) or Decimal(1),
              unit=source.unit if source else "C62", price=price, description=line.description,
              net=line.net_amount, tax_groups=c.tax_groups([line]), tax=line.tax_amount, currency=currency,
              sign=-1)
    _summary(request, net=credit_note.net_total, tax=credit_note.tax_total, gross=credit_note.gross_total,
             lines=lines, currency=currency, sign=-1)
    return _to_bytes(root)
