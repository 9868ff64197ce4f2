"""The review page and the small POST views behind its buttons: submit, decide, override,
amend, terminate, comment. Each checks visibility (404) and its permission (403) before calling
one service; refusals the service raises come back as messages or 403."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from otc import dates, errors
from otc.actions import domain_error_response
from otc.history import history_rows
from otc.models import StatusChange

from .. import selectors, services
from ..forms import AmendForm, CommentForm, DecisionForm, OverrideForm, TerminateForm
from ..models import Approval, Contract, ContractComment, ContractVersion, Finding
from ..selectors import can_decide, next_level, versions_diff
from ..selectors_terms import policy_values, terms_vs_policy
from ..values import contract_values
from ._shared import is_htmx, visible_contract, visible_version

HUNDRED = Decimal(100)
OPEN_FOR_DECISION = (ContractVersion.Status.SUBMITTED, ContractVersion.Status.IN_REVIEW)


def _detail_url(contract: Contract, version: ContractVersion | None = None) -> str:
    url = reverse("contracts:detail", args=[contract.pk])
    return f"{url}?version={version.pk}" if version is not None else url


def _exposure(assessment) -> dict[str, Any] | None:
    if assessment is None or not assessment.exposure:
        return None
    raw = assessment.exposure
    exposure = {key: Decimal(str(raw[key])) for key in ("credit_limit", "open_ar", "overdue", "contract_first_year")
                if raw.get(key) not in (None, "")}
    exposure["currency"] = raw.get("currency", "")
    exposure["total"] = Decimal(str(raw["total"])) if raw.get("total") not in (None, "") else (
        exposure.get("open_ar", Decimal(0)) + exposure.get("contract_first_year", Decimal(0)))
    exposure["unconverted"] = raw.get("unconverted") or []
    limit = exposure.get("credit_limit") or Decimal(0)
    exposure["utilisation"] = (exposure["total"] / limit * HUNDRED).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP) \
        if limit > 0 else None
    exposure["bar"] = min(int(exposure["utilisation"]), 100) if exposure["utilisation"] is not None else 100
    exposure["state"] = ("high" if exposure["utilisation"] is None or exposure["utilisation"] > HUNDRED
                         else "warning" if exposure["utilisation"] > Decimal(80) else "ok")
    return exposure


def _chain(version: ContractVersion, approvals: list[Approval], required: int, upcoming: int | None) -> list[dict]:
    approved = {a.level: a for a in approvals if a.decision == Approval.Decision.APPROVED and a.voided_at is None}
    chain = []
    for level in range(1, max(required, 1) + 1):
        row = approved.get(level)
        chain.append({
            "level": level, "role": Approval.LEVEL_ROLES.get(level, f"Level {level}"), "approval": row,
            "is_next": row is None and upcoming == level and version.status in OPEN_FOR_DECISION,
        })
    return chain


def _status_history(contract: Contract, versions: list[ContractVersion]) -> list[StatusChange]:
    version_type = ContentType.objects.get_for_model(ContractVersion)
    contract_type = ContentType.objects.get_for_model(Contract)
    labels = {v.pk: f"v{v.version}" for v in versions}
    rows = list(StatusChange.objects.filter(
        Q(content_type=version_type, object_id__in=list(labels)) | Q(content_type=contract_type, object_id=contract.pk)
    ).select_related("by").order_by("-at", "-id")[:100])
    for row in rows:
        row.subject_label = labels.get(row.object_id, "contract") if row.content_type_id == version_type.id else "contract"
    return rows


def _comments(comments: list[ContractComment], versions: list[ContractVersion]) -> list[ContractComment]:
    """Oldest first, each labelled with the version it was written on (no query per comment)."""
    labels = {v.pk: f"v{v.version}" for v in versions}
    for comment in comments:
        comment.version_label = labels.get(comment.version_id, "")
    return sorted(comments, key=lambda c: (c.created_at, c.id))


def _display(value: Any) -> str:
    """A diff value as a person reads it: 12.5000 -> 12.5, True -> yes, None -> —."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Decimal):
        text = f"{value:f}"
        return f"{Decimal(text.rstrip('0').rstrip('.') if '.' in text else text):,f}"
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def review_context(request: HttpRequest, contract: Contract, version: ContractVersion) -> dict[str, Any]:
    """Everything the review page shows for one version. `contract` comes from the
    `contract_detail` selector (versions, lines, approvals, assessments, comments prefetched)."""
    user = request.user
    versions = sorted(contract.versions.all(), key=lambda v: -v.version)
    latest = versions[0] if versions else version
    lines = list(version.lines.all())
    values = contract_values(version, lines)
    assessments = list(version.assessments.all())
    assessment = assessments[0] if assessments else None
    findings = sorted(assessment.findings.all(), key=lambda f: -Finding.RANK.get(f.severity, 0)) if assessment else []
    policy = policy_values(assessment, contract.legal_entity_id)
    approvals = sorted(version.approvals.all(), key=lambda a: (a.decided_at, a.id))
    required = assessment.required_levels if assessment else 1
    upcoming = next_level(version) if version.status in OPEN_FOR_DECISION else None
    has_blocking = any(f.severity == Finding.Severity.BLOCKING for f in findings)
    previous = next((v for v in versions if v.version < version.version), None)
    diff = [(label, _display(old), _display(new)) for label, old, new in versions_diff(previous, version)] \
        if previous is not None else None
    is_latest = version.pk == latest.pk
    show_history = user.has_perm("otc.view_audit_trail")
    may_edit = user.has_perm("contracts.edit_contract", contract)
    open_amendment = latest.pk != (contract.current_version_id or latest.pk) and latest.status not in (
        "rejected", "superseded", "expired", "terminated")
    return {
        "contract": contract, "version": version, "versions": versions, "is_latest": is_latest,
        "lines": lines, "values": values, "assessment": assessment, "findings": findings,
        "policy": policy, "terms": terms_vs_policy(
            version, assessment=assessment, findings=findings, lines=lines, policy=policy, values=values,
            customer=contract.customer, on=timezone.localdate(assessment.created_at) if assessment else dates.today()),
        "exposure": _exposure(assessment), "approvals": approvals,
        "chain": _chain(version, approvals, required, upcoming), "required_levels": required,
        "next_level": upcoming, "next_role": Approval.LEVEL_ROLES.get(upcoming) if upcoming else None,
        "previous": previous, "diff": diff,
        "comments": _comments(list(contract.comments.all()), versions),
        "comment_form": CommentForm(initial={"version_id": version.pk}),
        "can_comment": user.has_perm("contracts.add_contractcomment"),
        "can_decide": is_latest and version.status in OPEN_FOR_DECISION and can_decide(user, version),
        "decision_form": DecisionForm(),
        "can_submit": (is_latest and version.is_editable and user.has_perm("contracts.submit_contract")
                       and may_edit),
        "can_edit": is_latest and version.is_editable and user.has_perm("contracts.change_contract") and may_edit,
        "can_override": (is_latest and has_blocking and not version.override_by_id and version.status in OPEN_FOR_DECISION
                         and user.has_perm("contracts.override_blocking_finding")),
        "override_form": OverrideForm(),
        "has_blocking": has_blocking,
        "can_amend": (contract.status == Contract.Status.ACTIVE and not open_amendment
                      and user.has_perm("contracts.change_contract") and may_edit),
        "amend_form": AmendForm(),
        "can_terminate": (contract.status in (Contract.Status.ACTIVE, Contract.Status.APPROVED)
                          and user.has_perm("contracts.terminate_contract")),
        "terminate_form": TerminateForm(),
        "status_history": _status_history(contract, versions),
        "show_history": show_history,
        "history": history_rows(version) if show_history else [],
        "contract_history": history_rows(contract) if show_history else [],
    }


