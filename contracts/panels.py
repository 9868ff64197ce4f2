"""Panels contracts registers on the dashboard and the customer page (see apps.py). Each
shows a count and the first rows, in a fixed number of queries."""

from __future__ import annotations

from typing import Any

from django.db.models import prefetch_related_objects

from .selectors import (
    approved_this_month,
    attach_latest_assessment,
    changes_requested_queue,
    contracts_visible_to,
    review_queue,
    with_latest_values,
)

ROWS = 6


def _first(rows: Any) -> tuple[int, list]:
    if isinstance(rows, list):
        return len(rows), rows[:ROWS]
    return rows.count(), list(rows[:ROWS])


def _queue_context(rows: Any, url: str, empty: str) -> dict[str, Any]:
    count, first = _first(rows)
    prefetch_related_objects(first, "contract__legal_entity")
    attach_latest_assessment(first)
    return {"count": count, "versions": first, "url": url, "empty": empty}


def review_context(request: Any) -> dict[str, Any]:
    return _queue_context(review_queue(request.user), "contracts:queue_review", "Nothing is waiting for your decision.")


def changes_context(request: Any) -> dict[str, Any] | None:
    rows = changes_requested_queue(request.user)
    return _queue_context(rows, "contracts:queue_changes", "No contract is waiting for changes.")


def approved_context(request: Any) -> dict[str, Any]:
    return _queue_context(approved_this_month(request.user), "contracts:queue_approved",
                          "No contract approved this month yet.")


def customer_contracts_context(request: Any, customer: Any) -> dict[str, Any]:
    """The customer's contracts the user may see: status, value of the latest version, dates."""
    queryset = with_latest_values(contracts_visible_to(request.user).filter(customer=customer)).order_by(
        "-created_at", "-id")
    rows = list(queryset[: ROWS * 2 + 1])
    return {"customer": customer, "contracts": rows[: ROWS * 2], "more": len(rows) > ROWS * 2}
