"""What is not chased: the amounts of invoices under an open dispute or a valid promise.

Dunning, the worklist, the reserve and write-offs all read these two functions, so "collectible"
means one thing everywhere. Both are one aggregate query over the given invoices.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal

from django.db.models import Q, Sum

from collections_app.models import Dispute, PromiseItem, PromiseStatus, PromiseToPay
from collections_app.models.disputes import OPEN_DISPUTE_STATUSES


def disputed_amounts(*, invoice_ids: Iterable[int]) -> dict[int, Decimal]:
    """Invoice id -> amount under open disputes (absent when none)."""
    rows = (Dispute.objects.filter(invoice_id__in=list(invoice_ids), status__in=OPEN_DISPUTE_STATUSES)
            .values("invoice_id").annotate(total=Sum("amount")))
    return {row["invoice_id"]: row["total"] for row in rows}


def promised_amounts(*, invoice_ids: Iterable[int], as_of: dt.date) -> dict[int, Decimal]:
    """Invoice id -> amount under promises still valid on `as_of` (open, date plus grace not passed)."""
    # date + grace >= as_of, written per grace value (a handful) so SQLite and PostgreSQL agree
    graces = PromiseToPay.objects.filter(status=PromiseStatus.OPEN).values_list("grace_days", flat=True).distinct()
    valid = Q(pk__in=[])
    for grace in graces:
        valid |= Q(promise__grace_days=grace, promise__promised_date__gte=as_of - dt.timedelta(days=grace))
    rows = (PromiseItem.objects
            .filter(valid, invoice_id__in=list(invoice_ids), promise__status=PromiseStatus.OPEN)
            .values("invoice_id").annotate(total=Sum("amount")))
    return {row["invoice_id"]: row["total"] for row in rows}
