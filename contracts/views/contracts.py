"""Contract list, create and edit (draft or changes requested), and the signed PDF."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.db.models import Case, IntegerField, Q, Value, When
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from otc import errors
from otc.listing import sortable, sorted_page

from .. import services
from ..assessment import latest_assessment
from ..forms import ContractFilterForm, ContractForm, apply_contract_errors, line_formset
from ..models import Contract, ContractVersion
from ..selectors import contracts_visible_to
from ._shared import visible_contract, visible_version, with_latest_values

PAGE_SIZE = 50


@login_required
@permission_required("contracts.view_contract", raise_exception=True)
def contract_list(request: HttpRequest) -> HttpResponse:
    """The contracts the user may see, filtered and paged, with the value of their latest version."""
    form = ContractFilterForm(request.GET or None, user=request.user)
    queryset = contracts_visible_to(request.user).select_related("customer", "legal_entity", "sales_owner")
    if form.is_valid():
        data = form.cleaned_data
        if data.get("q"):
            q = data["q"].strip()
            queryset = queryset.filter(Q(number__icontains=q) | Q(title__icontains=q) | Q(crm_opportunity_id__iexact=q)
                                       | Q(crm_opportunity_id__icontains=q))
        if data.get("status"):
            queryset = queryset.filter(status=data["status"])
        for name in ("customer", "legal_entity", "sales_owner"):
            if data.get(name):
                queryset = queryset.filter(**{name: data[name]})
    ranked = with_latest_values(queryset).annotate(risk_rank=Case(
        *(When(highest_severity=severity, then=Value(rank)) for severity, rank in SEVERITY_RANK.items()),
        default=Value(-1), output_field=IntegerField()))
    return sorted_page(request, CONTRACT_SORTS, ranked, "contracts/list.html", {"filter_form": form}, page_size=PAGE_SIZE)


SEVERITY_RANK = {"info": 0, "warning": 1, "high": 2, "blocking": 3}
CONTRACT_SORTS = sortable("contracts:list", {
    "contract": ("number",), "customer": ("customer__legal_name",), "owner": ("sales_owner__username",),
    "status": ("status",), "version": ("latest_version_number",), "risk": ("risk_rank",),
    "term": ("latest_start",), "value": ("latest_currency", "tcv"), "created": ("created_at",),
}, default="-created")


def _save_response(request: HttpRequest, contract) -> HttpResponse:
    version = contract.versions.order_by("-version").first()
    assessment = latest_assessment(version) if version else None
    if assessment is not None:
        counts = {}
        for finding in assessment.findings.all():
            counts[finding.severity] = counts.get(finding.severity, 0) + 1
        if counts:
            summary = ", ".join(f"{n} {sev}" for sev, n in sorted(counts.items(), key=lambda kv: -_rank(kv[0])))
            messages.info(request, f"Assessment: {summary} finding(s). Review them below before you submit.")
    return redirect(reverse("contracts:detail", args=[contract.pk]) + "#findings")


def _rank(severity: str) -> int:
    return SEVERITY_RANK.get(severity, 0)


def _attach_signed_document(version_id: int | None, upload, *, by) -> None:
    """After the draft is saved: a new PDF is attached, False clears it, None leaves it."""
    if upload is None or version_id is None:
        return
    services.contract_document_attach(version_id=version_id, upload=None if upload is False else upload, by=by)


T = TypeVar("T")


def _saved(form: ContractForm, formset: Any, save: Callable[[], T]) -> T | None:
    """Run the save; a refusal goes on the form and its lines (None back), a plain permission
    refusal answers 403."""
    try:
        return save()
    except errors.ValidationFailed as exc:
        apply_contract_errors(form, exc.fields, formset=formset)
        if not exc.fields:
            form.add_error(None, exc.message)
    except errors.PermissionDenied as exc:
        raise PermissionDenied(exc.message) from exc
    except errors.DomainError as exc:
        form.add_error(None, exc.message)
    return None


@login_required
@permission_required("contracts.add_contract", raise_exception=True)
@require_http_methods(["GET", "POST"])
def contract_create_view(request: HttpRequest) -> HttpResponse:
    """A new contract as a draft: header and lines; the assessment runs on save."""
    post = request.POST if request.method == "POST" else None
    form = ContractForm(post, request.FILES or None, user=request.user,
                        initial={"customer": request.GET.get("customer")} if request.GET.get("customer") else None)
    formset = line_formset(post, currency=(post or {}).get("currency"))
    if post is not None:
        if form.is_valid() & formset.is_valid():
            def create() -> Contract:
                contract = services.contract_create(data=form.service_data(), lines=formset.service_data(),
                                                    by=request.user)
                _attach_signed_document(contract.current_version_id, form.signed_upload(), by=request.user)
                return contract

            contract = _saved(form, formset, create)
            if contract is not None:
                messages.success(request, f"Contract {contract.number} saved as a draft.")
                return _save_response(request, contract)
        form.mark_invalid()
        formset.mark_invalid()
    return render(request, "contracts/form.html", {"form": form, "formset": formset, "contract": None})


@login_required
@permission_required("contracts.change_contract", raise_exception=True)
@require_http_methods(["GET", "POST"])
def contract_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Change the latest version while it is a draft or sent back for changes."""
    contract, version = visible_version(request, pk)
    if not request.user.has_perm("contracts.edit_contract", contract):
        raise PermissionDenied("You may not change this contract.")
    if not version.is_editable:
        messages.error(request, f"Version {version.version} is {version.get_status_display().lower()}: "
                                "only a draft or a version sent back for changes can be edited.")
        return redirect("contracts:detail", pk=contract.pk)
    post = request.POST if request.method == "POST" else None
    lines = list(version.lines.select_related("product"))
    form = ContractForm(post, request.FILES or None, user=request.user, contract=contract,
                        amendment=bool(version.amends_id), initial=ContractForm.initial_from(version))
    formset = line_formset(post, currency=(post or {}).get("currency") or version.currency,
                           lines=None if post is not None else lines, extra=0 if lines else 1)
    if post is not None:
        if form.is_valid() & formset.is_valid():
            def update() -> ContractVersion:
                updated = services.contract_version_update(version_id=version.pk, data=form.service_data(),
                                                           lines=formset.service_data(), by=request.user)
                _attach_signed_document(version.pk, form.signed_upload(), by=request.user)
                return updated

            if _saved(form, formset, update) is not None:
                messages.success(request, f"Contract {contract.number} version {version.version} saved.")
                return _save_response(request, contract)
        form.mark_invalid()
        formset.mark_invalid()
    return render(request, "contracts/form.html",
                  {"form": form, "formset": formset, "contract": contract, "version": version})


@login_required
@permission_required("contracts.view_contract", raise_exception=True)
def contract_document(request: HttpRequest, pk: int, version_id: int) -> HttpResponse:
    """The signed PDF of a version, served after the same visibility check as the contract."""
    contract = visible_contract(request, pk)
    version = ContractVersion.objects.filter(contract=contract, pk=version_id).first()
    if version is None or not version.signed_document:
        raise Http404("No signed document.")
    try:
        handle = version.signed_document.open("rb")
    except FileNotFoundError:
        raise Http404("The signed document is missing from storage.")
    return FileResponse(handle, content_type="application/pdf",
                        filename=f"{contract.number}-v{version.version}.pdf")
