"""Ledger services: posting, reversal, periods, FX rates and numbering series."""

from .chart import chart_create_default
from .manual import journal_post_manual
from .numbering import number_series_take
from .periods import period_close, period_for_posting, period_open, period_reopen, periods_open_ahead
from .posting import (
    EntrySpec,
    LineSpec,
    OpenItemSpec,
    OverSettlement,
    journal_numbers_reserve,
    journal_post,
    journal_post_batch,
    journal_reverse,
)
from .rates import fx_rate_for, fx_rate_set

__all__ = [
    "EntrySpec", "LineSpec", "OpenItemSpec", "chart_create_default", "fx_rate_for", "fx_rate_set", "journal_post",
    "journal_post_batch", "journal_post_manual", "journal_reverse",
    "OverSettlement",
    "number_series_take", "period_close", "period_for_posting", "period_open", "period_reopen", "periods_open_ahead",
    "journal_numbers_reserve",
]
