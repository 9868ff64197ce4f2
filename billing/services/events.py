"""Webhook-ready events that no single write announces: an invoice becoming overdue."""

from __future__ import annotations

import datetime as dt
from typing import cast

from django.db import transaction
from django.db.models import Exists, OuterRef

from billing.models import Invoice
from otc import dates
from otc.models import OutboxEvent
from otc.services import outbox_emit_many

OPEN = (Invoice.Status.ISSUED, Invoice.Status.PARTIALLY_PAID)


@transaction.atomic(durable=True)
def invoices_emit_overdue(*, on: dt.date | None = None, limit: int = 5000) -> int:
    """Emit `invoice.overdue` once per invoice that is past due and still open on `on` (today).
    Idempotent: an invoice that already has the event is skipped. Returns how many were emitted."""
    on = on or dates.today()
    announced = OutboxEvent.objects.filter(topic="invoice.overdue", subject_type="invoice", subject_id=OuterRef("pk"))
    rows = list(
        Invoice.objects.filter(status__in=OPEN, due_date__lt=on).exclude(Exists(announced))
        .order_by("id").values("id", "number", "customer_id", "currency", "due_date", "gross_total",
                               "amount_paid", "amount_credited")[:limit]
    )
    events = []
    for r in rows:
        due = cast(dt.date, r["due_date"])  # past due: the filter leaves no invoice without a due date
        events.append((r["id"], {
            "id": r["id"], "number": r["number"], "customer_id": r["customer_id"], "currency": r["currency"],
            "due_date": due.isoformat(), "days_overdue": (on - due).days,
            "balance_due": str(r["gross_total"] - r["amount_paid"] - r["amount_credited"]),
        }))
    outbox_emit_many(topic="invoice.overdue", subject_type="invoice", events=events)
    return len(rows)
