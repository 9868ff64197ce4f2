"""Receivables: thin HTML views for cash application. Each view names its permission explicitly.

Visibility: a receipt the user may not see (a sales rep's other customers) answers 404. A user
who sees it but lacks the permission to act gets 403. Refusals for meaning (over-application,
a suggestion that no longer fits, invalid transitions) come back as a message with nothing
changed."""

from .imports import import_detail, import_list, import_progress
from .receipts import (
    application_reverse_view,
    customer_options,
    receipt_detail,
    receipt_identify_view,
    receipt_invoice_search,
    receipt_on_account_view,
    receipt_refund_view,
    receipt_reverse_view,
    receipt_split,
    receipt_suggest_again,
)
from .setup import bank_accounts, receipt_new
from .workbench import receipt_accept, receipts_accept_selected, workbench

__all__ = [
    "application_reverse_view", "bank_accounts", "customer_options", "import_detail", "import_list",
    "import_progress",
    "receipt_accept", "receipt_detail", "receipt_identify_view", "receipt_invoice_search", "receipt_new",
    "receipt_on_account_view", "receipt_refund_view", "receipt_reverse_view", "receipt_split",
    "receipt_suggest_again", "receipts_accept_selected", "workbench",
]
