"""Billing runs: the list with the start form, the detail with its htmx-polled progress, issuing."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from otc import errors

from .. import services
from ..models import BillingRun
from ._shared import domain_error_response
from .forms import RunStartForm

ACTIVE = (BillingRun.Status.GENERATING, BillingRun.Status.ISSUING)


def _run(pk: int) -> BillingRun:
    return get_object_or_404(BillingRun.objects.select_related("legal_entity", "started_by"), pk=pk)


@login_required
@permission_required("billing.view_billingrun", raise_exception=True)
def run_list(request: HttpRequest) -> HttpResponse:
    runs = BillingRun.objects.select_related("legal_entity", "started_by").order_by("-period_start", "-id")
    page_obj = Paginator(runs, 50).get_page(request.GET.get("page"))
    form = RunStartForm(initial={"period": RunStartForm.default_period()})
    return render(request, "billing/run_list.html", {"page_obj": page_obj, "start_form": form})


@login_required
@permission_required("billing.view_billingrun", raise_exception=True)
@require_POST
def run_start_view(request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm("billing.start_billing_run"):
        raise PermissionDenied("Your role may not start billing runs.")
    form = RunStartForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose the month to bill.")
        return redirect("billing:runs")
    try:
        run = services.billing_run_start(period_start=form.cleaned_data["period"], by=request.user)
    except errors.DomainError as exc:
        return domain_error_response(request, exc, reverse("billing:runs"))
    messages.success(request, f"{run} started: {run.contracts_total} contract(s) to bill.")
    return redirect("billing:run_detail", pk=run.pk)


def _progress_context(run: BillingRun) -> dict:
    percent = int(run.contracts_done * 100 / run.contracts_total) if run.contracts_total else 100
    return {"run": run, "percent": percent, "active": run.status in ACTIVE}


@login_required
@permission_required("billing.view_billingrun", raise_exception=True)
def run_detail(request: HttpRequest, pk: int) -> HttpResponse:
    run = _run(pk)
    exceptions = list(run.exceptions.select_related("contract", "customer").order_by("id")[:500])
    context = {**_progress_context(run), "exceptions": exceptions}
    return render(request, "billing/run_detail.html", context)


@login_required
@permission_required("billing.view_billingrun", raise_exception=True)
def run_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """The progress partial the detail page polls while the run is generating or issuing."""
    return render(request, "billing/_run_progress.html", _progress_context(_run(pk)))


@login_required
@permission_required("billing.view_billingrun", raise_exception=True)
@require_POST
def run_issue_view(request: HttpRequest, pk: int) -> HttpResponse:
    run = _run(pk)
    if not request.user.has_perm("billing.start_billing_run"):
        raise PermissionDenied("Your role may not issue billing runs.")
    back = reverse("billing:run_detail", args=[run.pk])
    try:
        run = services.billing_run_issue(run_id=run.pk, by=request.user)
    except errors.DomainError as exc:
        return domain_error_response(request, exc, back)
    messages.success(request, f"{run}: {run.invoices_issued} invoice(s) issued.")
    return redirect(back)
