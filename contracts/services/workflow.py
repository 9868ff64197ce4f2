"""The review workflow: submit, decide (approve / reject / request changes) level by level,
and the Controller's override of a blocking finding.

Levels: 1 Contract Reviewer, 2 Finance Manager, 3 Controller (Approval.LEVEL_ROLES); the
latest assessment's `required_levels` says how many a version needs. The next level is the
lowest not yet approved in this round. A decider needs that level's role or a higher one (a
Controller may take level 1 when no reviewer is free), but one person approves one level of a
version only, and the submitter, the sales owner and the creator never decide."""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction

from otc import dates
from otc.errors import (
    InvalidTransition,
    LimitExceeded,
    PermissionDenied,
    SegregationOfDuties,
    ValidationFailed,
)
from otc.history import history_stamp
from otc.models import User
from otc.money import Money
from otc.services import approval_limit, ensure_transition

from .. import tasks
from ..assessment import contract_assess
from ..models import Approval, Contract, ContractVersion
from ..selectors import (
    blocking_unresolved,
    is_party,
    latest_assessment,
    live_approvals,
    next_level,
    role_rank,
)
from .common import ensure_access, lock_version, set_contract_status, status_set
from .events import emit
from .lifecycle import activate_version

DECISIONS = {c.value for c in Approval.Decision}


def _ensure_contract_open(version: ContractVersion) -> None:
    if version.contract.status in (Contract.Status.TERMINATED, Contract.Status.EXPIRED, Contract.Status.REJECTED):
        raise InvalidTransition(f"{version.contract.number} is {version.contract.get_status_display().lower()}.")


@transaction.atomic(durable=True)
def contract_submit(*, version_id: int, by: User) -> ContractVersion:
    """Submit a draft (or a version with changes requested) for review. Re-assesses; a blocking
    finding does not stop submission, only approval. Reviewers are told by e-mail."""
    if not by.has_perm("contracts.submit_contract"):
        raise PermissionDenied("Your role may not submit contracts.")
    version = lock_version(version_id)
    ensure_access(version.contract, by, edit=True)
    _ensure_contract_open(version)
    ensure_transition(version, to=ContractVersion.Status.SUBMITTED)
    if not version.lines.exists():
        raise ValidationFailed("A contract needs at least one line before it can be submitted.",
                               fields={"lines": ["A contract needs at least one line."]})
    assessment = contract_assess(version_id=version.id)
    version.submitted_by, version.submitted_at, version.decided_at = by, dates.now(), None
    status_set(version, ContractVersion.Status.SUBMITTED, by=by, extra=["submitted_by", "submitted_at", "decided_at"])
    if version.version == 1:
        set_contract_status(version.contract, Contract.Status.IN_REVIEW, by=by, note=f"v{version.version} submitted")
    emit("contract.submitted", version, required_levels=assessment.required_levels,
         contract_value=str(assessment.contract_value), highest_severity=assessment.highest_severity)
    transaction.on_commit(lambda: tasks.notify_contract_submitted.delay(version.id))
    return version


def _check_decider(version: ContractVersion, by: User, level: int) -> None:
    if is_party(by, version):
        raise SegregationOfDuties(
            "You submitted, own or created this contract: another person must decide on it.")
    mine = live_approvals(version).filter(approver=by).values_list("level", flat=True).first()
    if mine is not None:
        raise SegregationOfDuties(
            f"You already approved level {mine} of this version; another person must decide level {level}.")
    if role_rank(by) < level:
        raise PermissionDenied(
            f"Level {level} needs the {Approval.LEVEL_ROLES[level]} role (or a higher one).")


