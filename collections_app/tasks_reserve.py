"""Reserve tasks: thin wrappers over collections_app.services.reserve."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="collections.reserve_monthly", acks_late=True, reject_on_worker_lost=True)
def reserve_monthly_task() -> list[int]:
    """Beat, daily at 03:00 (after the nightly aging snapshot at 01:30): once last month-end's
    snapshot is published, prepare each entity's reserve run for that date (idempotent: an entity
    with a live run for the date is skipped)."""
    from .services.reserve import reserve_monthly_due

    return reserve_monthly_due()
