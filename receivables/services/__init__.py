"""Receivables services: every write that matters (receipts, cash application, statement imports).

An explicit re-export list: each module's public names are imported below."""

from .imports import statement_import, statement_import_run, statement_import_start
from .matching import AutoMatchResult, receipt_suggestions, receipts_auto_match
from .receipts import (
    ReceiptInput,
    RecordedReceipts,
    application_reverse,
    bank_account_create,
    lock_receipt,
    normalize_account,
    receipt_apply,
    receipt_identify,
    receipt_put_on_account,
    receipt_record,
    receipt_refund,
    receipt_reverse,
    receipts_record,
)
from .remittance import receipt_apply_remittance, remittance_parse

__all__ = [
    "ReceiptInput", "RecordedReceipts", "application_reverse", "bank_account_create", "lock_receipt",
    "normalize_account", "receipt_apply", "receipt_identify", "receipt_put_on_account", "receipt_record",
    "receipt_refund", "receipt_reverse", "receipts_record", "statement_import", "statement_import_run",
    "statement_import_start",
    "AutoMatchResult", "receipt_suggestions", "receipts_auto_match",
    "receipt_apply_remittance", "remittance_parse",
]
