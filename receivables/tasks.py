"""Receivables: thin, idempotent Celery tasks calling services."""
from .aging.tasks import aging_snapshot_chunk_task, aging_snapshot_nightly_task, ar_report_monthly_task  # noqa: F401, E402
