"""Helpers the contract views share: finding a visible contract, mapping domain errors, the
list annotations that keep list pages at a fixed number of queries."""

from __future__ import annotations

from typing import Any

from django.db.models import OuterRef, QuerySet, Subquery, prefetch_related_objects
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404

from otc import actions, errors

from ..models import Assessment, Contract, ContractVersion
from ..selectors import contracts_visible_to


def visible_contract(request: HttpRequest, pk: int) -> Contract:
    """The contract if the user may see it; 404 otherwise (never reveal another rep's contract)."""
    queryset = contracts_visible_to(request.user).select_related(
        "customer", "customer__sales_owner", "legal_entity", "sales_owner", "created_by", "current_version")
    return get_object_or_404(queryset, pk=pk)


def visible_version(request: HttpRequest, pk: int, version_id: int | None = None) -> tuple[Contract, ContractVersion]:
    """A contract and one of its versions (the given one, else the latest), or 404."""
    contract = visible_contract(request, pk)
    versions = contract.versions.select_related("submitted_by", "override_by", "created_by", "amends")
    version = versions.filter(pk=version_id).first() if version_id else versions.order_by("-version").first()
    if version is None:
        from django.http import Http404

        raise Http404("No such version.")
    version.contract = contract
    return contract, version


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


def domain_error_response(request: HttpRequest, exc: errors.DomainError, back: str) -> HttpResponse:
    """otc.actions.domain_error_response with the field details (contracts' are sentences)."""
    return actions.domain_error_response(request, exc, back, with_fields=True)


def is_htmx(request: HttpRequest) -> bool:
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.history_restore_request


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
