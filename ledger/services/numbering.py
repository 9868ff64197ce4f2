from __future__ import annotations

from ledger.models import NumberSeries
from otc.bulk import increment_or_create


def number_series_take(*, legal_entity_id: int, doc_type: str, fiscal_year: int, count: int = 1) -> list[int]:
    """Take `count` consecutive numbers of a gapless series under a lock on the series row.

    Call it inside the transaction that uses the numbers: if that transaction rolls back, the
    numbers return to the series, so no gap is ever left."""
    if count < 1:
        raise ValueError("count must be at least 1")
    # One UPDATE ... RETURNING takes the row's lock (held to the end of the transaction) and reads
    # this transaction's own increment; a series' first use creates its row first.
    after = increment_or_create(NumberSeries, "next_number", count, legal_entity_id=legal_entity_id,
                                doc_type=doc_type, fiscal_year=fiscal_year)
    first = after - count
    return list(range(first, first + count))
