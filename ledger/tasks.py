"""Ledger: thin, idempotent Celery tasks calling services."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="ledger.periods_open_ahead", acks_late=True)
def periods_open_ahead_task() -> int:
    """The month-end schedule: open every active entity's periods through the open horizon."""
    from .services import periods_open_ahead

    return periods_open_ahead(by=None)
