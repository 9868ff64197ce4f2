"""Writes of the bad-debt reserve: provision policies, specific reserves, and the reserve run
(prepare -> approve -> post, or reverse once posted).

- Preparing computes the reserve (collections_app.selectors.reserve), compares it with the
  allowance account's balance in the ledger as of the date and proposes the true-up (bad-debt
  expense against the allowance, in the functional currency). Re-preparing a date replaces an
  unposted run; a posted one is refused (reverse it, then prepare again).
- Approval reads the one ApprovalLimit model (kind "reserve", the adjustment's absolute amount, in
  the functional currency, per entity); whoever prepared the run never approves it.
- Posting puts the approved true-up in the as-of date's period through the ledger's posting
  service (a balanced entry; a closed period is refused, never rolled forward).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from decimal import Decimal
from typing import Any

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Q

from billing.integrity import DocumentIntegrityError
from collections_app.models import (
    ProvisionPolicy,
    ProvisionRate,
    ReserveLine,
    ReserveMethod,
    ReserveRun,
    ReserveSegment,
    SpecificReason,
    SpecificReserve,
)
from collections_app.selectors.reserve import (
    Calculation,
    allowance_balance,
    entity_by_id,
    policy_in_force,
    reserve_compute,
    snapshot_for,
)
from ledger.models import JournalEntry
from ledger.services import LineSpec, journal_post, journal_reverse
from otc import dates
from otc.errors import (
    DomainError,
    InvalidTransition,
    LimitExceeded,
    PermissionDenied,
    SegregationOfDuties,
    ValidationFailed,
)
from otc.models import User
from otc.money import ZERO, money_text, quantize
from otc.services import approval_limit, ensure_transition, record_status_change
from receivables.aging.engine import entity_buckets

MANAGE = "collections_app.manage_provision_policy"
PREPARE = "collections_app.prepare_reserve"
APPROVE = "collections_app.approve_reserve"
POST = "collections_app.post_reserve"

logger = logging.getLogger("otc.documents")


def _need(by: User | None, perm: str, message: str) -> None:
    if by is not None and not by.has_perm(perm):
        raise PermissionDenied(message)


# --- policies ---------------------------------------------------------------------------------

def _fraction(value: Any, what: str, *, low: Decimal = ZERO) -> Decimal:
    if isinstance(value, float):
        raise ValidationFailed(f"{what}: rates are Decimals, never floats.")
    try:
        rate = Decimal(str(value))
    except Exception:
        raise ValidationFailed(f"{what}: '{value}' is not a number.") from None
    if not rate.is_finite() or rate < low or rate > 1:
        raise ValidationFailed(f"{what}: {value} is outside {low} to 1 (rates are fractions: 0.003 is 0.3 %).")
    return rate


@transaction.atomic(durable=True)
def provision_policy_create(*, legal_entity_id: int, effective_date: dt.date, method: str, by: User,
                            rates: list[dict[str, Any]], segment_by: str = "", lookback_months: int = 12,
                            terminal_rate: Decimal | None = None, overlay_factor: Decimal = Decimal(1),
                            overlay_reason: str = "", note: str = "", min_segment_months: int = 6) -> ProvisionPolicy:
    """Enter a new policy version. `rates`: [{bucket, segment?, rate?, overlay?, overlay_reason?}],
    rates as fractions. A matrix needs a rate for every bucket (for segment "" or every segment
    it names); derived methods take overlays only. An overlay or a factor other than 1 needs its
    reason."""
    _need(by, MANAGE, "Only a Controller may enter provision policies.")
    entity = entity_by_id(legal_entity_id)
    if method not in ReserveMethod.values:
        raise ValidationFailed(f"Unknown method '{method}'.", fields={"method": ["unknown"]})
    if segment_by not in ReserveSegment.values:
        raise ValidationFailed(f"Unknown segment '{segment_by}'.", fields={"segment_by": ["unknown"]})
    if not 1 <= int(lookback_months) <= 60:
        raise ValidationFailed("The look-back is 1 to 60 months.", fields={"lookback_months": ["range"]})
    if not 1 <= int(min_segment_months) <= 60:
        raise ValidationFailed("A segment needs 1 to 60 month-ends of history to use its own rates.",
                               fields={"min_segment_months": ["range"]})
    factor = Decimal(str(overlay_factor))
    if factor < 0:
        raise ValidationFailed("The forward-looking factor cannot be negative.", fields={"overlay_factor": ["negative"]})
    if factor != 1 and not overlay_reason.strip():
        raise ValidationFailed("Give the reason for the forward-looking factor.", fields={"overlay_reason": ["required"]})
    if ProvisionPolicy.objects.filter(legal_entity=entity, effective_date=effective_date).exists():
        raise ValidationFailed(f"{entity.code} already has a policy effective {effective_date}; enter a later date.",
                               fields={"effective_date": ["taken"]})
    buckets = entity_buckets([entity.id])[entity.id]
    policy = ProvisionPolicy(
        legal_entity=entity, effective_date=effective_date, method=method, segment_by=segment_by,
        lookback_months=int(lookback_months), min_segment_months=int(min_segment_months), overlay_factor=factor, overlay_reason=overlay_reason.strip(),
        note=note.strip(), created_by=by,
        terminal_rate=None if terminal_rate in (None, "") else _fraction(terminal_rate, "Terminal rate"),
    )
    policy.save()
    rows, seen = [], set()
    for index, spec in enumerate(rates, start=1):
        bucket = int(spec["bucket"])
        if not 0 <= bucket < len(buckets):
            raise ValidationFailed(f"Rate {index}: there is no bucket {bucket} ({len(buckets)} buckets).")
        segment = (spec.get("segment") or "").strip()
        if segment and not segment_by:
            raise ValidationFailed(f"Rate {index}: the policy has no segments; leave the segment empty.")
        if (segment, bucket) in seen:
            raise ValidationFailed(f"Rate {index}: bucket {buckets[bucket].label} {segment} is given twice.")
        seen.add((segment, bucket))
        rate = spec.get("rate")
        rate = None if rate in (None, "") else _fraction(rate, f"Rate {index} ({buckets[bucket].label})")
        overlay = _fraction(spec.get("overlay") or 0, f"Overlay {index}", low=Decimal(-1))
        reason = (spec.get("overlay_reason") or "").strip()
        if overlay and not reason:
            raise ValidationFailed(f"Overlay {index} ({buckets[bucket].label}): give its reason.",
                                   fields={"rates": [index]})
        if method == ReserveMethod.MATRIX and rate is None:
            raise ValidationFailed(f"Rate {index} ({buckets[bucket].label}): a provision matrix needs the rate.")
        rows.append(ProvisionRate(policy=policy, segment=segment, bucket=bucket, bucket_label=buckets[bucket].label,
                                  rate=rate, overlay=overlay, overlay_reason=reason))
    if method == ReserveMethod.MATRIX:
        for segment in {seg for seg, _ in seen} or {""}:
            missing = [b.label for i, b in enumerate(buckets) if (segment, i) not in seen and ("", i) not in seen]
            if missing:
                raise ValidationFailed(f"The matrix has no rate for {', '.join(missing)}"
                                       f"{' in segment ' + segment if segment else ''}.", fields={"rates": missing})
    ProvisionRate.objects.bulk_create(rows)
    return policy


@transaction.atomic(durable=True)
def specific_reserve_create(*, legal_entity_id: int, customer_id: int, percent: Decimal, reason: str,
                            effective_from: dt.date, by: User, invoice_id: int | None = None,
                            note: str = "") -> SpecificReserve:
    _need(by, MANAGE, "Only a Controller may enter specific reserves.")
    entity_by_id(legal_entity_id)
    if reason not in SpecificReason.values:
        raise ValidationFailed(f"Unknown reason '{reason}'.", fields={"reason": ["unknown"]})
    percent = Decimal(str(percent))
    if not 0 <= percent <= 100:
        raise ValidationFailed("The percentage is 0 to 100.", fields={"percent": ["range"]})
    if invoice_id is not None:
        from billing.models import Invoice

        invoice = Invoice.objects.filter(pk=invoice_id).first()
        if invoice is None or invoice.customer_id != customer_id or invoice.legal_entity_id != legal_entity_id:
            raise ValidationFailed("The invoice is not this customer's in this legal entity.",
                                   fields={"invoice": ["mismatch"]})
    which = Q(invoice_id=invoice_id) if invoice_id is not None else Q(invoice__isnull=True)  # or the whole customer
    live = SpecificReserve.objects.filter(which, legal_entity_id=legal_entity_id, customer_id=customer_id,
                                          ended_on__isnull=True)
    if live.exists():
        raise ValidationFailed("A specific reserve for this already applies; end it first.")
    return SpecificReserve.objects.create(
        legal_entity_id=legal_entity_id, customer_id=customer_id, invoice_id=invoice_id, percent=percent,
        reason=reason, note=note.strip(), effective_from=effective_from, created_by=by)


@transaction.atomic(durable=True)
def specific_reserve_end(*, specific_id: int, ended_on: dt.date, by: User) -> SpecificReserve:
    _need(by, MANAGE, "Only a Controller may end specific reserves.")
    spec = SpecificReserve.objects.select_for_update().get(pk=specific_id)
    if ended_on < spec.effective_from:
        raise ValidationFailed("It cannot end before it starts.")
    spec.ended_on = ended_on
    spec.save(update_fields=["ended_on"])
    return spec


# --- runs -------------------------------------------------------------------------------------

def _line_rows(run: ReserveRun, calc: Calculation) -> list[ReserveLine]:
    return [ReserveLine(run=run, kind=line.kind, segment=line.segment, bucket=line.bucket,
                        bucket_label=line.bucket_label, customer_id=line.customer_id, invoice_id=line.invoice_id,
                        specific_id=line.specific_id, reason=line.reason, balance=line.balance,
                        base_rate=line.base_rate, overlay=line.overlay, rate=line.rate, allowance=line.allowance)
            for line in [*calc.lines, *calc.specifics]]


def reserve_run_prepare_in(*, legal_entity_id: int, as_of: dt.date, by: User | None) -> ReserveRun:
    """`reserve_run_prepare` inside the caller's transaction (the monthly task)."""
    _need(by, PREPARE, "Your role may not prepare reserve runs.")
    entity = entity_by_id(legal_entity_id)
    live = list(ReserveRun.objects.select_for_update(of=("self",))
                .filter(legal_entity=entity, as_of=as_of, status__in=ReserveRun.LIVE).order_by("pk"))
    for old in live:
        if old.status == ReserveRun.Status.POSTED:
            assert old.journal_entry is not None  # a posted run has its entry
            raise DomainError(f"The reserve of {entity.code} as of {as_of} is posted ({old.journal_entry.number}); "
                              "reverse it before preparing it again.", code="reserve_posted")
    calc = reserve_compute(legal_entity_id=entity.id, as_of=as_of)
    ledger = allowance_balance(legal_entity_id=entity.id, as_of=as_of)
    for old in live:
        from_state = old.status
        old.status = ReserveRun.Status.REPLACED
        old.save(update_fields=["status"])
        record_status_change(old, by=by, from_state=from_state, note="replaced by a re-run")
    run = ReserveRun.objects.create(
        legal_entity=entity, as_of=as_of, policy=calc.policy, snapshot=calc.snapshot,
        functional_currency=calc.functional_currency, matrix_total=calc.matrix_total,
        specific_total=calc.specific_total, required_total=calc.total, ledger_balance=ledger,
        adjustment=calc.total - ledger, derivation=calc.derivation, segments=calc.segments, prepared_by=by,
    )
    ReserveLine.objects.bulk_create(_line_rows(run, calc))
    record_status_change(run, by=by, from_state="", note="prepared")
    return run


