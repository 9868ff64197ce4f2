"""Aging tasks: thin, idempotent wrappers over receivables.aging.services (beat: the nightly
snapshot as of yesterday; the monthly report pack)."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="receivables.aging_snapshot_nightly", acks_late=True, reject_on_worker_lost=True)
def aging_snapshot_nightly_task(as_of: str | None = None) -> int:
    """Beat, every night: start the snapshot run as of yesterday (or `as_of`, ISO). A second
    delivery starts a second run whose publication replaces the first one's: same result."""
    import datetime as dt

    from .services import aging_snapshot_start

    day = dt.date.fromisoformat(as_of) if as_of else None
    return aging_snapshot_start(as_of=day, trigger="nightly").id


@shared_task(name="receivables.aging_snapshot_chunk", acks_late=True, reject_on_worker_lost=True)
def aging_snapshot_chunk_task(*, chunk_id: int) -> int:
    """Build one chunk (a done chunk does nothing). A failure marks the run failed with the
    reason, for the progress page to show and a user to resume."""
    from ..models import AgingSnapshotChunk
    from .services import aging_snapshot_chunk_build, aging_snapshot_fail

    try:
        return aging_snapshot_chunk_build(chunk_id=chunk_id)
    except Exception as exc:
        run_id = AgingSnapshotChunk.objects.filter(pk=chunk_id).values_list("snapshot__run_id", flat=True).first()
        if run_id is not None:
            aging_snapshot_fail(run_id=run_id, error=f"{type(exc).__name__}: {exc}")
        raise


@shared_task(name="receivables.ar_report_monthly", acks_late=True, reject_on_worker_lost=True)
def ar_report_monthly_task(force: bool = False) -> int | None:
    """Beat, daily: on the configured business day after month-end, generate last month's AR
    report pack and e-mail it (once: the pack is unique per month)."""
    from .reports import ar_report_monthly_due

    return ar_report_monthly_due(force=force)
