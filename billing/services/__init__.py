"""Billing services: every write that matters (issuing, voids, holds, delivery...).

An explicit re-export list: each module appends its own imports and names below."""

from .credit_notes import (
    credit_note_approve,
    credit_note_cancel_invoice,
    credit_note_gross_for_amount,
    credit_note_issue,
    credit_note_pdf_download,
    credit_note_reject,
    credit_note_request,
    lock_credit_notes,
)
from .delivery import credit_note_deliver, invoice_deliver, invoice_void_notice_deliver, invoice_was_delivered
from .invoices import (
    IssuedInvoices,
    ensure_draft,
    invoice_compute_line,
    invoice_create_manual,
    invoice_hold,
    invoice_issue,
    invoice_release,
    invoice_update_draft,
    invoices_issue,
    line_tax,
    lock_invoices,
)
from .payments import (
    invoices_record_payments,
    invoices_record_write_offs,
    payment_status,
)
from .portal import (
    lock_portal_submission,
    portal_submission_accept,
    portal_submission_ensure,
    portal_submission_mark_uploaded,
    portal_submission_reject,
    portal_submission_resubmit,
)
from .resend import invoice_send_again
from .run import (
    billable_contract_ids,
    billing_run_generate_chunk,
    billing_run_issue,
    billing_run_issue_chunk,
    billing_run_resume,
    billing_run_start,
)
from .void import invoice_void

__all__ = [
    # invoices
    "IssuedInvoices", "ensure_draft", "invoice_compute_line", "invoice_create_manual", "line_tax", "invoice_hold",
    "invoice_issue", "invoice_release", "invoice_update_draft", "invoice_void", "invoices_issue", "lock_invoices",
    "invoices_record_payments", "invoices_record_write_offs", "payment_status",
    # delivery
    "invoice_send_again",
    "credit_note_deliver", "invoice_deliver", "invoice_void_notice_deliver", "invoice_was_delivered",
    # portal uploads
    "lock_portal_submission", "portal_submission_accept", "portal_submission_ensure", "portal_submission_mark_uploaded",
    "portal_submission_reject", "portal_submission_resubmit",
    # billing run
    "billable_contract_ids", "billing_run_generate_chunk", "billing_run_issue", "billing_run_issue_chunk",
    "billing_run_resume",
    "billing_run_start",
    # credit notes
    "credit_note_approve", "credit_note_cancel_invoice", "credit_note_issue", "credit_note_pdf_download", "credit_note_reject", "credit_note_request", "credit_note_gross_for_amount", "lock_credit_notes",
]

from .monthly import billing_run_monthly_start  # noqa: E402 - the monthly schedule's run (one a month)

__all__ += ["billing_run_monthly_start"]
