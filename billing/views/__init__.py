"""Billing: thin HTML views. Each view names its permission explicitly.

Visibility: an invoice of a customer the user may not see (another sales rep's) answers 404,
never 403. A user who sees the invoice but lacks the permission to act on it gets 403."""

from .invoices import (
    invoice_detail,
    invoice_hold_view,
    invoice_issue_view,
    invoice_list,
    invoice_pdf,
    invoice_release_view,
    invoice_ubl,
    invoice_void_view,
)
from .runs import run_detail, run_issue_view, run_list, run_progress, run_start_view

__all__ = [
    "invoice_detail", "invoice_hold_view", "invoice_issue_view", "invoice_list", "invoice_pdf",
    "invoice_release_view", "invoice_ubl", "invoice_void_view", "run_detail", "run_issue_view", "run_list",
    "run_progress", "run_start_view",
]