@transaction.atomic(durable=True)
def contract_decide(*, version_id: int, by: User, decision: str, comment: str = "") -> ContractVersion:
    """Record one reviewer's decision on the next open level of a submitted version.

    approved: the level is approved; when it was the last required level the version is
    approved, and becomes active at once when its effective date has come. rejected: the
    version is rejected. changes_requested: the version goes back to the sales rep; this
    round's approvals are voided, so a resubmission starts again at level 1. Rejections and
    change requests need a comment saying why."""
    if decision not in DECISIONS:
        raise ValidationFailed(f"Unknown decision {decision!r}: use approved, rejected or changes_requested.",
                               fields={"decision": ["Unknown decision."]})
    if not by.has_perm("contracts.review_contract"):
        raise PermissionDenied("Your role may not review contracts.")
    version = lock_version(version_id)
    contract = version.contract
    ensure_access(contract, by)
    _ensure_contract_open(version)
    if version.status not in ("submitted", "in_review"):
        raise InvalidTransition(
            f"{contract.number} v{version.version} is {version.get_status_display().lower()}, not awaiting review.")
    comment = (comment or "").strip()
    if decision != Approval.Decision.APPROVED and not comment:
        raise ValidationFailed("Say why in a comment, so the sales rep knows what to change.",
                               fields={"comment": ["A comment is required."]})
    level = next_level(version)
    if level is None:  # every level approved but the version not moved on: should not happen
        raise InvalidTransition(f"{contract.number} v{version.version} has no open approval level.")
    _check_decider(version, by, level)
    assessment = latest_assessment(version)
    required = assessment.required_levels if assessment else 1
    if decision == Approval.Decision.APPROVED:
        if blocking_unresolved(version, assessment):
            raise InvalidTransition(
                "A blocking finding prevents approval: fix the terms, or a Controller overrides it with a reason.",
                code="blocking_finding")
        if level == required:
            value = assessment.contract_value if assessment else Decimal(0)
            limit = approval_limit(user=by, kind="contract", currency=version.currency,
                                   legal_entity_id=contract.legal_entity_id)
            if value > limit:
                raise LimitExceeded(f"{Money(value, version.currency)} exceeds your contract approval limit of "
                                    f"{Money(limit, version.currency)}.")

    Approval.objects.create(version=version, level=level, approver=by, decision=decision, comment=comment)
    if version.status == ContractVersion.Status.SUBMITTED:
        status_set(version, ContractVersion.Status.IN_REVIEW, by=by, note=f"level {level} {decision}")
    now = dates.now()
    if decision == Approval.Decision.APPROVED:
        if level == required:
            version.decided_at = now
            status_set(version, ContractVersion.Status.APPROVED, by=by, note=f"level {level} approved",
                  extra=["decided_at"])
            if version.version == 1:
                set_contract_status(contract, Contract.Status.APPROVED, by=by, note="approved")
            emit("contract.approved", version, level=level, comment=comment)
            if version.effective_date <= dates.today():
                activate_version(version, by=by)
    elif decision == Approval.Decision.REJECTED:
        version.decided_at = now
        status_set(version, ContractVersion.Status.REJECTED, by=by, note=comment, extra=["decided_at"])
        if version.version == 1:
            set_contract_status(contract, Contract.Status.REJECTED, by=by, note="rejected")
        emit("contract.rejected", version, level=level, comment=comment)
    else:
        version.decided_at = now
        live_approvals(version).update(voided_at=now)
        status_set(version, ContractVersion.Status.CHANGES_REQUESTED, by=by, note=comment, extra=["decided_at"])
        if version.version == 1:
            set_contract_status(contract, Contract.Status.DRAFT, by=by, note="changes requested")
        emit("contract.changes_requested", version, level=level, comment=comment)
    if version.status != ContractVersion.Status.IN_REVIEW:
        final = version.status if version.status != "active" else "approved"
        transaction.on_commit(lambda: tasks.notify_contract_decision.delay(version.id, final))
    return version


@transaction.atomic(durable=True)
def contract_override_blocking(*, version_id: int, by: User, reason: str) -> ContractVersion:
    """A Controller accepts the blocking findings of a version with a written reason. The
    version is re-assessed, and then needs the Controller level (3) to be approved."""
    if not by.has_perm("contracts.override_blocking_finding"):
        raise PermissionDenied("Only a Controller may override a blocking finding.")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed("Write down why the blocking finding is acceptable.",
                               fields={"reason": ["A reason is required."]})
    version = lock_version(version_id)
    ensure_access(version.contract, by)
    if is_party(by, version):
        raise SegregationOfDuties("You submitted, own or created this contract: another Controller must override.")
    if version.status not in ("draft", "submitted", "in_review", "changes_requested"):
        raise InvalidTransition(
            f"{version.contract.number} v{version.version} is {version.get_status_display().lower()}: "
            "nothing to override.")
    assessment = latest_assessment(version)
    if assessment is None or not assessment.findings.filter(severity="blocking").exists():
        raise InvalidTransition("This version has no blocking finding to override.")
    if version.override_by_id:
        raise InvalidTransition(f"{version.override_by} already overrode the blocking findings of this version.")
    version.override_by, version.override_at, version.override_reason = by, dates.now(), reason
    history_stamp(version, by=by, reason=f"override: {reason}"[:100])
    version.save(update_fields=["override_by", "override_at", "override_reason", "updated_at"])
    contract_assess(version_id=version.id)
    return version
