"""Billing services: every write that matters (issuing, voids, holds, delivery...).

An explicit re-export list: each module appends its own imports and names below."""

from .delivery import invoice_deliver
from .invoices import (
    IssuedInvoices,
    ensure_draft,
    invoice_compute_line,
    invoice_create_manual,
    invoice_hold,
    invoice_issue,
    invoice_release,
    invoice_update_draft,
    invoice_void,
    invoices_issue,
    lock_invoices,
)

__all__ = [
    # invoices
    "IssuedInvoices", "ensure_draft", "invoice_compute_line", "invoice_create_manual", "invoice_hold",
    "invoice_issue", "invoice_release", "invoice_update_draft", "invoice_void", "invoices_issue", "lock_invoices",
    # delivery
    "invoice_deliver",
]
