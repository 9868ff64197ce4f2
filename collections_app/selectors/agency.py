"""Agency and legal placements as dunning reads them: placed invoices and customers leave dunning."""

from __future__ import annotations


def placed_invoices(*, invoice_ids: list[int]) -> dict[int, str]:
    """Invoice id -> the agency it is placed with (active placements only)."""
    return {}


def placed_customers(*, customer_ids: list[int], legal_entity_id: int) -> dict[int, str]:
    """Customer id -> the agency of its active placement."""
    return {}
