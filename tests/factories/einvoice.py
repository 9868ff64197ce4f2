"""Shared test helpers (moved from tests/billing/test_ubl.py)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from billing.models import CreditNote, CreditNoteLine, Invoice, TaxCode
from tests.factories.billing import InvoiceFactory, InvoiceLineFactory, TaxCodeFactory
from tests.factories.otc import UserFactory

SELLER = {
    "legal_name": "otc Europe Ltd", "name": "otc Europe", "address_line1": "1 Ledger Lane", "city": "Dublin",
    "postal_code": "D02 X285", "country": "IE", "tax_id": "IE6388047V", "registration_number": "IE-123456",
    "einvoice_endpoint": "9935:IE6388047V", "iban": "IE29 AIBK 9311 5212 3456 78", "bic": "AIBKIE2D",
    "bank_name": "AIB", "email": "billing@otc.example",
}

BUYER = {
    "legal_name": "Acme Industrie GmbH", "address_line1": "Hauptstrasse 1", "city": "Berlin", "postal_code": "10115",
    "country": "DE", "tax_id": "DE136695976", "einvoice_endpoint": "", "account_number": "C100001",
    "portal_supplier_id": "AN01000000123", "procurement_portal": "ariba",
}

def reverse_charge_code() -> TaxCode:
    return TaxCodeFactory(code="IE-RC-EU", name="EU B2B reverse charge", rate=Decimal("0"), ubl_category="AE",
                          kind=TaxCode.Kind.REVERSE_CHARGE,
                          legal_note="Reverse charge: VAT to be accounted for by the recipient (Art. 196 VAT Directive).")

def issued_invoice(*, currency: str = "EUR", reverse_charge: bool = True, seller=None, bill_to=None,
                   po_number: str = "PO-4711", number: str = "E01-INV-2026-000042") -> Invoice:
    """Issued, two lines: 19% standard (10 x 12.50 = 125.00, tax 23.75) and either a reverse-charge
    line (3 x 33.3333 = 100.00, tax 0) or a 7% reduced line (100.00, tax 7.00)."""
    # Built as a draft (lines first), then issued: the lines of an issued invoice are immutable.
    invoice = InvoiceFactory(
        currency=currency, status=Invoice.Status.DRAFT, number=number, issue_date=dt.date(2026, 3, 31),
        due_date=dt.date(2026, 4, 30), po_number=po_number, service_start=dt.date(2026, 3, 1),
        service_end=dt.date(2026, 3, 31), seller=SELLER if seller is None else seller,
        bill_to=BUYER if bill_to is None else bill_to,
        issued_at=dt.datetime(2026, 3, 31, 9, 30, tzinfo=dt.UTC),
    )
    standard = TaxCodeFactory()
    other = reverse_charge_code() if reverse_charge else TaxCodeFactory(
        code="DE-VAT-7", name="German VAT reduced", rate=Decimal("7.0000"), kind=TaxCode.Kind.REDUCED)
    if currency == "JPY":
        first = {"quantity": Decimal(10), "unit_price": Decimal(1250), "net_amount": Decimal(12500), "tax_amount": Decimal(2375)}
        second = {"quantity": Decimal(1), "unit_price": Decimal(10000), "net_amount": Decimal(10000),
                      "tax_amount": Decimal(0) if reverse_charge else Decimal(700)}
    else:
        first = {"quantity": Decimal(10), "unit_price": Decimal("12.50"), "net_amount": Decimal("125.00"),
                     "tax_amount": Decimal("23.75")}
        second = {"quantity": Decimal(3), "unit_price": Decimal("33.3333"), "net_amount": Decimal("100.00"),
                      "tax_amount": Decimal("0.00") if reverse_charge else Decimal("7.00")}
    InvoiceLineFactory(invoice=invoice, position=1, description="Platform seats", unit="C62", tax_code=standard,
                       tax_rate=Decimal("19.0000"), service_start=invoice.service_start,
                       service_end=invoice.service_end, **first)
    InvoiceLineFactory(invoice=invoice, position=2, description="Consulting hours", unit="HUR", tax_code=other,
                       tax_rate=other.rate, **second)
    invoice.net_total = first["net_amount"] + second["net_amount"]
    invoice.tax_total = first["tax_amount"] + second["tax_amount"]
    invoice.gross_total = invoice.net_total + invoice.tax_total
    invoice.status = Invoice.Status.ISSUED
    invoice.save()
    return invoice

def issued_credit_note(invoice: Invoice) -> CreditNote:
    """Credits the first line in full (125.00 + 23.75 tax)."""
    line = invoice.lines.get(position=1)
    note = CreditNote.objects.create(
        legal_entity=invoice.legal_entity, customer=invoice.customer, invoice=invoice, number="E01-CN-2026-000007",
        status=CreditNote.Status.APPROVED, reason=CreditNote.Reason.BILLING_ERROR, explanation="Seats billed twice",
        currency=invoice.currency, net_total=line.net_amount, tax_total=line.tax_amount,
        gross_total=line.net_amount + line.tax_amount, issue_date=dt.date(2026, 4, 10), requested_by=UserFactory(),
    )
    CreditNoteLine.objects.create(credit_note=note, position=1, invoice_line=line, description=line.description,
                                  quantity=line.quantity, net_amount=line.net_amount, tax_code=line.tax_code,
                                  tax_rate=line.tax_rate, tax_amount=line.tax_amount)
    note.status = CreditNote.Status.ISSUED  # issued after its lines: an issued note's lines are immutable
    note.save(update_fields=["status"])
    return note
