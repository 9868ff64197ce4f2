"""The journal entries of cash application, described once: recording a receipt (cash against
the customer's unapplied cash or suspense), identifying the payer (suspense to unapplied cash),
applying cash to an invoice or an open item (unapplied cash against AR); and the status a receipt
has after its amounts moved. The receipt services post them one by one, the automatic batch
(receivables/services/batch.py) in bulk."""

from __future__ import annotations

from decimal import Decimal

from billing.models import Invoice
from ledger.models import Account, OpenItem
from ledger.services import EntrySpec, LineSpec, OpenItemSpec
from receivables.models import Receipt

UNAPPLIED, SUSPENSE, CASH = Account.Role.UNAPPLIED_CASH, Account.Role.SUSPENSE, Account.Role.CASH


def identification_entry(receipt: Receipt, customer_id: int, memo: str) -> EntrySpec:
    """Suspense to the customer's unapplied cash, opening the receipt's open item."""
    return EntrySpec(currency=receipt.currency, source=receipt, source_reference=receipt.number, memo=memo[:255], lines=[
        LineSpec(amount=receipt.unapplied_amount, role=SUSPENSE, description=f"Identified {receipt.number}"),
        LineSpec(amount=-receipt.unapplied_amount, role=UNAPPLIED, customer_id=customer_id,
                 description=f"Unapplied cash {receipt.number}",
                 open_item=OpenItemSpec("receipt", receipt.number, receipt.value_date, receipt.value_date)),
    ])


def application_entry(receipt: Receipt, customer_id: int, invoice: Invoice, amount: Decimal) -> EntrySpec:
    """Debit unapplied cash (settling the receipt's item), credit AR (settling the invoice's)."""
    return EntrySpec(currency=receipt.currency, source=receipt, source_reference=receipt.number,
                     memo=f"Receipt {receipt.number} applied to {invoice.number}", lines=[
                         LineSpec(amount=amount, role=UNAPPLIED, customer_id=customer_id,
                                  settle_item_id=receipt.open_item_id, description=f"Receipt {receipt.number} applied"),
                         LineSpec(amount=-amount, role=Account.Role.AR, customer_id=customer_id,
                                  settle_item_id=invoice.open_item_id, description=f"Invoice {invoice.number} paid"),
                     ])


def item_application_entry(receipt: Receipt, customer_id: int, item: OpenItem, amount: Decimal) -> EntrySpec:
    """Like `application_entry`, for an open item without an invoice (an opening balance, a manual debit)."""
    return EntrySpec(currency=receipt.currency, source=receipt, source_reference=receipt.number,
                     memo=f"Receipt {receipt.number} applied to {item.document_number}", lines=[
                         LineSpec(amount=amount, role=UNAPPLIED, customer_id=customer_id,
                                  settle_item_id=receipt.open_item_id, description=f"Receipt {receipt.number} applied"),
                         LineSpec(amount=-amount, role=Account.Role.AR, customer_id=customer_id,
                                  settle_item_id=item.pk, description=f"{item.document_number} paid"),
                     ])


def recording_entry(receipt: Receipt) -> EntrySpec:
    """Debit cash; credit unapplied cash (the customer's open item) or suspense."""
    cash = LineSpec(amount=receipt.amount, account_id=receipt.bank_account.gl_account_id,
                    description=f"Receipt {receipt.number} {receipt.payer_name}"[:255])
    if receipt.customer_id:
        credit = LineSpec(amount=-receipt.amount, role=UNAPPLIED, customer_id=receipt.customer_id,
                          description=f"Unapplied cash {receipt.number}",
                          open_item=OpenItemSpec("receipt", receipt.number, receipt.value_date, receipt.value_date))
    else:
        credit = LineSpec(amount=-receipt.amount, role=SUSPENSE, description=f"Unidentified receipt {receipt.number}")
    return EntrySpec(lines=[cash, credit], currency=receipt.currency, source=receipt, source_reference=receipt.number,
                     memo=f"Receipt {receipt.number} {receipt.payer_name}"[:255])


def status_after(receipt: Receipt) -> str:
    if receipt.unapplied_amount == 0:
        if receipt.amount_applied > 0:
            return Receipt.Status.APPLIED
        return Receipt.Status.REFUNDED
    if receipt.amount_applied > 0:
        return Receipt.Status.PARTIALLY_APPLIED
    return Receipt.Status.ON_ACCOUNT if receipt.status == Receipt.Status.ON_ACCOUNT else Receipt.Status.UNAPPLIED


__all__ = ["application_entry", "identification_entry", "item_application_entry", "recording_entry", "status_after"]
