"""cXML 1.2 InvoiceDetailRequest (the style SAP Ariba and Coupa accept) from a stored, issued
invoice. A pure function of the invoice: the payloadID and timestamp come from its number and
issued_at, so the same invoice always gives the same bytes.

The DOCTYPE names cXML's InvoiceDetail.dtd; nothing here fetches or validates against it.

Credentials (Header From/To/Sender, domain NetworkID): From and Sender carry our supplier id on
the customer's portal (`bill_to.portal_supplier_id`, else `sender_identity`); To carries the
buyer's network id when the snapshot has one (`bill_to.portal_buyer_id`), else our account
number for the customer under domain "CustomerAccount" (the portal maps it on its side).
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


def _tax(parent: etree._Element, groups: list[c.TaxGroup], total: Decimal, currency: str) -> None:
    tax = _money(parent, "Tax", total, currency)
    _described(tax, "Description", ", ".join(f"VAT {c.percent(g.rate)}% ({g.category})" for g in groups) or "VAT")
    for group in groups:
        attrs = {"purpose": "tax", "category": "vat", "percentageRate": c.percent(group.rate)}
        if group.category in ("E", "AE", "O"):
            attrs["exemptDetail"] = "exempt"
        elif group.category == "Z":
            attrs["exemptDetail"] = "zeroRated"
        detail = _el(tax, "TaxDetail", **attrs)
        _money(detail, "TaxableAmount", group.taxable, currency)
        _money(detail, "TaxAmount", group.tax, currency)
        _described(detail, "Description", group.exemption_reason or f"VAT {c.percent(group.rate)}%")


def payload_id(invoice: Any, sender_identity: str = "otc") -> str:
    """Unique per invoice (entity and number are unique together) and the same on every export."""
    stamp = invoice.issued_at or dt.datetime.combine(invoice.issue_date, dt.time(), tzinfo=dt.UTC)
    number = re.sub(r"[^A-Za-z0-9._-]", "-", invoice.number)
    return f"{stamp:%Y%m%d%H%M%S}.{invoice.legal_entity_id}.{number}@{sender_identity}"


def invoice_to_cxml(invoice: Any, *, sender_identity: str = "otc", shared_secret: str = "") -> bytes:
    """The issued invoice as a cXML InvoiceDetailRequest (UTF-8 bytes with a DOCTYPE line)."""
    currency = invoice.currency
    lines = list(invoice.lines.select_related("tax_code").order_by("position"))
    seller, buyer = invoice.seller or {}, invoice.bill_to or {}
    stamp = invoice.issued_at or dt.datetime.combine(invoice.issue_date, dt.time(), tzinfo=dt.UTC)

    root = etree.Element("cXML", payloadID=payload_id(invoice, sender_identity), timestamp=stamp.isoformat())
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

    request = _el(_el(root, "Request", deploymentMode="production"), "InvoiceDetailRequest")
    head = _el(request, "InvoiceDetailRequestHeader", invoiceID=invoice.number, purpose="standard",
               operation="new", invoiceDate=stamp.isoformat(), invoiceOrigin="supplier")
    _el(head, "InvoiceDetailHeaderIndicator")
    _el(head, "InvoiceDetailLineIndicator", isTaxInLine="yes")
    _partner(head, "remitTo", seller, [("ibanID", c.text(seller, "iban").replace(" ", "")),
                                       ("swiftID", c.text(seller, "bic"))])
    _partner(head, "from", seller, [("vatID", c.text(seller, "tax_id"))])
    _partner(head, "billTo", buyer, [("vatID", c.text(buyer, "tax_id"))])
    _el(head, "PaymentTerm", payInNumberOfDays=invoice.payment_terms_days)
    if invoice.service_start and invoice.service_end:
        _el(head, "Period", startDate=invoice.service_start.isoformat(), endDate=invoice.service_end.isoformat())
    notes = [n for n in [invoice.notes.strip(), *c.legal_notes(lines)] if n]
    if notes:
        _described(head, "Comments", " ".join(notes))
    if invoice.due_date:
        _el(head, "Extrinsic", invoice.due_date.isoformat(), name="dueDate")

    order = _el(request, "InvoiceDetailOrder")
    info = _el(order, "InvoiceDetailOrderInfo")
    ref = _el(info, "OrderReference", orderID=invoice.po_number or invoice.number)
    _el(ref, "DocumentReference", payloadID="")
    for line in lines:
        item = _el(order, "InvoiceDetailItem", invoiceLineNumber=line.position,
                   quantity=c.decimal_text(line.quantity))
        _el(item, "UnitOfMeasure", line.unit or "C62")
        net_price = line.unit_price * (1 - Decimal(line.discount_percent) / 100)
        _el(_el(item, "UnitPrice"), "Money", c.price(net_price, currency), currency=currency)
        reference = _el(item, "InvoiceDetailItemReference", lineNumber=line.position)
        _described(reference, "Description", line.description)
        _money(item, "SubtotalAmount", line.net_amount, currency)
        _tax(item, c.tax_groups([line]), line.tax_amount, currency)

    summary = _el(request, "InvoiceDetailSummary")
    _money(summary, "SubtotalAmount", invoice.net_total, currency)
    _tax(summary, c.tax_groups(lines), invoice.tax_total, currency)
    _money(summary, "GrossAmount", invoice.gross_total, currency)
    _money(summary, "NetAmount", invoice.gross_total, currency)
    _money(summary, "DueAmount", invoice.gross_total, currency)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True, doctype=DOCTYPE)
