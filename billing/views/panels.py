"""Panels billing registers on the dashboard (see apps.py), each in a fixed number of queries."""

from __future__ import annotations

from typing import Any

from ..models import CreditNote, Invoice
from ._shared import invoices_visible_to

ROWS = 6


def on_hold_context(request: Any) -> dict[str, Any]:
    rows = invoices_visible_to(request.user).filter(status=Invoice.Status.DRAFT, on_hold=True)
    return {"count": rows.count(), "invoices": list(rows.select_related("customer").order_by("id")[:ROWS])}


def credit_notes_awaiting_context(request: Any) -> dict[str, Any]:
    """Credit notes waiting for a decision that this user may take: requested by someone else
    and within the user's approval limit in their currency (the service checks again)."""
    from otc.services import approval_limit

    user = request.user
    requested = (CreditNote.objects.filter(status=CreditNote.Status.REQUESTED)
                 .exclude(requested_by=user).select_related("customer", "invoice").order_by("requested_at", "id"))
    limits: dict[tuple[str, int], Any] = {}
    mine = []
    for note in requested[:200]:
        key = (note.currency, note.legal_entity_id)
        if key not in limits:
            limits[key] = approval_limit(user=user, kind="credit_note", currency=note.currency,
                                         legal_entity_id=note.legal_entity_id)
        if note.gross_total <= limits[key]:
            mine.append(note)
    return {"count": len(mine), "credit_notes": mine[:ROWS]}
