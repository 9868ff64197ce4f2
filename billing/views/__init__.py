"""Billing: thin HTML views. Each view names its permission explicitly.

Visibility: an invoice (credit note, portal upload) of a customer the user may not see (another
sales rep's) answers 404, never 403. A user who sees it but lacks the permission to act on it
gets 403. Refusals for meaning (segregation of duties, limits, transitions) come back as a
message with nothing changed."""

from .credit_notes import (
    credit_note_approve_view,
    credit_note_cxml,
    credit_note_detail,
    credit_note_issue_view,
    credit_note_list,
    credit_note_pdf,
    credit_note_reject_view,
    credit_note_request_view,
    credit_note_ubl,
)
from .invoices import (
    invoice_cxml,
    invoice_detail,
    invoice_hold_view,
    invoice_issue_view,
    invoice_list,
    invoice_pdf,
    invoice_release_view,
    invoice_send_again_view,
    invoice_ubl,
    invoice_void_view,
)
from .manual import customer_options, invoice_create, invoice_edit
from .portal import (
    portal_accept_view,
    portal_mark_uploaded_view,
    portal_reject_view,
    portal_resubmit_view,
    portal_worklist_view,
)
from .runs import run_detail, run_issue_view, run_list, run_progress, run_start_view

__all__ = [
    "credit_note_approve_view", "credit_note_cxml", "credit_note_detail", "credit_note_issue_view", "credit_note_list",
    "credit_note_pdf", "credit_note_reject_view", "credit_note_request_view", "credit_note_ubl",
    "customer_options", "invoice_create", "invoice_cxml", "invoice_detail", "invoice_edit", "invoice_hold_view",
    "invoice_issue_view", "invoice_list", "invoice_pdf", "invoice_release_view", "invoice_send_again_view", "invoice_ubl", "invoice_void_view",
    "portal_accept_view", "portal_mark_uploaded_view", "portal_reject_view", "portal_resubmit_view",
    "portal_worklist_view", "run_detail", "run_issue_view", "run_list", "run_progress", "run_start_view",
]
