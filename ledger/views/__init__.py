"""Thin HTML views for finance staff: each has an explicit permission, parses input, calls one
selector or service and renders the result."""

from .journal import journal_detail, journal_list, open_item_detail
from .manual import journal_new, journal_reverse_view
from .masters import (
    accounts,
    entity_detail,
    entity_list,
    fx_rates,
    index,
    period_close,
    period_open,
    period_reopen,
    periods,
)
from .reports import ar_by_customer, ar_reconciliation, gl_export, trial_balance

__all__ = [
    "accounts", "ar_by_customer", "ar_reconciliation", "entity_detail", "entity_list", "fx_rates", "gl_export", "index",
    "journal_detail", "journal_list", "journal_new", "journal_reverse_view", "open_item_detail", "period_close", "period_open", "period_reopen", "periods", "trial_balance",
]
