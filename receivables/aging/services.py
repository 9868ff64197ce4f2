"""Writes of the aging: each entity's bucket policy, and the snapshot job.

The snapshot job, like the billing run, works in chunks of customers: `aging_snapshot_start`
creates the run, one building snapshot per legal entity and its chunks, and enqueues them after
commit; `aging_snapshot_chunk_build` writes one chunk's lines (idempotent: a redelivered chunk
that is done does nothing, one that crashed half-way is rewritten); the last chunk publishes.
Publishing swaps the new snapshots in for the old ones of the same date in one transaction,
after checking that their lines add up to the AR control accounts as of the date. A frozen
snapshot (its month closed) is never replaced. A failed run keeps its done chunks; resuming
enqueues only the rest.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import F, Q

from ledger.models import Account, JournalLine, LegalEntity, OpenItem, Period
from otc import dates
from otc.aggregates import money_sum, money_value
from otc.bulk import bulk_insert_rows
from otc.errors import DomainError, PermissionDenied, ValidationFailed
from otc.history import history_stamp
from otc.models import User
from otc.money import ZERO, money_text, quantize

from ..models import AgingPolicy, AgingSnapshot, AgingSnapshotChunk, AgingSnapshotLine, AgingSnapshotRun
from .buckets import buckets_text, parse_buckets
from .engine import (
    DIMENSIONS,
    KINDS,
    aging_groups,
    books_entry_id,
    control_balances,
    ensure_rate,
    entity_buckets,
)

CHUNK_SIZE = 1000
RUN_SNAPSHOTS = "receivables.run_aging_snapshot"


@transaction.atomic(durable=True)
def aging_policy_set(*, legal_entity_id: int, buckets: str, by: User) -> AgingPolicy:
    """Set an entity's aging buckets; overlapping or gapped ranges are refused, nothing stored."""
    if not by.has_perm("ledger.change_legalentity"):
        raise PermissionDenied("Only a Controller may change the aging buckets.")
    if not LegalEntity.objects.filter(pk=legal_entity_id).exists():
        raise ValidationFailed(f"There is no legal entity {legal_entity_id}.")
    text = buckets_text(parse_buckets(buckets))
    policy = AgingPolicy.objects.select_for_update().filter(legal_entity_id=legal_entity_id).first()
    if policy is None:
        policy = AgingPolicy(legal_entity_id=legal_entity_id)
    policy.buckets, policy.updated_by = text, by
    history_stamp(policy, by=by)
    policy.save()
    return policy


# --- snapshot runs ----------------------------------------------------------------------------

def _sales(entity_id: int, as_of: dt.date) -> dict[str, str]:
    """Invoiced and credited in the as-of month up to the date, functional (credit sales for DSO)."""
    lines = JournalLine.objects.filter(account__legal_entity_id=entity_id, account__role=Account.Role.AR,
                                       entry__entry_date__gte=as_of.replace(day=1), entry__entry_date__lte=as_of)
    sums = lines.aggregate(invoiced=money_sum("functional_amount", filter=Q(entry__kind="invoice")),
                           credited=money_sum("functional_amount", filter=Q(entry__kind="credit_note")))
    return {"invoiced": str(money_value(sums["invoiced"])), "credited": str(money_value(-sums["credited"]))}


def _frozen(entity_id: int, as_of: dt.date) -> bool:
    return AgingSnapshot.objects.filter(legal_entity_id=entity_id, as_of=as_of, status=AgingSnapshot.Status.COMPLETE,
                                        frozen_at__isnull=False).exists()