@transaction.atomic(durable=True)
def reserve_run_prepare(*, legal_entity_id: int, as_of: dt.date, by: User | None) -> ReserveRun:
    """Compute the reserve of an entity as of a date and propose the true-up (module docstring)."""
    return reserve_run_prepare_in(legal_entity_id=legal_entity_id, as_of=as_of, by=by)


def _lock(run_id: int) -> ReserveRun:
    run = ReserveRun.objects.select_for_update(of=("self",)).filter(pk=run_id).first()
    if run is None:
        raise ValidationFailed(f"Reserve run {run_id} does not exist.")
    return run


@transaction.atomic(durable=True)
def reserve_run_approve(*, run_id: int, by: User) -> ReserveRun:
    run = _lock(run_id)
    _need(by, APPROVE, "Your role may not approve reserve runs.")
    ensure_transition(run, to=ReserveRun.Status.APPROVED)
    if run.prepared_by_id == by.id:
        raise SegregationOfDuties("You prepared this reserve run; another person must approve it.")
    amount = abs(run.adjustment)
    limit = approval_limit(user=by, kind="reserve", currency=run.functional_currency,
                           legal_entity_id=run.legal_entity_id)
    if amount > limit:
        raise LimitExceeded(f"The true-up of {money_text(amount, run.functional_currency)} exceeds your reserve "
                            f"approval limit of {money_text(limit, run.functional_currency)}.")
    run.status, run.approved_by, run.approved_at = ReserveRun.Status.APPROVED, by, dates.now()
    run.save(update_fields=["status", "approved_by", "approved_at"])
    record_status_change(run, by=by, from_state="proposed")
    return run


