"""Dashboard panels for customers (registered in apps.py)."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q

from .models import Customer
from .selectors import customers_visible_to

_ATTENTION = [Customer.Status.ON_HOLD, Customer.Status.BLOCKED]


def attention_context(request: Any) -> dict[str, Any]:
    """Finance: customers on hold or blocked, most recently changed first."""
    qs = customers_visible_to(request.user).filter(status__in=_ATTENTION)
    counts = qs.aggregate(
        on_hold=Count("id", filter=Q(status=Customer.Status.ON_HOLD)),
        blocked=Count("id", filter=Q(status=Customer.Status.BLOCKED)),
    )
    return {**counts, "customers": list(qs.order_by("-updated_at")[:8])}


def my_customers_context(request: Any) -> dict[str, Any] | None:
    """Sales reps: the customers they own. Hidden for finance roles that see every customer."""
    user = request.user
    if user.has_perm("customers.view_all_customers"):
        return None
    qs = Customer.objects.filter(sales_owner=user)
    counts = qs.aggregate(total=Count("id"), attention=Count("id", filter=Q(status__in=_ATTENTION)))
    return {**counts, "customers": list(qs.order_by("legal_name")[:8])}
