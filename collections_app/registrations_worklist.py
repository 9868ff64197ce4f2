"""Where the worklist, disputes and promises plug into lower apps (called from
CollectionsAppConfig.ready()): navigation, the customer-page panel, billing's credit-note hook,
and the aging engine's "collector" grouping."""

from __future__ import annotations

from typing import Any


def _credit_note_issued(*, credit_note: Any, by: Any = None) -> int:
    from .services.disputes import disputes_close_for_credit_note

    return disputes_close_for_credit_note(credit_note=credit_note, by=by)


def _collector_labels(keys: set) -> dict[Any, dict[str, Any]]:
    from otc.models import User

    users = User.objects.filter(pk__in={k for k in keys if k}).values_list("pk", "first_name", "last_name", "username")
    out: dict[Any, dict[str, Any]] = {pk: {"label": f"{first} {last}".strip() or username}
                                      for pk, first, last, username in users}
    out[None] = {"label": "(no collector)"}
    return out


def register() -> None:
    from django.db.models import F

    from otc.registry import NavItem, Panel, registry
    from receivables.aging.engine import Dimension, register_dimension

    from . import panels_worklist

    registry.register_hook("credit_note_issued", _credit_note_issued)
    registry.register_nav(NavItem("Collections", "collections_app:worklist", "collections_app.view_worklist", order=60))
    registry.register_customer_panel(Panel(
        key="collections-summary", title="Collections", template="collections_app/worklist/panel_customer.html",
        context=panels_worklist.customer_context, permission="collections_app.view_worklist", order=30,
    ))
    register_dimension(Dimension("collector", "Collector",
                                 lambda p: F(f"{p}customer__collections_portfolio__collector_id"), _collector_labels))
