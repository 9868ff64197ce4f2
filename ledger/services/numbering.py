from __future__ import annotations

from django.db import transaction
from django.db.models import F

from ledger.models import NumberSeries


def number_series_take(*, legal_entity_id: int, doc_type: str, fiscal_year: int, count: int = 1) -> list[int]:
    """Take `count` consecutive numbers of a gapless series under a lock on the series row.

    Call it inside the transaction that uses the numbers: if that transaction rolls back, the
    numbers return to the series, so no gap is ever left."""
    if count < 1:
        raise ValueError("count must be at least 1")
    with transaction.atomic():
        series = NumberSeries.objects.filter(legal_entity_id=legal_entity_id, doc_type=doc_type, fiscal_year=fiscal_year)
        # The UPDATE takes the row's lock (held to the end of the transaction) and the read after
        # it sees this transaction's own increment; a series' first use creates its row first.
        if not series.update(next_number=F("next_number") + count):
            NumberSeries.objects.get_or_create(legal_entity_id=legal_entity_id, doc_type=doc_type,
                                               fiscal_year=fiscal_year)
            series.update(next_number=F("next_number") + count)
        first = series.values_list("next_number", flat=True).get() - count
    return list(range(first, first + count))