@transaction.atomic(durable=True)
def reserve_run_post(*, run_id: int, by: User) -> ReserveRun:
    """Post the approved true-up in the as-of date's period (refused when that period is closed)."""
    run = _lock(run_id)
    _need(by, POST, "Your role may not post reserve runs.")
    ensure_transition(run, to=ReserveRun.Status.POSTED)
    currency = run.functional_currency
    amount = quantize(run.adjustment, currency)
    entry = None
    if amount:
        memo = (f"Bad-debt reserve as of {run.as_of}: required {money_text(run.required_total, currency)}, "
                f"allowance {money_text(run.ledger_balance, currency)}")
        entry = journal_post(
            legal_entity_id=run.legal_entity_id, kind=JournalEntry.Kind.RESERVE, document_date=run.as_of,
            currency=currency, by=by, memo=memo[:255], source=run, source_reference=f"RES-{run.pk}",
            roll_forward=False, lines=[
                LineSpec(amount=amount, role="bad_debt_expense", description="Bad-debt expense (reserve true-up)"),
                LineSpec(amount=-amount, role="allowance", description="Allowance for doubtful accounts"),
            ])
    run.status, run.posted_by, run.posted_at, run.journal_entry = ReserveRun.Status.POSTED, by, dates.now(), entry
    run.save(update_fields=["status", "posted_by", "posted_at", "journal_entry"])
    record_status_change(run, by=by, from_state="approved")
    run_id = run.pk
    transaction.on_commit(lambda: _store_sheet_after_commit(run_id))
    return run


