"""Panels the help desk registers on the dashboard and the customer page (see apps.py)."""

from __future__ import annotations

from typing import Any

from .models import DataChangeRequest
from .selectors import customer_tickets, is_agent, my_queue_panel, my_tickets_panel


def my_queue_context(request: Any) -> dict[str, Any]:
    """Agents: tickets assigned to me by due date, and the queues' unassigned and breached counts."""
    return my_queue_panel(request.user)


def my_tickets_context(request: Any) -> dict[str, Any] | None:
    """Sales reps: the tickets they filed or that concern their customers (agents have My queue)."""
    if is_agent(request.user):
        return None
    return my_tickets_panel(request.user)


def data_changes_context(request: Any) -> dict[str, Any]:
    rows = DataChangeRequest.objects.filter(status=DataChangeRequest.Status.REQUESTED).select_related(
        "customer", "ticket", "requested_by").order_by("created_at", "id")
    return {"requests": list(rows[:8]), "count": rows.count()}


def customer_tickets_context(request: Any, customer: Any) -> dict[str, Any] | None:
    tickets = customer_tickets(user=request.user, customer_id=customer.pk)
    return {"tickets": tickets, "customer": customer}


def collections_timeline(*, customer_id: int, limit: int = 100) -> list[dict[str, Any]]:
    """The customer's tickets on collections' timeline (the `collections_timeline` registry hook)."""
    from django.urls import reverse

    from .models import Ticket

    rows = (Ticket.objects.filter(customer_id=customer_id).select_related("requester")
            .order_by("-created_at", "-id")[:limit])
    return [{"at": t.created_at, "kind": "ticket", "by": t.requester,
             "title": f"Ticket {t.reference} ({t.get_category_display().lower()}, {t.get_status_display().lower()}): "
                      f"{t.subject}", "detail": "", "url": reverse("helpdesk:ticket", args=[t.reference])}
            for t in rows]
