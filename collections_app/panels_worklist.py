"""The collections panel on the customer page (registered in registrations_worklist)."""

from __future__ import annotations

from typing import Any


def customer_context(request: Any, customer: Any) -> dict[str, Any] | None:
    from .selectors.worklist import customer_summary

    return {"customer": customer, "summary": customer_summary(customer_id=customer.pk)}
