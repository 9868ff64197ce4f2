"""Write-off tasks: the monthly small-balance proposal (beat, registered by the
`writeoffs_schedule` command)."""

from __future__ import annotations

import datetime as dt

from celery import shared_task

from otc import dates


@shared_task(name="collections.small_balance_batches_propose", acks_late=True, reject_on_worker_lost=True)
def small_balance_batches_propose(as_of: str | None = None) -> list[int]:
    """Propose this month's small-balance batch for every entity whose policy is enabled
    (idempotent: a month has at most one batch per entity). Returns the batch ids."""
    from collections_app.models import WriteOffPolicy
    from collections_app.services.writeoffs import small_balance_batch_propose

    on = dt.date.fromisoformat(as_of) if as_of else dates.today()
    ids = []
    for entity_id in WriteOffPolicy.objects.filter(small_balance_enabled=True).values_list("legal_entity_id", flat=True):
        batch = small_balance_batch_propose(legal_entity_id=entity_id, as_of=on)
        if batch is not None:
            ids.append(batch.pk)
    return ids
