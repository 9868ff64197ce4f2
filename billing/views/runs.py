"""Billing runs: the list with the start form, the detail with its htmx-polled progress (drafts
generated, then invoices issued) and its paged exceptions; *Issue drafts* enqueues a background
task (in-process when Celery is eager) and returns to the run page, which polls its progress."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from otc import dates, errors
from otc.actions import domain_error_response

from .. import services
from ..forms import RunStartForm
from ..models import BillingRun, Invoice
from ..tasks import billing_run_issue_task

ACTIVE = (BillingRun.Status.GENERATING, BillingRun.Status.ISSUING)
ISSUABLE = (BillingRun.Status.GENERATED, BillingRun.Status.ISSUED)
STALLED_AFTER = dt.timedelta(minutes=10)  # issuing with no invoice issued for this long: offer to resume


def _stalled(run: BillingRun) -> bool:
    """Issuing, but nothing issued lately (a worker died on an unexpected error): the drafts can be
    issued again safely, since `billing_run_issue` issues only what is still a draft."""
    if run.status != BillingRun.Status.ISSUING:
        return False
    since = dates.now() - STALLED_AFTER
    issued = Invoice.objects.filter(billing_run=run, issued_at__gte=since).exists()
    return not issued and run.started_at < since


def _may_issue(run: BillingRun) -> bool:
    return run.status in ISSUABLE or _stalled(run)
EXCEPTIONS_PAGE_SIZE = 50


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


def _issuing_since(request: HttpRequest) -> float | None:
    """`?issuing=<epoch seconds>`: when the page enqueued the issue task."""
    try:
        return float(request.GET["issuing"])
    except (KeyError, ValueError):
        return None


def _finished_since(run: BillingRun, since: float) -> bool:
    return run.finished_at is not None and run.finished_at.timestamp() >= since


def _progress_context(run: BillingRun, *, since: float | None = None) -> dict:
    """The generation bar, and once issuing was asked for, the issuing bar: issued / (issued +
    drafts still to issue, i.e. not on hold). One count query, whatever the run's size. `since`:
    the page enqueued the issue task then, so it polls until the run has finished after that
    (a worker may not have picked the task up yet)."""
    percent = int(run.contracts_done * 100 / run.contracts_total) if run.contracts_total else 100
    queued = since is not None and run.status in ISSUABLE and not _finished_since(run, since)
    context = {"run": run, "percent": percent, "queued": queued, "active": run.status in ACTIVE or queued,
               "since": f"{since:.0f}" if since is not None else ""}
    if queued or run.status in (BillingRun.Status.ISSUING, BillingRun.Status.ISSUED):
        to_issue = Invoice.objects.filter(billing_run=run, status=Invoice.Status.DRAFT, on_hold=False).count()
        done = run.invoices_issued
        context.update(issuing=True, to_issue=to_issue,
                       issue_percent=int(done * 100 / (done + to_issue)) if done + to_issue else 100)
    return context


@login_required
@permission_required("billing.view_billingrun", raise_exception=True)
def run_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The run with its progress and its exceptions, paged: a fixed number of queries."""
    run = _run(pk)
    exceptions = run.exceptions.select_related("contract", "customer").order_by("id")
    page_obj = Paginator(exceptions, EXCEPTIONS_PAGE_SIZE).get_page(request.GET.get("page"))
    context = {**_progress_context(run, since=_issuing_since(request)), "page_obj": page_obj,
               "can_issue": request.user.has_perm("billing.start_billing_run") and _may_issue(run),
               "stalled": _stalled(run)}
    return render(request, "billing/run_detail.html", context)


@login_required
@permission_required("billing.view_billingrun", raise_exception=True)
def run_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """The progress partial the detail page polls while the run is generating or issuing."""
    return render(request, "billing/_run_progress.html",
                  _progress_context(_run(pk), since=_issuing_since(request)))


@login_required
@permission_required("billing.view_billingrun", raise_exception=True)
@require_POST
def run_issue_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Enqueue the issuing of the run's drafts and return to the run page, which shows the
    progress. The task calls `billing_run_issue`, which checks the permission and the run's
    state again; with an eager Celery (dev, tests) it runs before the redirect."""
    run = _run(pk)
    if not request.user.has_perm("billing.start_billing_run"):
        raise PermissionDenied("Your role may not issue billing runs.")
    back = reverse("billing:run_detail", args=[run.pk])
    if not _may_issue(run):
        messages.error(request, f"{run} is {run.get_status_display().lower()}: drafts can be issued once "
                                "generation has finished, and not while they are being issued.")
        return redirect(back)
    since = dates.now().timestamp() - 1  # DB timestamps may round down: a second of slack
    try:
        billing_run_issue_task.delay_on_commit(run_id=run.pk, by_id=request.user.pk)
    except errors.DomainError as exc:  # eager mode: the service's refusal surfaces here
        return domain_error_response(request, exc, back)
    run.refresh_from_db()
    if run.status == BillingRun.Status.ISSUED and _finished_since(run, since):  # eager: already done
        messages.success(request, f"{run}: {run.invoices_issued} invoice(s) issued.")
        return redirect(back)
    messages.info(request, f"{run}: issuing the drafts in the background; the progress shows below.")
    return redirect(f"{back}?issuing={since:.0f}")
