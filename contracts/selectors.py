"""Reads of contracts: visibility, approval levels, queues, the review page's data."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet, Subquery, prefetch_related_objects

from otc import dates
from otc.models import User

from .models import Approval, Assessment, Contract, ContractLine, ContractVersion, Finding

REVIEWABLE = ("submitted", "in_review")
ROLE_RANK = {role: level for level, role in Approval.LEVEL_ROLES.items()}


def contracts_visible_to(user: User) -> QuerySet[Contract]:
    """Mirrors the `contracts.access_contract` rule."""
    qs = Contract.objects.all()
    if not user.is_authenticated or not user.has_perm("contracts.view_contract"):
        return qs.none()
    if user.has_perm("customers.view_all_customers"):
        return qs
    return qs.filter(Q(customer__sales_owner=user) | Q(sales_owner=user) | Q(created_by=user))


# --- approval levels ---------------------------------------------------------------------------

def latest_assessment(version: ContractVersion) -> Assessment | None:
    return Assessment.objects.filter(version=version).order_by("-created_at", "-id").first()


def live_approvals(version: ContractVersion) -> QuerySet[Approval]:
    """Approvals of the current review round (a changes request voids the earlier ones)."""
    return Approval.objects.filter(version=version, decision=Approval.Decision.APPROVED, voided_at__isnull=True)


def required_levels(version: ContractVersion) -> int:
    assessment = latest_assessment(version)
    return assessment.required_levels if assessment else 1


def next_level(version: ContractVersion) -> int | None:
    """The lowest level (1..required) not yet approved in this round; None when the version is
    not under review or every level is approved."""
    if version.status not in REVIEWABLE:
        return None
    approved = set(live_approvals(version).values_list("level", flat=True))
    return next((level for level in range(1, required_levels(version) + 1) if level not in approved), None)


def role_rank(user: User) -> int:
    """The highest approval level the user's roles reach (Controller 3, Finance Manager 2,
    Contract Reviewer 1, else 0). A higher role may act on a lower level."""
    if user.is_superuser:
        return max(Approval.LEVEL_ROLES)
    return max((ROLE_RANK.get(name, 0) for name in user.groups.values_list("name", flat=True)), default=0)


def is_party(user: User, version: ContractVersion) -> bool:
    """Submitter, sales owner or creator: never a decider (segregation of duties)."""
    contract = version.contract
    return user.id in {version.submitted_by_id, contract.sales_owner_id, contract.created_by_id, version.created_by_id}


def blocking_unresolved(version: ContractVersion, assessment: Assessment | None = None) -> bool:
    assessment = assessment or latest_assessment(version)
    if assessment is None or version.override_by_id:
        return False
    return assessment.findings.filter(severity=Finding.Severity.BLOCKING).exists()


def can_decide(user: User, version: ContractVersion) -> bool:
    """Whether to show the decision buttons (the service checks again, under a lock)."""
    if not user.is_authenticated or not user.has_perm("contracts.review_contract"):
        return False
    level = next_level(version)
    if level is None or is_party(user, version) or role_rank(user) < level:
        return False
    return not live_approvals(version).filter(approver=user).exists()


# --- queues ------------------------------------------------------------------------------------

def _queue_base(user: User) -> QuerySet[ContractVersion]:
    return (ContractVersion.objects.filter(contract__in=contracts_visible_to(user))
            .select_related("contract__customer", "contract__sales_owner", "submitted_by")
            .prefetch_related(Prefetch("assessments", queryset=Assessment.objects.order_by("-created_at", "-id"))))


def review_queue(user: User) -> list[ContractVersion]:
    """Versions submitted or in review whose next level the user may take and which the user
    did not submit, own, create or already approve. Each carries `next_level`."""
    if not user.is_authenticated or not user.has_perm("contracts.review_contract"):
        return []
    rank = role_rank(user)
    live = Approval.objects.filter(version=OuterRef("pk"), decision="approved", voided_at__isnull=True)
    versions = (_queue_base(user).filter(status__in=REVIEWABLE)
                .exclude(Q(submitted_by=user) | Q(contract__sales_owner=user) | Q(contract__created_by=user)
                         | Q(created_by=user))
                .exclude(Exists(live.filter(approver=user)))
                .prefetch_related(Prefetch("approvals", queryset=Approval.objects.filter(
                    decision="approved", voided_at__isnull=True), to_attr="live_approvals"))
                .order_by("submitted_at", "pk"))
    queue: list[ContractVersion] = []
    for version in versions:
        assessments = list(version.assessments.all())
        levels = assessments[0].required_levels if assessments else 1
        approved = {a.level for a in version.live_approvals}
        level = next((n for n in range(1, levels + 1) if n not in approved), None)
        if level is not None and level <= rank:
            version.next_level = level
            version.latest_assessment = assessments[0] if assessments else None
            queue.append(version)
    return queue


def changes_requested_queue(user: User) -> QuerySet[ContractVersion]:
    """Versions sent back for changes, for the people who can edit them."""
    return _queue_base(user).filter(status=ContractVersion.Status.CHANGES_REQUESTED).order_by("-decided_at", "-pk")


def approved_this_month(user: User, *, today: dt.date | None = None) -> QuerySet[ContractVersion]:
    today = today or dates.today()
    return (_queue_base(user)
            .filter(decided_at__date__gte=today.replace(day=1), decided_at__date__lte=today,
                    status__in=("approved", "active", "superseded", "expired", "terminated"))
            .order_by("-decided_at", "-pk"))


# --- the review page ---------------------------------------------------------------------------

def contract_detail(contract_id: int, user: User) -> Contract:
    """A visible contract with everything the review page shows, in a fixed number of queries.
    Raises Contract.DoesNotExist for a contract the user may not see."""
    versions = (ContractVersion.objects.select_related("submitted_by", "override_by", "created_by")
                .prefetch_related(
                    Prefetch("lines", queryset=ContractLine.objects.select_related("product").order_by("position", "id")),
                    Prefetch("approvals", queryset=Approval.objects.select_related("approver").order_by("decided_at", "id")),
                    Prefetch("assessments", queryset=Assessment.objects.prefetch_related("findings")
                             .order_by("-created_at", "-id")),
                ).order_by("version"))
    return (contracts_visible_to(user)
            .select_related("customer", "customer__sales_owner", "legal_entity", "sales_owner", "created_by",
                            "current_version")
            .prefetch_related(Prefetch("versions", queryset=versions), "comments__author")
            .get(pk=contract_id))


TERM_LABELS: list[tuple[str, str]] = [
    ("currency", "Currency"), ("start_date", "Start date"), ("end_date", "End date"),
    ("effective_date", "Effective date"), ("auto_renew", "Auto-renew"),
    ("renewal_notice_days", "Renewal notice (days)"), ("billing_frequency", "Billing frequency"),
    ("billing_timing", "Billing timing"), ("payment_terms_days", "Payment terms (days)"),
    ("discount_percent", "Contract discount %"), ("po_number", "PO number"), ("late_fee_percent", "Late fee %"),
    ("prepayment_percent", "Prepayment %"), ("free_periods", "Free periods"),
]
LINE_LABELS: list[tuple[str, str]] = [
    ("product_id", "product"), ("kind", "kind"), ("description", "description"), ("quantity", "quantity"),
    ("unit_price", "unit price"), ("discount_percent", "discount %"), ("minimum_commitment", "minimum commitment"),
    ("milestone_date", "milestone date"), ("start_date", "start"), ("end_date", "end"),
]


def _line_name(line: ContractLine) -> str:
    return f"Line {line.position} ({line.description or line.product.name})"


def versions_diff(old: ContractVersion, new: ContractVersion) -> list[tuple[str, Any, Any]]:
    """What changed between two versions: financial terms, then lines matched by line_key
    (added, removed, changed fields), as (label, old value, new value)."""
    changes: list[tuple[str, Any, Any]] = []
    for field, label in TERM_LABELS:
        before, after = getattr(old, field), getattr(new, field)
        if before != after:
            changes.append((label, before, after))
    old_lines = {line.line_key: line for line in old.lines.all()}
    new_lines = {line.line_key: line for line in new.lines.all()}
    for key, line in new_lines.items():
        previous = old_lines.get(key)
        if previous is None:
            changes.append((f"{_line_name(line)}: added", None, str(line)))
            continue
        for field, label in LINE_LABELS:
            before, after = getattr(previous, field), getattr(line, field)
            if before != after:
                if field == "product_id":
                    before, after = str(previous.product), str(line.product)
                changes.append((f"{_line_name(line)}: {label}", before, after))
    for key, line in old_lines.items():
        if key not in new_lines:
            changes.append((f"{_line_name(line)}: removed", str(line), None))
    return changes


# --- list annotations (list pages and dashboard panels) -----------------------------------------

def with_latest_values(queryset: QuerySet[Contract]) -> QuerySet[Contract]:
    """Annotate contracts with their latest version (number, status, currency, dates) and that
    version's stored assessment (TCV, first-year value, highest severity, required levels),
    each a subquery: no query per row."""
    versions = ContractVersion.objects.filter(contract=OuterRef("pk")).order_by("-version")
    latest_version = ContractVersion.objects.filter(contract=OuterRef(OuterRef("pk"))).order_by("-version")
    latest = Assessment.objects.filter(version=Subquery(latest_version.values("pk")[:1])).order_by("-created_at", "-id")
    annotations: dict[str, Any] = {
        "tcv": Subquery(latest.values("contract_value")[:1]),
        "first_year_value": Subquery(latest.values("annual_value")[:1]),
        "highest_severity": Subquery(latest.values("highest_severity")[:1]),
        "required_levels": Subquery(latest.values("required_levels")[:1]),
        "latest_version_number": Subquery(versions.values("version")[:1]),
        "latest_version_status": Subquery(versions.values("status")[:1]),
        "latest_currency": Subquery(versions.values("currency")[:1]),
        "latest_start": Subquery(versions.values("start_date")[:1]),
        "latest_end": Subquery(versions.values("end_date")[:1]),
    }
    return queryset.annotate(**annotations)


def attach_latest_assessment(versions: list[ContractVersion]) -> None:
    """Give each version `latest_assessment` (the queue selectors prefetch assessments or set it
    already); one query for the lot otherwise."""
    missing = [v for v in versions if not hasattr(v, "latest_assessment")]
    unfetched = [v for v in missing if "assessments" not in getattr(v, "_prefetched_objects_cache", {})]
    if unfetched:
        prefetch_related_objects(unfetched, "assessments")
    for version in missing:
        assessments = sorted(version.assessments.all(), key=lambda a: (a.created_at, a.id), reverse=True)
        version.latest_assessment = assessments[0] if assessments else None