@login_required
@permission_required("contracts.view_contract", raise_exception=True)
def contract_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The review page: terms against the policy, values, findings, exposure, the approval
    chain, versions and their diff, comments, and the buttons the user may press."""
    try:
        contract = selectors.contract_detail(pk, request.user)
    except Contract.DoesNotExist:
        raise Http404("No such contract.")
    versions = {v.pk: v for v in contract.versions.all()}
    if not versions:
        raise Http404("This contract has no version.")
    version_id = request.GET.get("version")
    if (version_id or "").isdigit():
        version = versions.get(int(version_id))
        if version is None:
            raise Http404("No such version.")
    else:
        version = max(versions.values(), key=lambda v: v.version)
    for item in versions.values():
        item.contract = contract
    return render(request, "contracts/detail.html", review_context(request, contract, version))


def _open_version(request: HttpRequest, pk: int) -> tuple[Contract, ContractVersion]:
    version_id = request.POST.get("version_id")
    return visible_version(request, pk, int(version_id) if (version_id or "").isdigit() else None)


@login_required
@require_POST
@permission_required("contracts.submit_contract", raise_exception=True)
def contract_submit_view(request: HttpRequest, pk: int) -> HttpResponse:
    contract, version = _open_version(request, pk)
    if not request.user.has_perm("contracts.edit_contract", contract):
        raise PermissionDenied("You may not submit this contract.")
    try:
        services.contract_submit(version_id=version.pk, by=request.user)
    except errors.DomainError as exc:
        return domain_error_response(request, exc, _detail_url(contract), with_fields=True)
    messages.success(request, f"{contract.number} version {version.version} submitted for review.")
    return redirect(_detail_url(contract))


@login_required
@require_POST
@permission_required("contracts.review_contract", raise_exception=True)
def contract_decide_view(request: HttpRequest, pk: int) -> HttpResponse:
    contract, version = _open_version(request, pk)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        for field_errors in form.errors.values():
            for error in field_errors:
                messages.error(request, error)
        return redirect(_detail_url(contract) + "#decision")
    decision = form.cleaned_data["decision"]
    level, required = next_level(version), selectors.required_levels(version)
    try:
        services.contract_decide(version_id=version.pk, by=request.user, decision=decision,
                                 comment=form.cleaned_data["comment"].strip())
    except errors.DomainError as exc:
        return domain_error_response(request, exc, _detail_url(contract), with_fields=True)
    messages.success(request, _decision_message(contract, version, decision, level, required))
    return redirect(_detail_url(contract))


def _decision_message(contract: Contract, version: ContractVersion, decision: str, level: int | None,
                      required: int) -> str:
    """What the decision did, in words: which level of how many, and what comes next."""
    version.refresh_from_db(fields=["status"])
    name = f"{contract.number} version {version.version}"
    of = f"level {level} of {required} ({Approval.LEVEL_ROLES.get(level, 'reviewer')})" if level else "the review"
    if decision == "rejected":
        return f"{name} rejected at {of}."
    if decision == "changes_requested":
        return f"{name} sent back for changes at {of}; the sales rep amends and resubmits it, and review starts again at level 1."
    if version.status in (ContractVersion.Status.SUBMITTED, ContractVersion.Status.IN_REVIEW):
        following = next_level(version)
        role = Approval.LEVEL_ROLES.get(following, "next approver")
        return (f"{name}: {of} approved. It stays in review until level {following} of {required}: "
                f"a {role}'s approval.")
    state = version.get_status_display().lower()
    return f"{name}: {of} approved, the last level required; the version is now {state}."


@login_required
@require_POST
@permission_required("contracts.override_blocking_finding", raise_exception=True)
def contract_override_view(request: HttpRequest, pk: int) -> HttpResponse:
    contract, version = _open_version(request, pk)
    form = OverrideForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(form.errors.get("reason", ["Write the reason for the override."])))
        return redirect(_detail_url(contract) + "#override")
    try:
        services.contract_override_blocking(version_id=version.pk, by=request.user,
                                            reason=form.cleaned_data["reason"].strip())
    except errors.DomainError as exc:
        return domain_error_response(request, exc, _detail_url(contract), with_fields=True)
    messages.success(request, "Blocking finding overridden; the Controller's approval is now required too.")
    return redirect(_detail_url(contract))


@login_required
@require_POST
@permission_required("contracts.change_contract", raise_exception=True)
def contract_amend_view(request: HttpRequest, pk: int) -> HttpResponse:
    contract = visible_contract(request, pk)
    if not request.user.has_perm("contracts.edit_contract", contract):
        raise PermissionDenied("You may not amend this contract.")
    form = AmendForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give the date from which the amendment applies.")
        return redirect(_detail_url(contract) + "#amend")
    try:
        amendment = services.contract_amend(contract_id=contract.pk, by=request.user,
                                            effective_date=form.cleaned_data["effective_date"])
    except errors.DomainError as exc:
        return domain_error_response(request, exc, _detail_url(contract), with_fields=True)
    messages.success(request, f"Version {amendment.version} drafted: change the terms, then submit it for review.")
    return redirect("contracts:edit", pk=contract.pk)


@login_required
@require_POST
@permission_required("contracts.terminate_contract", raise_exception=True)
def contract_terminate_view(request: HttpRequest, pk: int) -> HttpResponse:
    contract = visible_contract(request, pk)
    form = TerminateForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give the termination date and the reason.")
        return redirect(_detail_url(contract) + "#terminate")
    try:
        services.contract_terminate(contract_id=contract.pk, by=request.user, on=form.cleaned_data["on"],
                                    reason=form.cleaned_data["reason"].strip())
    except errors.DomainError as exc:
        return domain_error_response(request, exc, _detail_url(contract), with_fields=True)
    messages.success(request, f"{contract.number} terminated as of {form.cleaned_data['on']:%Y-%m-%d}.")
    return redirect(_detail_url(contract))


@login_required
@require_POST
@permission_required("contracts.add_contractcomment", raise_exception=True)
def contract_comment_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Add a comment; htmx gets the refreshed thread, a plain POST is redirected back."""
    contract = visible_contract(request, pk)
    form = CommentForm(request.POST)
    version_id = None
    if form.is_valid():
        version_id = form.cleaned_data.get("version_id")
        if version_id and not contract.versions.filter(pk=version_id).exists():
            version_id = None
        try:
            services.contract_comment_add(contract_id=contract.pk, by=request.user,
                                          body=form.cleaned_data["body"].strip(), version_id=version_id)
        except errors.DomainError as exc:
            if type(exc) is errors.PermissionDenied:
                raise PermissionDenied(exc.message)
            form.add_error("body", exc.message)
        else:
            form = CommentForm(initial={"version_id": version_id})
    if not is_htmx(request):
        if form.errors:
            messages.error(request, " ".join(e for errs in form.errors.values() for e in errs))
        return redirect(_detail_url(contract) + "#comments")
    context = {
        "contract": contract, "comment_form": form, "can_comment": True,
        "comments": _comments(list(ContractComment.objects.filter(contract=contract).select_related("author")),
                              list(contract.versions.only("id", "version", "contract_id"))),
    }
    return render(request, "contracts/_comments.html", context)