# --- the posted calculation sheet (PDF stored once with its SHA-256) ------------------------------

class SheetIntegrityError(DocumentIntegrityError):
    """The stored calculation sheet no longer matches its SHA-256 (or is gone): an incident."""


def _store_sheet_after_commit(run_id: int) -> None:
    """After the posting committed: render and store the sheet. A failure here never undoes the
    posting; it is logged and the first download stores the sheet instead."""
    try:
        reserve_run_store_sheet(run_id=run_id)
    except Exception:
        logger.exception("Reserve run %s: storing the posted calculation sheet failed; the first download will.",
                         run_id)


@transaction.atomic
def reserve_run_store_sheet(*, run_id: int) -> ReserveRun:
    """Render a posted run's calculation sheet once and store it with its SHA-256 (idempotent:
    a stored sheet is returned as it is, never rendered again)."""
    from collections_app.exports_reserve import sheet_pdf

    _lock(run_id)
    run = ReserveRun.objects.select_related("legal_entity", "policy", "snapshot", "journal_entry",
                                            "posted_by").get(pk=run_id)
    if run.sheet_pdf_sha256:
        return run
    if run.status != ReserveRun.Status.POSTED:
        raise InvalidTransition("Only a posted reserve run has a stored sheet; an unposted one is rendered on "
                                "the fly.")
    content = sheet_pdf(run, generated_by=f"posted by {run.posted_by}" if run.posted_by else "")
    run.sheet_pdf.save(f"reserve-{run.legal_entity.code}-{run.as_of:%Y%m%d}-RES{run.pk}.pdf", ContentFile(content),
                       save=False)
    run.sheet_pdf_sha256 = hashlib.sha256(content).hexdigest()
    run.save(update_fields=["sheet_pdf", "sheet_pdf_sha256"])
    return run


