"""Small-balance batches: the items the policy would write off, proposed as one write-off per
customer and currency, decided and posted together."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal

from django.db import transaction

from billing.models import Invoice
from collections_app.models.disputes import OPEN_DISPUTE_STATUSES
from collections_app.models.writeoffs import (
    LIVE_STATUSES,
    WriteOff,
    WriteOffApproval,
    WriteOffBatch,
    WriteOffLine,
    WriteOffReason,
    WriteOffStatus,
)
from ledger.models import Account, LegalEntity, OpenItem
from ledger.services import fx_rate_for
from otc import dates
from otc.errors import (
    DomainError,
    LimitExceeded,
    SegregationOfDuties,
    ValidationFailed,
)
from otc.models import User
from otc.money import money_text, quantize
from otc.services import approval_limit, ensure_transition, record_status_change

from .chain import decision_record, write_off_build, write_off_post_locked, write_off_submit_locked
from .rules import (
    policy_for,
    refuse_disputed,
    require_permission,
)

# --- small-balance batches --------------------------------------------------------------------

def small_balance_candidates(*, legal_entity_id: int, as_of: dt.date) -> list[list[OpenItem]]:
    """The AR items the entity's small-balance policy would write off on `as_of`, grouped per
    customer and currency: open, at most the policy's amount (converted to the functional
    currency at the day's rate), due at least the policy's days ago, not disputed, not already
    in a live write-off."""
    policy = policy_for(legal_entity_id)
    if not policy.small_balance_enabled or policy.small_balance_max <= 0:
        return []
    entity = LegalEntity.objects.get(pk=legal_entity_id)
    cutoff = as_of - dt.timedelta(days=policy.small_balance_min_age_days)
    items = (OpenItem.objects.filter(legal_entity_id=legal_entity_id, account__role=Account.Role.AR,
                                     open_amount__gt=0, due_date__lte=cutoff)
             .exclude(write_off_lines__write_off__status__in=LIVE_STATUSES)
             .order_by("customer_id", "currency", "pk"))
    rates: dict[str, Decimal] = {}
    disputed_items = set(Invoice.objects.filter(
        disputes__status__in=OPEN_DISPUTE_STATUSES, legal_entity_id=legal_entity_id).values_list("open_item_id", flat=True))
    groups: dict[tuple[int, str], list[OpenItem]] = defaultdict(list)
    for item in items.filter(open_amount__lte=_max_in_any_currency(policy.small_balance_max)):
        if item.pk in disputed_items:
            continue
        if item.currency not in rates:
            try:
                rates[item.currency] = fx_rate_for(from_currency=item.currency, to_currency=entity.functional_currency,
                                                   on=as_of)
            except DomainError:
                rates[item.currency] = Decimal(0)  # no rate: not judged small
        rate = rates[item.currency]
        if rate and quantize(item.open_amount * rate, entity.functional_currency) <= policy.small_balance_max:
            groups[item.customer_id, item.currency].append(item)
    return [groups[key] for key in sorted(groups)]


def _max_in_any_currency(amount: Decimal) -> Decimal:
    """A coarse database pre-filter (no currency's rate to the functional one is above 1,000,000)."""
    return amount * 1_000_000


@transaction.atomic
def small_balance_batch_propose(*, legal_entity_id: int, as_of: dt.date | None = None,
                                by: User | None = None) -> WriteOffBatch | None:
    """Propose this month's small-balance batch (idempotent: an existing batch for the month is
    returned, never duplicated). `by` None is the monthly schedule. None when nothing qualifies."""
    if by is not None:
        require_permission(by, "collections_app.request_writeoff", "propose small-balance write-offs")
    as_of = as_of or dates.today()
    month = as_of.replace(day=1)
    LegalEntity.objects.select_for_update().get(pk=legal_entity_id)  # one proposal at a time per entity
    existing = WriteOffBatch.objects.filter(legal_entity_id=legal_entity_id, month=month).first()
    if existing is not None:
        return existing
    groups = small_balance_candidates(legal_entity_id=legal_entity_id, as_of=as_of)
    if not groups:
        return None
    batch = WriteOffBatch.objects.create(legal_entity_id=legal_entity_id, month=month, as_of=as_of, proposed_by=by)
    for group in groups:
        write_off_build(items=group, reason=WriteOffReason.SMALL_BALANCE, by=by, batch=batch,
                explanation=f"Small balance under the policy of {as_of.isoformat()}")
    record_status_change(batch, by=by, from_state="", note=f"{len(groups)} write-offs proposed")
    return batch


def lock_batch(batch_id: int) -> WriteOffBatch:
    batch = WriteOffBatch.objects.select_for_update(of=("self",)).filter(pk=batch_id).first()
    if batch is None:
        raise ValidationFailed(f"Batch {batch_id} does not exist.")
    return batch


def _batch_write_offs(batch: WriteOffBatch) -> list[WriteOff]:
    return list(WriteOff.objects.select_for_update(of=("self",)).filter(batch=batch).order_by("pk"))


def _batch_move(batch: WriteOffBatch, to: str, by: User | None, note: str = "") -> None:
    ensure_transition(batch, to=to)
    before, batch.status = batch.status, to
    batch.save()
    record_status_change(batch, by=by, from_state=before, note=note[:500])


@transaction.atomic(durable=True)
def batch_submit(*, batch_id: int, by: User) -> WriteOffBatch:
    """A person reviews the proposal and sends it for approval (they cannot approve it then)."""
    require_permission(by, "collections_app.request_writeoff", "submit write-off batches")
    batch = lock_batch(batch_id)
    batch.submitted_by = by
    _batch_move(batch, WriteOffStatus.SUBMITTED, by)
    for write_off in _batch_write_offs(batch):
        write_off_submit_locked(write_off, by)
    return batch


@transaction.atomic(durable=True)
def batch_approve(*, batch_id: int, by: User, note: str = "") -> WriteOffBatch:
    """One approval for the whole batch: not its proposer or submitter, a limit per currency that
    covers the batch's total in that currency."""
    require_permission(by, "collections_app.approve_writeoff", "approve write-offs")
    batch = lock_batch(batch_id)
    ensure_transition(batch, to=WriteOffStatus.APPROVED)
    if by.id in (batch.proposed_by_id, batch.submitted_by_id):
        raise SegregationOfDuties("You proposed or submitted this batch; another person must approve it.")
    write_offs = _batch_write_offs(batch)
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for write_off in write_offs:
        totals[write_off.currency] += write_off.amount
    for currency, total in sorted(totals.items()):
        limit = approval_limit(user=by, kind="write_off", currency=currency, legal_entity_id=batch.legal_entity_id)
        if total > limit:
            raise LimitExceeded(f"The batch's {money_text(total, currency)} exceeds your write-off approval limit of "
                                f"{money_text(limit, currency)}.")
    refuse_disputed(list(WriteOffLine.objects.filter(write_off__batch=batch).exclude(invoice=None)
                          .values_list("invoice_id", flat=True)))
    for write_off in write_offs:
        WriteOffApproval.objects.create(write_off=write_off, level=1, approver=by, note=note.strip(),
                                        limit=approval_limit(user=by, kind="write_off", currency=write_off.currency,
                                                             legal_entity_id=batch.legal_entity_id))
        decision_record(write_off, by, WriteOffStatus.APPROVED, (note or "").strip())
    batch.decided_by, batch.decided_at, batch.decision_note = by, dates.now(), (note or "").strip()
    _batch_move(batch, WriteOffStatus.APPROVED, by, note)
    return batch


@transaction.atomic(durable=True)
def batch_reject(*, batch_id: int, by: User, note: str) -> WriteOffBatch:
    require_permission(by, "collections_app.approve_writeoff", "reject write-offs")
    if not (note or "").strip():
        raise ValidationFailed("Say why the batch is rejected.", fields={"note": ["required"]})
    batch = lock_batch(batch_id)
    ensure_transition(batch, to=WriteOffStatus.REJECTED)
    if by.id in (batch.proposed_by_id, batch.submitted_by_id):
        raise SegregationOfDuties("You proposed or submitted this batch; another person must decide on it.")
    for write_off in _batch_write_offs(batch):
        decision_record(write_off, by, WriteOffStatus.REJECTED, note.strip())
    batch.decided_by, batch.decided_at, batch.decision_note = by, dates.now(), note.strip()
    _batch_move(batch, WriteOffStatus.REJECTED, by, note)
    return batch


@transaction.atomic(durable=True)
def batch_post(*, batch_id: int, by: User, posting_date: dt.date | None = None) -> WriteOffBatch:
    """Post every write-off of an approved batch (one entry each), all or nothing."""
    require_permission(by, "collections_app.post_writeoff", "post write-offs")
    batch = lock_batch(batch_id)
    ensure_transition(batch, to=WriteOffStatus.POSTED)
    on = posting_date or dates.today()
    for write_off in _batch_write_offs(batch):
        write_off_post_locked(write_off, by, on)
    batch.posted_by, batch.posted_at = by, dates.now()
    _batch_move(batch, WriteOffStatus.POSTED, by)
    return batch
