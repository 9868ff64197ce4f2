"""The customer's collections timeline: every contact, statement, dispute, promise and payment,
plus what other apps add through the `collections_timeline` registry hook (help-desk tickets,
dunning letters). Newest first; a fixed number of queries."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.urls import reverse
from django.utils import timezone

from otc.models import OutboxEvent
from otc.money import money_text
from otc.registry import registry

from ..models import Activity, Dispute, PromiseToPay


def _at(value: Any) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value
    return timezone.make_aware(dt.datetime.combine(value, dt.time(12)))


def customer_timeline(*, customer_id: int, limit: int = 100) -> list[dict[str, Any]]:
    """[{at, kind, title, detail, by, url}] newest first."""
    from receivables.models import ReceiptApplication

    out: list[dict[str, Any]] = []
    for a in Activity.objects.filter(customer_id=customer_id).select_related("by", "contact").order_by("-at")[:limit]:
        detail = a.note
        if a.next_action:
            detail = f"{detail} · Next: {a.next_action}{f' on {a.next_action_date:%Y-%m-%d}' if a.next_action_date else ''}"
        out.append({"at": a.at, "kind": a.kind, "title": f"{a.get_kind_display()}: {a.get_outcome_display()}"
                    + (f" ({a.contact.name})" if a.contact else ""), "detail": detail.strip(" ·"), "by": a.by})
    for d in Dispute.objects.filter(customer_id=customer_id).select_related("invoice", "opened_by", "resolved_by")[:limit]:
        out.append({"at": d.opened_at, "kind": "dispute", "by": d.opened_by,
                    "title": f"Dispute #{d.pk} opened on {d.invoice.number}: {money_text(d.amount, d.currency)}, "
                             f"{d.get_reason_display().lower()}", "detail": d.description})
        if d.resolved_at:
            out.append({"at": d.resolved_at, "kind": "dispute", "by": d.resolved_by,
                        "title": f"Dispute #{d.pk} {d.get_status_display().lower()}", "detail": d.resolution_note})
    for p in PromiseToPay.objects.filter(customer_id=customer_id).select_related("taken_by")[:limit]:
        plan = f" (plan {p.plan_reference}, instalment {p.instalment})" if p.plan_reference else ""
        out.append({"at": p.created_at, "kind": "promise", "by": p.taken_by,
                    "title": f"Promise to pay {money_text(p.amount, p.currency)} by {p.promised_date:%Y-%m-%d}{plan}",
                    "detail": p.note})
        if p.decided_at:
            out.append({"at": p.decided_at, "kind": "promise", "by": None,
                        "title": f"Promise of {money_text(p.amount, p.currency)} {p.get_status_display().lower()}",
                        "detail": f"{money_text(p.paid_amount, p.currency)} paid"})
    for app in (ReceiptApplication.objects.filter(invoice__customer_id=customer_id, reversed_at__isnull=True)
                .select_related("invoice", "receipt").order_by("-applied_at")[:limit]):
        invoice = app.invoice
        assert invoice is not None  # filtered by the invoice's customer
        out.append({"at": app.applied_at, "kind": "payment", "by": None,
                    "title": f"Payment {money_text(app.amount, invoice.currency)} applied to {invoice.number}",
                    "detail": f"Received {app.receipt.value_date:%Y-%m-%d}",
                    "url": reverse("receivables:receipt_detail", args=[app.receipt_id])})
    for event in OutboxEvent.objects.filter(topic="customer.statement_sent", subject_type="customer",
                                            subject_id=customer_id).order_by("-id")[:limit]:
        payload = event.payload
        out.append({"at": event.created_at, "kind": "statement", "by": None,
                    "title": f"Statement {payload.get('legal_entity')} {payload.get('currency')} sent "
                             f"({payload.get('date_from')} to {payload.get('date_to')})",
                    "detail": f"To {', '.join(payload.get('recipients') or [])} by {payload.get('sent_by')}"})
    for entries in registry.call_hooks("collections_timeline", customer_id=customer_id, limit=limit):
        out.extend(entries or [])
    out.sort(key=lambda e: _at(e["at"]), reverse=True)
    return out[:limit]