def _prepare(run: AgingSnapshotRun, entity: LegalEntity, chunk_size: int) -> AgingSnapshot | None:
    as_of = run.as_of
    if _frozen(entity.id, as_of):
        return None
    buckets = entity_buckets([entity.id])[entity.id]
    per_currency = aging_groups(legal_entity_id=entity.id, as_of=as_of, buckets=buckets, keys={})
    rates = {row["currency"]: ensure_rate(entity, row["currency"], as_of) for row in per_currency}
    seen = books_entry_id(entity.id, as_of)  # before anything is read: a later back-dated posting voids its use
    snapshot = AgingSnapshot.objects.create(
        run=run, legal_entity=entity, as_of=as_of, buckets=buckets_text(buckets), books_entry_id=seen,
        functional_currency=entity.functional_currency, fx_rates={c: str(r) for c, r in sorted(rates.items())},
        control_balances={c: str(v) for c, v in control_balances(legal_entity_id=entity.id, as_of=as_of).items()},
        sales=_sales(entity.id, as_of),
    )
    customers = list(OpenItem.objects.filter(legal_entity=entity)
                     .order_by("customer_id").values_list("customer_id", flat=True).distinct())
    AgingSnapshotChunk.objects.bulk_create([
        AgingSnapshotChunk(snapshot=snapshot, index=i, customer_ids=customers[start:start + chunk_size])
        for i, start in enumerate(range(0, len(customers), chunk_size))
    ])
    return snapshot


@transaction.atomic
def aging_snapshot_start(*, as_of: dt.date | None = None, legal_entity_ids: list[int] | None = None,
                         by: User | None = None, trigger: str = AgingSnapshotRun.Trigger.MANUAL,
                         chunk_size: int = CHUNK_SIZE, enqueue: bool = True) -> AgingSnapshotRun:
    """Start a snapshot run as of `as_of` (default yesterday) for every active entity (or those
    given) whose snapshot of that date is not frozen. Chunks run as Celery tasks after commit."""
    if by is not None and not by.has_perm(RUN_SNAPSHOTS):
        raise PermissionDenied("Your role may not run the aging snapshot job.")
    as_of = as_of or dates.today() - dt.timedelta(days=1)
    if as_of > dates.today():
        raise ValidationFailed("An aging snapshot cannot be taken for a future date.", fields={"as_of": ["future"]})
    entities = LegalEntity.objects.filter(is_active=True).order_by("code")
    if legal_entity_ids is not None:
        entities = entities.filter(pk__in=legal_entity_ids)
    run = AgingSnapshotRun.objects.create(as_of=as_of, trigger=trigger, started_by=by)
    for entity in entities:
        _prepare(run, entity, chunk_size)
    chunk_ids = list(AgingSnapshotChunk.objects.filter(snapshot__run=run).order_by("id").values_list("id", flat=True))
    run.chunks_total = len(chunk_ids)
    run.save(update_fields=["chunks_total"])
    if not chunk_ids:
        _publish(run)
    elif enqueue:
        _enqueue(run.id, chunk_ids)
    return run


def _enqueue(run_id: int, chunk_ids: list[int]) -> None:
    from .tasks import aging_snapshot_chunk_task

    def send() -> None:
        for chunk_id in chunk_ids:
            aging_snapshot_chunk_task.delay(chunk_id=chunk_id)

    transaction.on_commit(send)


