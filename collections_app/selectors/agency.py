"""Agency and legal placements as dunning and the pages read them: placed invoices and customers
under an active placement leave dunning."""

from __future__ import annotations

from collections_app.models import Placement, PlacementItem


def placed_invoices(*, invoice_ids: list[int]) -> dict[int, str]:
    """Invoice id -> "<agency> (placement #n)" for invoices in an active placement."""
    rows = (PlacementItem.objects.filter(invoice_id__in=invoice_ids, active=True)
            .values_list("invoice_id", "placement__agency__name", "placement_id"))
    return {invoice_id: f"{name} (placement #{pk})" for invoice_id, name, pk in rows}


def placed_customers(*, customer_ids: list[int], legal_entity_id: int) -> dict[int, str]:
    """Customer id -> the agency of its active placement in the entity."""
    rows = (Placement.objects.filter(customer_id__in=customer_ids, legal_entity_id=legal_entity_id)
            .exclude(status__in=Placement.ENDED).order_by("placed_on", "id")
            .values_list("customer_id", "agency__name", "pk"))
    out: dict[int, str] = {}
    for customer_id, name, pk in rows:
        out.setdefault(customer_id, f"{name} (placement #{pk})")
    return out
