"""Panels billing registers on the dashboard (see apps.py), each in a fixed number of queries."""

from __future__ import annotations

from typing import Any

from ..models import Invoice
from ..selectors import (
    PORTAL_ACTION_NEEDED,
    credit_notes_awaiting_approval,
    invoices_visible_to,
    portal_worklist,
)

ROWS = 6


def on_hold_context(request: Any) -> dict[str, Any]:
    rows = invoices_visible_to(request.user).filter(status=Invoice.Status.DRAFT, on_hold=True)
    return {"count": rows.count(), "invoices": list(rows.select_related("customer").order_by("id")[:ROWS])}


def credit_notes_awaiting_context(request: Any) -> dict[str, Any]:
    """Credit notes waiting for a decision that this user may take: requested by someone else
    and within the user's approval limit in their currency (the service checks again)."""
    rows = credit_notes_awaiting_approval(request.user)
    return {"count": rows.count(),
            "credit_notes": list(rows.select_related("customer", "invoice").order_by("requested_at", "id")[:ROWS])}


def portal_pending_context(request: Any) -> dict[str, Any]:
    """Portal uploads that need our action (pending, or rejected and to be corrected), the
    overdue ones first by due date."""
    rows = portal_worklist().filter(status__in=PORTAL_ACTION_NEEDED)
    return {"count": rows.count(), "overdue": rows.filter(overdue=True).count(), "submissions": list(rows[:ROWS])}