@transaction.atomic
def aging_snapshot_chunk_build(*, chunk_id: int) -> int:
    """Write one chunk's lines; publish the run when it was the last. Returns lines written."""
    chunk = AgingSnapshotChunk.objects.select_for_update(of=("self",)).select_related("snapshot").get(pk=chunk_id)
    if chunk.done_at is not None:
        return 0
    snapshot = chunk.snapshot
    entity = LegalEntity.objects.get(pk=snapshot.legal_entity_id)
    buckets = parse_buckets(snapshot.buckets)
    rates = {c: Decimal(r) for c, r in snapshot.fx_rates.items()}
    ids = tuple(chunk.customer_ids)
    AgingSnapshotLine.objects.filter(snapshot=snapshot, customer_id__in=ids).delete()  # a crashed attempt's rows
    groups = aging_groups(legal_entity_id=entity.id, as_of=snapshot.as_of, buckets=buckets,
                          keys={"customer": DIMENSIONS["customer"].key}, customer_ids=ids)
    lines = []
    for g in groups:
        currency = g["currency"]
        rate = rates.get(currency)
        if rate is None:  # a currency that appeared after the run started
            rate = ensure_rate(entity, currency, snapshot.as_of)
        for kind in KINDS:
            for i, amount in enumerate(g[kind]):
                if amount:
                    lines.append(AgingSnapshotLine(
                        snapshot=snapshot, customer_id=g["customer"], currency=currency, kind=kind, bucket=i,
                        bucket_label=buckets[i].label, amount=amount, fx_rate=rate,
                        functional_amount=quantize(amount * rate, entity.functional_currency)))
    bulk_insert_rows(lines)
    chunk.done_at, chunk.lines = dates.now(), len(lines)
    chunk.save(update_fields=["done_at", "lines"])
    AgingSnapshotRun.objects.filter(pk=snapshot.run_id).update(chunks_done=F("chunks_done") + 1,
                                                               lines_written=F("lines_written") + len(lines))
    run = AgingSnapshotRun.objects.select_for_update(of=("self",)).get(pk=snapshot.run_id)
    if not AgingSnapshotChunk.objects.filter(snapshot__run=run, done_at__isnull=True).exists():
        _publish(run)
    return len(lines)


def _retire(old: AgingSnapshot) -> None:
    """Drop a replaced snapshot, or keep it as `replaced` when something recorded that it used it
    (a bad-debt reserve run recomputes from its snapshot: a protected foreign key)."""
    from django.db.models import ProtectedError

    try:
        with transaction.atomic():
            old.delete()
    except ProtectedError:
        old.status = AgingSnapshot.Status.REPLACED
        old.save(update_fields=["status"])


def _publish(run: AgingSnapshotRun) -> None:
    """Swap the run's snapshots in for the published ones of the same date (one transaction:
    the caller's), after proving each adds up to the AR control accounts."""
    for snapshot in AgingSnapshot.objects.filter(run=run, status=AgingSnapshot.Status.BUILDING).select_related("legal_entity"):
        totals = dict(snapshot.lines.values("currency").annotate(t=money_sum("amount")).order_by()
                      .values_list("currency", "t"))
        control = {c: Decimal(v) for c, v in snapshot.control_balances.items()}
        for currency in sorted(set(totals) | set(control)):
            got, want = money_value(totals.get(currency)), control.get(currency, ZERO)
            if got != want:
                raise DomainError(
                    f"The {snapshot.legal_entity.code} aging as of {run.as_of:%Y-%m-%d} adds up to {money_text(got, currency)} "
                    f"but the AR control accounts hold {money_text(want, currency)}; the snapshot was not published.",
                    code="snapshot_difference")
        old = (AgingSnapshot.objects.select_for_update(of=("self",))
               .filter(legal_entity_id=snapshot.legal_entity_id, as_of=run.as_of, status=AgingSnapshot.Status.COMPLETE)
               .first())
        if old is not None:
            if old.frozen_at is not None:
                raise DomainError(f"The {snapshot.legal_entity.code} aging as of {run.as_of:%Y-%m-%d} is frozen "
                                  "(its period is closed); it is not replaced.", code="snapshot_frozen")
            _retire(old)
        snapshot.status, snapshot.published_at = AgingSnapshot.Status.COMPLETE, dates.now()
        snapshot.save(update_fields=["status", "published_at"])
    run.status, run.finished_at, run.error = AgingSnapshotRun.Status.COMPLETE, dates.now(), ""
    run.save(update_fields=["status", "finished_at", "error"])


def aging_snapshot_fail(*, run_id: int, error: str) -> None:
    AgingSnapshotRun.objects.filter(pk=run_id).exclude(status=AgingSnapshotRun.Status.COMPLETE).update(
        status=AgingSnapshotRun.Status.FAILED, error=error[:2000], finished_at=dates.now())


