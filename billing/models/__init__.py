"""Billing: tax codes, invoices and credit notes with their lines, billing runs with their
exceptions, delivery logs and procurement-portal submissions.

Invoices are drafts until issued; issuing assigns the gapless number (ledger.NumberSeries),
posts the journal entry and opens the AR open item in one transaction, and stores the exact PDF
bytes and their SHA-256. Issued documents never change: credit notes and voids correct them.
A contract's invoice for a billing period exists at most once (a unique constraint decides),
which makes the month-end run idempotent.

The models live in one module per concern (documents, tax, runs, invoices, credit_notes,
delivery); this package re-exports them, so `from billing.models import Invoice` is the import
everywhere.
"""

from .credit_notes import CreditNote, CreditNoteLine
from .delivery import Delivery, PortalSubmission
from .documents import (
    MONEY,
    QTY,
    RATE,
    DocumentGuard,
    DocumentQuerySet,
    ImmutableDocumentError,
    draft_q,
)
from .invoices import Invoice, InvoiceLine
from .runs import BillingException, BillingRun
from .tax import TaxCode

__all__ = [
    "MONEY", "QTY", "RATE", "DocumentGuard", "DocumentQuerySet", "ImmutableDocumentError", "draft_q",
    "TaxCode", "BillingException", "BillingRun", "Invoice", "InvoiceLine", "CreditNote", "CreditNoteLine",
    "Delivery", "PortalSubmission",
]
