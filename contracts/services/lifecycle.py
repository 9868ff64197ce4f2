"""After approval: activation (at once or by the daily task), expiry and auto-renewal,
termination, and amendments (new versions that supersede the old from their effective date)."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

from django.contrib.contenttypes.models import ContentType
from django.db import transaction

from otc import dates
from otc.errors import InvalidTransition, PermissionDenied, ValidationFailed
from otc.history import history_stamp
from otc.models import StatusChange, User
from otc.services import record_status_change

from ..assessment import contract_assess
from ..models import Contract, ContractLine, ContractVersion
from ..values import add_months, months_between
from .common import (
    OPEN_STATES,
    ensure_access,
    lock_contract,
    lock_version,
    lock_versions,
    set_contract_status,
    status_set,
)
from .drafts import amendment_date_errors
from .events import emit

COPIED_TERMS = (
    "currency", "start_date", "end_date", "auto_renew", "renewal_notice_days", "billing_frequency", "billing_timing",
    "payment_terms_days", "discount_percent", "po_number", "late_fee_percent", "prepayment_percent", "free_periods",
    "notes",
)
COPIED_LINE_FIELDS = (
    "line_key", "position", "product_id", "description", "kind", "quantity", "unit_price", "discount_percent",
    "minimum_commitment", "milestone_date", "start_date", "end_date",
)


def activate_version(version: ContractVersion, *, by: User | None) -> None:
    """Put an approved (locked) version in force: an amendment supersedes the version it amends
    from its effective date. The contract points at the version in force."""
    contract = version.contract
    if version.amends_id:
        amended = lock_versions([version.amends_id])[0]
        if amended.status in ("active", "approved"):
            status_set(amended, ContractVersion.Status.SUPERSEDED, by=by,
                  note=f"superseded by v{version.version} from {version.effective_date:%Y-%m-%d}")
    status_set(version, ContractVersion.Status.ACTIVE, by=by, note=f"in force from {version.effective_date:%Y-%m-%d}")
    contract.current_version = version
    set_contract_status(contract, Contract.Status.ACTIVE, by=by, note=f"v{version.version} in force",
                     extra=["current_version"])
    emit("contract.activated", version)


@transaction.atomic(durable=True)
def contracts_activate_due(*, today: dt.date | None = None) -> int:
    """Approved versions whose effective date has come become active (the daily task).
    Idempotent: a second run finds nothing left to do."""
    today = today or dates.today()
    due = list(ContractVersion.objects.filter(status=ContractVersion.Status.APPROVED, effective_date__lte=today)
               .order_by("contract_id", "version").values_list("pk", flat=True))
    count = 0
    for version_id in due:
        version = lock_version(version_id)
        if version.status != ContractVersion.Status.APPROVED or version.contract.status in ("terminated", "expired"):
            continue
        activate_version(version, by=None)
        count += 1
    return count


def term_months(version: ContractVersion) -> int:
    """The contract's term in whole months, before any renewal: a renewal extends by this."""
    renewals = StatusChange.objects.filter(
        content_type=ContentType.objects.get_for_model(ContractVersion), field="end_date",
        object_id__in=version.contract.versions.values("pk")).order_by("-at", "-id")
    last = renewals.first()
    term_start = version.start_date
    if last is not None:
        previous_end = dt.date.fromisoformat(last.from_state)
        if previous_end >= version.start_date:
            term_start = previous_end + dt.timedelta(days=1)
    assert version.end_date is not None  # only a version with an end date renews (contracts_expire_due)
    months = months_between(term_start, version.end_date).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return max(int(months), 1)


@transaction.atomic(durable=True)
def contracts_expire_due(*, today: dt.date | None = None) -> int:
    """Active contracts whose end date has passed expire, unless they renew automatically: then
    the end date moves on by the original term in whole months (recorded). Returns how many
    contracts expired or renewed. Idempotent."""
    today = today or dates.today()
    due = list(ContractVersion.objects.filter(status=ContractVersion.Status.ACTIVE, end_date__lt=today)
               .order_by("contract_id").values_list("pk", flat=True))
    count = 0
    for version_id in due:
        version = lock_version(version_id)
        if version.status != ContractVersion.Status.ACTIVE or version.end_date is None or version.end_date >= today:
            continue
        contract = version.contract
        if version.auto_renew:
            while version.end_date < today:
                months = term_months(version)
                before = version.end_date
                version.end_date = add_months(before + dt.timedelta(days=1), months) - dt.timedelta(days=1)
                history_stamp(version, by=None, reason=f"auto-renewed for {months} months")
                version.save(update_fields=["end_date", "updated_at"])
                record_status_change(version, by=None, from_state=before.isoformat(), field="end_date",
                                     note=f"auto-renewed for {months} months")
            emit("contract.renewed", version, end_date=version.end_date.isoformat())
        else:
            status_set(version, ContractVersion.Status.EXPIRED, by=None, note=f"ended {version.end_date:%Y-%m-%d}")
            set_contract_status(contract, Contract.Status.EXPIRED, by=None, note=f"ended {version.end_date:%Y-%m-%d}")
            emit("contract.expired", version)
        count += 1
    return count


