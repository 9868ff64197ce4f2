"""UBL 2.1 Invoice and CreditNote (Peppol BIS Billing 3.0) from stored, issued documents.

Valid against the OASIS UBL-Invoice-2.1 / UBL-CreditNote-2.1 schemas: elements are written in
the schema's sequence order. Everything comes from the document's issued snapshots and lines
(see `_common`), so the output is a pure function of the stored document.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from lxml import etree

from . import _common as c

CUSTOMIZATION_ID = "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0"
PROFILE_ID = "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"

NS_INVOICE = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
NS_CREDIT_NOTE = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"
CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"


def _cac(parent: etree._Element, name: str) -> etree._Element:
    return etree.SubElement(parent, f"{{{CAC}}}{name}")


def _cbc(parent: etree._Element, name: str, value: Any, **attrs: str) -> etree._Element:
    el = etree.SubElement(parent, f"{{{CBC}}}{name}", **attrs)
    el.text = str(value)
    return el


def _money(parent: etree._Element, name: str, value: Decimal, currency: str) -> etree._Element:
    return _cbc(parent, name, c.amount(value, currency), currencyID=currency)


def _period(parent: etree._Element, start, end) -> None:
    if start or end:
        period = _cac(parent, "InvoicePeriod")
        if start:
            _cbc(period, "StartDate", start.isoformat())
        if end:
            _cbc(period, "EndDate", end.isoformat())


def _party(parent: etree._Element, role: str, snap: dict[str, Any], *, seller: bool, out_of_scope: bool,
           identification: str = "") -> None:
    party = _cac(_cac(parent, role), "Party")
    address = c.endpoint(snap)
    if address:
        _cbc(party, "EndpointID", address[1], schemeID=address[0])
    if identification:
        _cbc(_cac(party, "PartyIdentification"), "ID", identification)
    name = c.text(snap, "name", "legal_name")
    if name:
        _cbc(_cac(party, "PartyName"), "Name", name)
    postal = _cac(party, "PostalAddress")
    for tag, key in (("StreetName", "address_line1"), ("AdditionalStreetName", "address_line2"),
                     ("CityName", "city"), ("PostalZone", "postal_code"), ("CountrySubentity", "region")):
        if c.text(snap, key):
            _cbc(postal, tag, c.text(snap, key))
    _cbc(_cac(postal, "Country"), "IdentificationCode", c.text(snap, "country").upper() or "ZZ")
    tax_ids = c.tax_schemes(snap, seller=seller, out_of_scope=out_of_scope)
    for company_id, scheme_id in tax_ids:
        scheme = _cac(party, "PartyTaxScheme")
        _cbc(scheme, "CompanyID", company_id)
        _cbc(_cac(scheme, "TaxScheme"), "ID", scheme_id)
    legal = _cac(party, "PartyLegalEntity")
    _cbc(legal, "RegistrationName", c.text(snap, "legal_name", "name") or "-")
    registration = c.text(snap, "registration_number")
    if seller and not registration and not any(scheme == "VAT" for _, scheme in tax_ids):
        # BR-CO-26: a seller needs BT-29, BT-30 or BT-31; without a register number or a VAT id sent
        # (a US entity's EIN), its tax id is the legal registration identifier
        registration = c.text(snap, "tax_id")
    if registration:
        _cbc(legal, "CompanyID", registration)
    if seller and (c.text(snap, "phone") or c.text(snap, "email")):
        # BG-6: XRechnung (DE-R-002) requires it between German parties; useful to every receiver
        contact = _cac(party, "Contact")
        _cbc(contact, "Name", "Accounts receivable")
        if c.text(snap, "phone"):
            _cbc(contact, "Telephone", c.text(snap, "phone"))
        if c.text(snap, "email"):
            _cbc(contact, "ElectronicMail", c.text(snap, "email"))


def _tax_category(parent: etree._Element, tag: str, category: str, rate: Decimal, reason: str = "") -> None:
    cat = _cac(parent, tag)
    _cbc(cat, "ID", category)
    if category != "O":  # "not subject to VAT" carries no rate (BR-O-05)
        _cbc(cat, "Percent", c.percent(rate))
    if reason and category in c.EXEMPTION_CODES:
        _cbc(cat, "TaxExemptionReasonCode", c.EXEMPTION_CODES[category])
    if reason:
        _cbc(cat, "TaxExemptionReason", reason)
    _cbc(_cac(cat, "TaxScheme"), "ID", "VAT")


def _tax_total(root: etree._Element, groups: list[c.TaxGroup], total: Decimal, currency: str) -> None:
    tax_total = _cac(root, "TaxTotal")
    _money(tax_total, "TaxAmount", total, currency)
    for group in groups:
        sub = _cac(tax_total, "TaxSubtotal")
        _money(sub, "TaxableAmount", group.taxable, currency)
        _money(sub, "TaxAmount", group.tax, currency)
        _tax_category(sub, "TaxCategory", group.category, group.rate, group.exemption_reason)


def _monetary_total(root: etree._Element, net: Decimal, gross: Decimal, payable: Decimal, currency: str) -> None:
    total = _cac(root, "LegalMonetaryTotal")
    _money(total, "LineExtensionAmount", net, currency)
    _money(total, "TaxExclusiveAmount", net, currency)
    _money(total, "TaxInclusiveAmount", gross, currency)
    if gross != payable:
        _money(total, "PrepaidAmount", gross - payable, currency)
    _money(total, "PayableAmount", payable, currency)


def _line(root: etree._Element, tag: str, qty_tag: str, line: Any, *, unit: str, price: str,
          start, end, currency: str) -> None:
    el = _cac(root, tag)
    _cbc(el, "ID", line.position)
    _cbc(el, qty_tag, c.decimal_text(line.quantity), unitCode=unit or "C62")
    _money(el, "LineExtensionAmount", line.net_amount, currency)
    _period(el, start, end)
    item = _cac(el, "Item")
    _cbc(item, "Name", line.description[:255] or "-")
    category = line.tax_code.ubl_category or "S"
    _tax_category(item, "ClassifiedTaxCategory", category, Decimal(line.tax_rate))
    _cbc(_cac(el, "Price"), "PriceAmount", price, currencyID=currency)


def _header(root: etree._Element, *, number: str, issue_date, type_tag: str, type_code: str,
            due_date, notes: list[str], currency: str, snap_to: dict[str, Any], po: str, start, end) -> None:
    _cbc(root, "CustomizationID", CUSTOMIZATION_ID)
    _cbc(root, "ProfileID", PROFILE_ID)
    _cbc(root, "ID", number)
    _cbc(root, "IssueDate", issue_date.isoformat())
    if due_date and type_tag == "InvoiceTypeCode":  # CreditNote has no DueDate in UBL 2.1
        _cbc(root, "DueDate", due_date.isoformat())
    _cbc(root, type_tag, type_code)
    if notes:  # one note: Peppol allows more only between two German parties (PEPPOL-EN16931-R002)
        _cbc(root, "Note", "\n".join(notes))
    _cbc(root, "DocumentCurrencyCode", currency)
    buyer_reference = c.text(snap_to, "buyer_reference") or po or c.text(snap_to, "account_number")
    if buyer_reference:
        _cbc(root, "BuyerReference", buyer_reference)
    _period(root, start, end)


def _to_bytes(root: etree._Element) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _notes(free_text: str, lines: list[Any]) -> list[str]:
    notes = [free_text.strip()] if free_text and free_text.strip() else []
    return notes + [n for n in c.legal_notes(lines) if n not in notes]


def invoice_to_ubl(invoice: Any) -> bytes:
    """The issued invoice as a Peppol BIS Billing 3.0 UBL Invoice (UTF-8 bytes)."""
    currency = invoice.currency
    lines = list(invoice.lines.select_related("tax_code").order_by("position"))
    seller, buyer = invoice.seller or {}, invoice.bill_to or {}
    root = etree.Element(f"{{{NS_INVOICE}}}Invoice", nsmap={None: NS_INVOICE, "cac": CAC, "cbc": CBC})
    _header(root, number=invoice.number, issue_date=invoice.issue_date, type_tag="InvoiceTypeCode",
            type_code="380", due_date=invoice.due_date, notes=_notes(invoice.notes, lines), currency=currency,
            snap_to=buyer, po=invoice.po_number, start=invoice.service_start, end=invoice.service_end)
    if invoice.po_number:
        _cbc(_cac(root, "OrderReference"), "ID", invoice.po_number)
    out_of_scope = _out_of_scope(lines)
    _party(root, "AccountingSupplierParty", seller, seller=True, out_of_scope=out_of_scope,
           identification=c.text(buyer, "portal_supplier_id"))
    _party(root, "AccountingCustomerParty", buyer, seller=False, out_of_scope=out_of_scope)
    _payment_means(root, seller=seller, currency=currency, payment_id=invoice.number)
    terms = f"Payment within {invoice.payment_terms_days} days"
    if invoice.due_date:
        terms += f", due {invoice.due_date.isoformat()}"
    _cbc(_cac(root, "PaymentTerms"), "Note", terms)
    _tax_total(root, c.tax_groups(lines), invoice.tax_total, currency)
    _monetary_total(root, invoice.net_total, invoice.gross_total, invoice.gross_total, currency)
    for line in lines:
        price = c.line_price(line.net_amount, line.quantity, currency,
                             preferred=line.unit_price * (1 - Decimal(line.discount_percent) / 100))
        _line(root, "InvoiceLine", "InvoicedQuantity", line, unit=line.unit, price=price,
              start=line.service_start, end=line.service_end, currency=currency)
    return _to_bytes(root)


def _out_of_scope(lines: list[Any]) -> bool:
    return any((line.tax_code.ubl_category or "S") == "O" for line in lines)


def _payment_means(root: etree._Element, *, seller: dict[str, Any], currency: str, payment_id: str,
                   code: str = "") -> None:
    """BG-16. 58 (SEPA credit transfer) only for a euro document paid to an IBAN; any other
    currency is 30 (credit transfer): to the local account and its sort code or routing number
    where the entity has them (a GBP invoice to the UK account, a USD one to the US account),
    else to the IBAN and BIC. `code` forces one, e.g. 97 (clearing between partners) for a
    credit note that is settled against the invoice, with the invoice number as reference."""
    iban = c.text(seller, "iban").replace(" ", "")
    local = c.text(seller, "bank_account_number").replace(" ", "")
    means = _cac(root, "PaymentMeans")
    sepa = currency == "EUR" and bool(iban)
    _cbc(means, "PaymentMeansCode", code or ("58" if sepa else "30"))
    _cbc(means, "PaymentID", payment_id)
    if code:
        return
    if sepa or not local:
        account, branch = iban, c.text(seller, "bic")
    else:
        account, branch = local, c.text(seller, "bank_routing_number").replace("-", "").replace(" ", "")
    if account:
        fin = _cac(means, "PayeeFinancialAccount")
        _cbc(fin, "ID", account)
        if c.text(seller, "bank_account_name", "legal_name"):
            _cbc(fin, "Name", c.text(seller, "bank_account_name", "legal_name"))
        if branch:
            _cbc(_cac(fin, "FinancialInstitutionBranch"), "ID", branch)


def credit_note_to_ubl(credit_note: Any) -> bytes:
    """The issued credit note as a Peppol BIS Billing 3.0 UBL CreditNote (UTF-8 bytes), referring
    to its invoice. Parties come from the credited invoice's snapshots."""
    invoice = credit_note.invoice
    currency = credit_note.currency
    lines = list(credit_note.lines.select_related("tax_code", "invoice_line").order_by("position"))
    seller, buyer = invoice.seller or {}, invoice.bill_to or {}
    root = etree.Element(f"{{{NS_CREDIT_NOTE}}}CreditNote", nsmap={None: NS_CREDIT_NOTE, "cac": CAC, "cbc": CBC})
    _header(root, number=credit_note.number, issue_date=credit_note.issue_date, type_tag="CreditNoteTypeCode",
            type_code="381", due_date=None, notes=_notes(credit_note.explanation, lines), currency=currency,
            snap_to=buyer, po=invoice.po_number, start=invoice.service_start, end=invoice.service_end)
    if invoice.po_number:
        _cbc(_cac(root, "OrderReference"), "ID", invoice.po_number)
    ref = _cac(_cac(root, "BillingReference"), "InvoiceDocumentReference")
    _cbc(ref, "ID", invoice.number)
    if invoice.issue_date:
        _cbc(ref, "IssueDate", invoice.issue_date.isoformat())
    out_of_scope = _out_of_scope(lines)
    _party(root, "AccountingSupplierParty", seller, seller=True, out_of_scope=out_of_scope,
           identification=c.text(buyer, "portal_supplier_id"))
    _party(root, "AccountingCustomerParty", buyer, seller=False, out_of_scope=out_of_scope)
    _payment_means(root, seller=seller, currency=currency, payment_id=invoice.number, code="97")
    _tax_total(root, c.tax_groups(lines), credit_note.tax_total, currency)
    _monetary_total(root, credit_note.net_total, credit_note.gross_total, credit_note.gross_total, currency)
    for line in lines:
        source = line.invoice_line
        preferred = source.unit_price * (1 - Decimal(source.discount_percent) / 100) if source else None
        price = c.line_price(abs(line.net_amount), line.quantity, currency, preferred=preferred)
        _line(root, "CreditNoteLine", "CreditedQuantity", line, unit=source.unit if source else "C62", price=price,
              start=source.service_start if source else None, end=source.service_end if source else None,
              currency=currency)
    return _to_bytes(root)
