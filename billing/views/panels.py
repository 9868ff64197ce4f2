"""Panels billing registers on the dashboard (see apps.py), each in a fixed number of queries."""

from __future__ import annotations

from typing import Any

from ..models import Invoice
from ._shared import invoices_visible_to

ROWS = 6


def on_hold_context(request: Any) -> dict[str, Any]:
    rows = invoices_visible_to(request.user).filter(status=Invoice.Status.DRAFT, on_hold=True)
    return {"count": rows.count(), "invoices": list(rows.select_related("customer").order_by("id")[:ROWS])}
