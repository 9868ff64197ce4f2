"""Helpers the contract views share: finding a visible contract, mapping domain errors. The list
annotations that keep list pages at a fixed number of queries live in contracts.selectors (the
dashboard panels use them too) and are re-exported here for the views."""

from __future__ import annotations

from django.http import HttpRequest
from django.shortcuts import get_object_or_404

from ..models import Contract, ContractVersion
from ..selectors import attach_latest_assessment, contracts_visible_to, with_latest_values

__all__ = [
    "attach_latest_assessment", "is_htmx", "visible_contract", "visible_version",
    "with_latest_values",
]


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


def is_htmx(request: HttpRequest) -> bool:
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.history_restore_request
