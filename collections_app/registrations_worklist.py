"""Where the worklist, disputes and promises plug into lower apps (called from
CollectionsAppConfig.ready()): navigation, the customer-page panel, billing's credit-note hook,
and the aging engine's "collector" grouping."""

from __future__ import annotations

from typing import Any


def _credit_note_issued(*, credit_note: Any, by: Any = None) -> int:
    from .services.disputes import disputes_close_for_credit_note

    return disputes_close_for_credit_note(credit_note=credit_note, by=by)


def _cash_applied(*, receipt: Any, invoice_amounts: dict, item_amounts: dict, by: Any = None) -> None:
    """Receivables' cash application (before it applies, in its transaction): once it commits, the
    promises on the paid invoices are judged again, so a promise paid in full is kept that day."""
    from django.db import transaction

    from .models import PromiseItem, PromiseStatus

    customers = set(PromiseItem.objects.filter(invoice_id__in=list(invoice_amounts), promise__status=PromiseStatus.OPEN)
                    .values_list("promise__customer_id", flat=True))
    if customers:
        transaction.on_commit(lambda: _evaluate(sorted(customers)))


def _evaluate(customer_ids: list[int]) -> None:
    from .services.promises import promises_evaluate

    promises_evaluate(customer_ids=customer_ids)


def _collector_labels(keys: set) -> dict[Any, dict[str, Any]]:
    from otc.models import User

    users = User.objects.filter(pk__in={k for k in keys if k}).values_list("pk", "first_name", "last_name", "username")
    out: dict[Any, dict[str, Any]] = {pk: {"label": f"{first} {last}".strip() or username}
                                      for pk, first, last, username in users}
    out[None] = {"label": "(no collector)"}
    return out


def _dispute_key(p: str) -> Any:
    """True when the open item's invoice is under an open dispute (the aging's "dispute" grouping)."""
    from django.db.models import Exists, OuterRef

    from .models import Dispute
    from .models.disputes import OPEN_DISPUTE_STATUSES

    return Exists(Dispute.objects.filter(invoice__open_item_id=OuterRef(f"{p}id"), status__in=OPEN_DISPUTE_STATUSES))


def _dispute_labels(keys: set) -> dict[Any, dict[str, Any]]:
    return {key: {"label": "Under open dispute" if key else "Not disputed"} for key in keys}


def register() -> None:
    from django.db.models import F

    from otc.registry import NavItem, Panel, registry
    from receivables.aging.engine import Dimension, register_dimension

    from . import panels_worklist

    registry.register_hook("credit_note_issued", _credit_note_issued)
    registry.register_receipt_application_hook(_cash_applied)
    # Every collections page sits under one "Collections" menu (the bar fits 1280 px).
    registry.register_nav(NavItem("Worklist", "collections_app:worklist", "collections_app.view_worklist", order=50,
                                  section="Collections"))
    registry.register_nav(NavItem("Collectors", "collections_app:manager", "collections_app.view_collections_manager", order=51,
                                  section="Collections"))
    registry.register_customer_panel(Panel(
        key="collections-summary", title="Collections", template="collections_app/worklist/panel_customer.html",
        context=panels_worklist.customer_context, permission="collections_app.view_worklist", order=30,
    ))
    # A reassignment posts nothing and writes no customer history, so the books stamp of the kept
    # aging reports would not see it: computed each time (and never read from a snapshot).
    register_dimension(Dimension("collector", "Collector",
                                 lambda p: F(f"{p}customer__collections_portfolio__collector_id"), _collector_labels,
                                 cacheable=False))
    # Disputes post nothing, so the cached aging would not see a new one: computed each time.
    register_dimension(Dimension("dispute", "Dispute", _dispute_key, _dispute_labels, cacheable=False))