@transaction.atomic(durable=True)
def aging_snapshot_resume(*, run_id: int, by: User | None) -> AgingSnapshotRun:
    """Enqueue the chunks a failed (or stalled) run has not finished."""
    if by is not None and not by.has_perm(RUN_SNAPSHOTS):
        raise PermissionDenied("Your role may not run the aging snapshot job.")
    run = AgingSnapshotRun.objects.select_for_update(of=("self",)).filter(pk=run_id).first()
    if run is None:
        raise ValidationFailed(f"Aging snapshot run {run_id} does not exist.")
    if run.status == AgingSnapshotRun.Status.COMPLETE:
        raise DomainError("This run is complete; there is nothing to resume.", code="invalid_transition")
    pending = list(AgingSnapshotChunk.objects.filter(snapshot__run=run, done_at__isnull=True)
                   .order_by("id").values_list("id", flat=True))
    run.status, run.error, run.finished_at = AgingSnapshotRun.Status.RUNNING, "", None
    run.save(update_fields=["status", "error", "finished_at"])
    if pending:
        _enqueue(run.id, pending)
    else:
        _publish(run)
    return run


def aging_snapshot_take(*, as_of: dt.date, legal_entity_ids: list[int] | None = None, by: User | None = None,
                        trigger: str = AgingSnapshotRun.Trigger.MANUAL) -> AgingSnapshotRun:
    """Take a snapshot in this process, chunk after chunk (period close, demo data, commands)."""
    with transaction.atomic():
        run = aging_snapshot_start(as_of=as_of, legal_entity_ids=legal_entity_ids, by=by, trigger=trigger, enqueue=False)
        for chunk_id in AgingSnapshotChunk.objects.filter(snapshot__run=run).order_by("id").values_list("id", flat=True):
            aging_snapshot_chunk_build(chunk_id=chunk_id)
    run.refresh_from_db()
    return run


def freeze_on_period_close(*, period: Period, by: User | None, closing: bool) -> None:
    """Registered as a ledger period-close hook. Closing: take the entity's month-end aging
    afresh (everything dated in the month is in by now) and freeze it. Reopening: unfreeze it,
    so the next close takes it again."""
    entity_id, as_of = period.legal_entity_id, period.end
    current = AgingSnapshot.objects.filter(legal_entity_id=entity_id, as_of=as_of, status=AgingSnapshot.Status.COMPLETE)
    if not closing:
        current.update(frozen_at=None, frozen_period=None)
        return
    if as_of > dates.today() or current.filter(frozen_at__isnull=False).exists():
        return
    if not OpenItem.objects.filter(legal_entity_id=entity_id).exists():
        return
    with transaction.atomic():
        run = aging_snapshot_start(as_of=as_of, legal_entity_ids=[entity_id], trigger=AgingSnapshotRun.Trigger.PERIOD_CLOSE,
                                   enqueue=False)
        for chunk_id in AgingSnapshotChunk.objects.filter(snapshot__run=run).order_by("id").values_list("id", flat=True):
            aging_snapshot_chunk_build(chunk_id=chunk_id)
    current.update(frozen_at=dates.now(), frozen_period=period)


def snapshot_totals(*, snapshot_ids: list[int]) -> dict[int, dict[str, Any]]:
    """Per snapshot: functional totals per kind and bucket (one query)."""
    rows = (AgingSnapshotLine.objects.filter(snapshot_id__in=snapshot_ids).values("snapshot_id", "kind", "bucket")
            .annotate(t=money_sum("functional_amount")).order_by())
    out: dict[int, dict[str, Any]] = {}
    for r in rows:
        out.setdefault(r["snapshot_id"], {}).setdefault(r["kind"], {})[r["bucket"]] = money_value(r["t"])
    return out