@transaction.atomic(durable=True)
def contract_terminate(*, contract_id: int, by: User, on: dt.date, reason: str) -> Contract:
    """End an active contract early on `on` (within its term), with a written reason. Billing
    stops after `terminated_on`."""
    if not by.has_perm("contracts.terminate_contract"):
        raise PermissionDenied("Only a Controller may terminate a contract.")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed("Write down why the contract ends early.", fields={"reason": ["A reason is required."]})
    contract = lock_contract(contract_id)
    ensure_access(contract, by)
    if contract.status not in (Contract.Status.ACTIVE, Contract.Status.APPROVED):
        raise InvalidTransition(f"{contract.number} is {contract.get_status_display().lower()}: only an active or "
                                "approved contract can be terminated.")
    assert contract.current_version_id is not None  # set when the contract is created with its first version
    version = lock_versions([contract.current_version_id])[0]
    version.contract = contract
    if not isinstance(on, dt.date) or on < version.start_date or (version.end_date and on > version.end_date):
        end = f" to {version.end_date:%Y-%m-%d}" if version.end_date else ""
        raise ValidationFailed(f"The termination date must fall within the term ({version.start_date:%Y-%m-%d}{end}).",
                               fields={"on": ["Outside the contract's term."]})
    status_set(version, ContractVersion.Status.TERMINATED, by=by, note=reason)
    pending = list(ContractVersion.objects.filter(contract=contract, status=ContractVersion.Status.APPROVED)
                   .exclude(pk=version.pk).order_by("pk").select_for_update(of=("self",)))
    for amendment in pending:  # an approved amendment not yet in force never takes effect
        amendment.contract = contract
        status_set(amendment, ContractVersion.Status.TERMINATED, by=by, note=f"contract terminated: {reason}")
    contract.terminated_on, contract.termination_reason = on, reason
    set_contract_status(contract, Contract.Status.TERMINATED, by=by, note=reason,
                     extra=["terminated_on", "termination_reason"])
    emit("contract.terminated", version, terminated_on=on.isoformat(), reason=reason)
    return contract


@transaction.atomic(durable=True)
def contract_amend(*, contract_id: int, by: User, effective_date: dt.date) -> ContractVersion:
    """Start an amendment of an active contract: the next version as a draft with the terms and
    lines of the version in force (same line keys), effective from `effective_date`."""
    return start_amendment(contract_id=contract_id, by=by, effective_date=effective_date)


@transaction.atomic(durable=True)
def contract_amend_with_terms(*, contract_id: int, by: User, effective_date: dt.date, data: dict,
                              lines: list[dict] | None) -> ContractVersion:
    """An amendment with its changed terms and lines in one step, all or nothing (the CRM's
    `POST /api/v1/contracts/{id}/amend/`): the draft is then submitted like any version."""
    from .drafts import contract_version_update_locked

    amendment = start_amendment(contract_id=contract_id, by=by, effective_date=effective_date)
    if data or lines is not None:
        contract_version_update_locked(version=amendment, data={**data, "effective_date": effective_date}, lines=lines, by=by)
    return amendment


def start_amendment(*, contract_id: int, by: User, effective_date: dt.date) -> ContractVersion:
    """The work of contract_amend inside the caller's transaction."""
    if not by.has_perm("contracts.change_contract"):
        raise PermissionDenied("Your role may not amend contracts.")
    contract = lock_contract(contract_id)
    ensure_access(contract, by, edit=True)
    if contract.status != Contract.Status.ACTIVE:
        raise InvalidTransition(f"{contract.number} is {contract.get_status_display().lower()}: only an active "
                                "contract can be amended.")
    versions = ContractVersion.objects.filter(contract=contract)
    open_one = versions.filter(status__in=(*OPEN_STATES, "approved")).order_by("version").first()
    if open_one is not None:
        raise InvalidTransition(f"{contract.number} v{open_one.version} is already an open amendment "
                                f"({open_one.get_status_display().lower()}): finish or withdraw it first.")
    assert contract.current_version_id is not None  # set when the contract is created with its first version
    current = lock_versions([contract.current_version_id])[0]
    errors = amendment_date_errors(current, effective_date)
    if errors:
        raise ValidationFailed(f"Please correct: effective_date: {errors['effective_date'][0]}", fields=errors)
    number = max(versions.values_list("version", flat=True)) + 1
    amendment = ContractVersion(contract=contract, version=number, amends=current, effective_date=effective_date,
                                created_by=by, **{f: getattr(current, f) for f in COPIED_TERMS})
    history_stamp(amendment, by=by, reason=f"amendment of v{current.version}")
    amendment.save()
    ContractLine.objects.bulk_create([
        ContractLine(version=amendment, **{f: getattr(line, f) for f in COPIED_LINE_FIELDS})
        for line in current.lines.order_by("position", "id")
    ])
    record_status_change(amendment, by=by, from_state="", note=f"amends v{current.version}")
    contract_assess(version_id=amendment.id)
    return amendment
