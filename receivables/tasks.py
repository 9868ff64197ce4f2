"""Receivables: thin, idempotent Celery tasks calling services."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="receivables.statement_import", acks_late=True, reject_on_worker_lost=True)
def statement_import_task(*, import_id: int) -> str:
    """Read, record and match a queued statement import (receivables.services.imports). Idempotent: an
    import no longer queued is left as it is."""
    from receivables.services.imports import statement_import_run

    return statement_import_run(import_id=import_id).status
from .aging.tasks import aging_snapshot_chunk_task, aging_snapshot_nightly_task, ar_report_monthly_task  # noqa: F401, E402
