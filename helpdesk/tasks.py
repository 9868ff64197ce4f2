"""Help desk: thin, idempotent Celery tasks calling services."""

from __future__ import annotations

from typing import Any

from celery import shared_task


@shared_task(name="helpdesk.notify", acks_late=True, reject_on_worker_lost=True)
def notify_task(*, kind: str, ticket_id: int, **kwargs: Any) -> None:
    from .notify import notify

    notify(kind, ticket_id=ticket_id, **kwargs)


@shared_task(name="helpdesk.sweep", acks_late=True, reject_on_worker_lost=True)
def sweep_task() -> dict:
    """Every few minutes: SLA refresh with warnings and breaches, credit notes followed,
    resolved tickets past the reopen window closed."""
    from .services import tickets_close_resolved, tickets_follow_credit_notes, tickets_sla_sweep

    counts = tickets_sla_sweep()
    counts["credit_notes"] = tickets_follow_credit_notes()
    counts["closed"] = tickets_close_resolved()
    return counts
