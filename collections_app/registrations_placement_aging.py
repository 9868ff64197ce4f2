"""The aging engine's "placement" grouping (issue 10: placed items show in the aging grouped by
placement): an open item in an active agency or legal placement groups under its agency's name,
every other item under "(not placed)". Called from CollectionsAppConfig.ready()."""

from __future__ import annotations

from typing import Any


def _placement_key(p: str) -> Any:
    from django.db.models import OuterRef, Subquery

    from .models import PlacementItem

    return Subquery(PlacementItem.objects.filter(open_item_id=OuterRef(f"{p}id"), active=True)
                    .order_by("-id").values("placement__agency_id")[:1])


def _placement_labels(keys: set) -> dict[Any, dict[str, Any]]:
    from .models import Agency

    agencies = Agency.objects.filter(pk__in={k for k in keys if k}).values_list("pk", "name", "kind")
    out: dict[Any, dict[str, Any]] = {pk: {"label": name, "agency_id": pk, "kind": kind} for pk, name, kind in agencies}
    out[None] = {"label": "(not placed)"}
    return out


def register() -> None:
    from receivables.aging.engine import Dimension, register_dimension

    # Placing or recalling writes no journal line, so the cached aging would not see it.
    register_dimension(Dimension("placement", "Placement (agency)", _placement_key, _placement_labels,
                                 cacheable=False))