def verified_sheet_pdf(run: ReserveRun) -> bytes:
    """The stored sheet's bytes, checked against the SHA-256 stored with it; a mismatch or a
    missing file is logged as an integrity alert and raised (the caller answers 500)."""
    try:
        with run.sheet_pdf.open("rb") as handle:
            content = handle.read()
    except (OSError, ValueError) as exc:
        logger.error("DOCUMENT INTEGRITY ALERT: the stored calculation sheet of reserve run %s cannot be read (%s); "
                     "not served.", run.pk, exc)
        raise SheetIntegrityError(f"The stored calculation sheet of reserve run {run.pk} cannot be read.") from exc
    found = hashlib.sha256(content).hexdigest()
    if not run.sheet_pdf_sha256 or found != run.sheet_pdf_sha256:
        logger.error("DOCUMENT INTEGRITY ALERT: the stored calculation sheet of reserve run %s has SHA-256 %s, "
                     "expected %s; not served.", run.pk, found, run.sheet_pdf_sha256 or "(none stored)")
        raise SheetIntegrityError(f"The stored calculation sheet of reserve run {run.pk} does not match its SHA-256.")
    return content


def reserve_run_sheet_pdf(run: ReserveRun, *, generated_by: str = "") -> bytes:
    """What a download serves: a posted (or since reversed) run's stored sheet, hash-checked (stored
    now if the after-commit rendering failed); an unposted run's sheet rendered on the fly."""
    from collections_app.exports_reserve import sheet_pdf

    if run.status == ReserveRun.Status.POSTED and not run.sheet_pdf_sha256:
        run = reserve_run_store_sheet(run_id=run.pk)
    if run.sheet_pdf_sha256:
        return verified_sheet_pdf(run)
    return sheet_pdf(run, generated_by=generated_by)


@transaction.atomic(durable=True)
def reserve_run_reverse(*, run_id: int, by: User, reason: str) -> ReserveRun:
    """Reverse a posted run's entry (a new entry); a new run may then be prepared for the date."""
    run = _lock(run_id)
    _need(by, POST, "Your role may not reverse reserve runs.")
    if not reason.strip():
        raise ValidationFailed("Give the reason for the reversal.", fields={"reason": ["required"]})
    ensure_transition(run, to=ReserveRun.Status.REVERSED)
    if not run.journal_entry_id:
        raise DomainError("This run posted no entry (no true-up was needed): prepare the date again instead.")
    entry = journal_reverse(entry_id=run.journal_entry_id, by=by, memo=f"Reversal of reserve RES-{run.pk}: "
                                f"{reason.strip()}"[:255])
    run.status, run.reversed_by, run.reversed_at = ReserveRun.Status.REVERSED, by, dates.now()
    run.reversal_entry, run.reversal_reason = entry, reason.strip()[:255]
    run.save(update_fields=["status", "reversed_by", "reversed_at", "reversal_entry", "reversal_reason"])
    record_status_change(run, by=by, from_state="posted", note=reason.strip())
    return run


def reserve_run_recompute(*, run_id: int) -> Calculation:
    """Recompute a run from the snapshot, policy version, segment map and derivation it recorded."""
    run = ReserveRun.objects.select_related("policy", "snapshot").get(pk=run_id)
    return reserve_compute(legal_entity_id=run.legal_entity_id, as_of=run.as_of, policy=run.policy,
                           snapshot=run.snapshot, segments=run.segments if run.policy.segment_by else None,
                           derivation=run.derivation if run.policy.method != ReserveMethod.MATRIX else None)


def reserve_monthly_due(*, today: dt.date | None = None) -> list[int]:
    """Beat, daily: for each entity with a policy and last month-end's published snapshot but no
    live run for that date, prepare one (idempotent: a live run for the date stops it)."""
    from ledger.models import LegalEntity

    today = today or dates.today()
    month_end = today.replace(day=1) - dt.timedelta(days=1)
    made = []
    for entity in LegalEntity.objects.filter(is_active=True).order_by("code"):
        if ReserveRun.objects.filter(legal_entity=entity, as_of=month_end, status__in=ReserveRun.LIVE).exists():
            continue
        try:
            policy_in_force(legal_entity_id=entity.id, as_of=month_end)
            snapshot_for(legal_entity_id=entity.id, as_of=month_end)
        except DomainError:
            continue
        made.append(reserve_run_prepare(legal_entity_id=entity.id, as_of=month_end, by=None).id)
    return made
