"""Billing runs: the list with the start form, the detail with its htmx-polled progress (drafts
generated, then invoices issued), its drafts with totals by entity and currency, and its paged
exceptions. *Issue drafts* first shows a confirmation of what will happen (counts, totals by
entity and currency, how the invoices will be delivered); confirming enqueues a background task
and returns to the run page, which polls its progress. With an eager Celery (the embedded demo)
the task runs in a background thread instead, so the page answers at once there too
(`OTC_EAGER_TASKS_IN_THREAD`; off in tests, which want the work done when the view returns)."""

from __future__ import annotations

import datetime as dt
import threading

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import close_old_connections, connection, transaction
from django.db.models import BooleanField, Case, Value, When
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from ledger.selectors import list_totals
from otc import dates, errors
from otc.actions import domain_error_response
from otc.listing import sortable, sorted_page

from .. import services
from ..forms import RunStartForm
from ..models import BillingRun, Invoice
from ..selectors import (
    run_documents_progress,
    run_draft_totals,
    run_invoices,
    run_issue_preview,
    runs_with_invoiced,
)
from ..services.run import INFO_CODES
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


def _issuable_count(run: BillingRun) -> int:
    return Invoice.objects.filter(billing_run=run, status=Invoice.Status.DRAFT, on_hold=False).count()


EXCEPTIONS_PAGE_SIZE = 50
DRAFTS_PAGE_SIZE = 25


def _run(pk: int) -> BillingRun:
    return get_object_or_404(BillingRun.objects.select_related("legal_entity", "started_by"), pk=pk)


@login_required
@permission_required("billing.view_billingrun", raise_exception=True)
def run_list(request: HttpRequest) -> HttpResponse:
    form = RunStartForm(initial={"period": RunStartForm.default_period()})
    return sorted_page(request, RUN_SORTS, BillingRun.objects.select_related("legal_entity", "started_by"),
                       "billing/run_list.html", {"start_form": form}, hydrate=runs_with_invoiced,
                       totals=lambda runs: list_totals(run_invoices(runs), gross="gross_total"))


RUN_SORTS = sortable("billing:runs", {
    "run": ("id",), "period": ("period_start",), "entity": ("legal_entity__code",), "status": ("status",),
    "contracts": ("contracts_total",), "drafts": ("invoices_created",), "issued": ("invoices_issued",),
    "skipped": ("skipped",), "exceptions": ("exceptions_count",), "started": ("started_at",),
}, default="-period")
DRAFT_SORTS = sortable("billing:run_detail", {
    "draft": ("id",), "entity": ("legal_entity__code", "currency"), "customer": ("customer__legal_name",),
    "period": ("service_start",), "hold": ("on_hold",), "gross": ("currency", "gross_total"),
}, default="entity", param="drafts_sort", page_param="drafts_page")


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
               "since": f"{since:.0f}" if since is not None else "",
               "informational_count": run.exceptions.filter(code__in=INFO_CODES).count()}
    if queued or run.status in (BillingRun.Status.ISSUING, BillingRun.Status.ISSUED):
        to_issue = Invoice.objects.filter(billing_run=run, status=Invoice.Status.DRAFT, on_hold=False).count()
        done = run.invoices_issued
        context.update(issuing=True, to_issue=to_issue,
                       issue_percent=int(done * 100 / (done + to_issue)) if done + to_issue else 100)
    if run.status == BillingRun.Status.ISSUED and run.invoices_issued:
        # The month-end goes on after issuing: PDFs, e-mails, portal uploads; poll until done.
        documents = run_documents_progress(run_id=run.pk)
        context.update(documents=documents, documents_percent=int(documents["done"] * 100 / documents["issued"])
                       if documents["issued"] else 100)
        if run.documents_done_at is None:
            context["active"] = True
    return context


@login_required
@permission_required("billing.view_billingrun", raise_exception=True)
def run_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The run with its progress, its drafts (paged, with totals by entity and currency) and its
    exceptions (paged, those needing attention first): a fixed number of queries."""
    run = _run(pk)
    exceptions = run.exceptions.select_related("contract", "customer").annotate(
        informational=Case(When(code__in=INFO_CODES, then=Value(True)), default=Value(False),
                           output_field=BooleanField())).order_by("informational", "id")
    page_obj = Paginator(exceptions, EXCEPTIONS_PAGE_SIZE).get_page(request.GET.get("page"))
    drafts = Invoice.objects.filter(billing_run=run, status=Invoice.Status.DRAFT).select_related("customer", "legal_entity")
    to_issue = _issuable_count(run)
    context = {**_progress_context(run, since=_issuing_since(request)), "page_obj": page_obj,
               "draft_totals": run_draft_totals(run_id=run.pk),
               "to_issue_now": to_issue,
               "can_issue": request.user.has_perm("billing.start_billing_run") and _may_issue(run) and to_issue > 0,
               "stalled": _stalled(run)}
    return sorted_page(request, DRAFT_SORTS, drafts, "billing/run_detail.html", context, page_size=DRAFTS_PAGE_SIZE,
                       page_name="drafts_page")


@login_required
@permission_required("billing.view_billingrun", raise_exception=True)
def run_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """The progress partial the detail page polls while the run is generating or issuing."""
    return render(request, "billing/_run_progress.html",
                  _progress_context(_run(pk), since=_issuing_since(request)))


def _issue_in_thread(run_id: int, by_id: int) -> None:
    """The embedded mode's background worker for one run's issue (see the module docstring)."""
    close_old_connections()
    try:
        billing_run_issue_task(run_id=run_id, by_id=by_id)
    except Exception:  # noqa: BLE001 - the run records failures; the page shows the run's state
        import logging

        logging.getLogger(__name__).exception("Issuing billing run %s failed", run_id)
    finally:
        connection.close()


@login_required
@permission_required("billing.view_billingrun", raise_exception=True)
@require_http_methods(["GET", "POST"])
def run_issue_view(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: the confirmation (what will be issued, totals by entity and currency, how it will be
    delivered). POST: enqueue the issuing of the run's drafts and return to the run page, which
    shows the progress. The task calls `billing_run_issue`, which checks the permission and the
    run's state again."""
    run = _run(pk)
    if not request.user.has_perm("billing.start_billing_run"):
        raise PermissionDenied("Your role may not issue billing runs.")
    back = reverse("billing:run_detail", args=[run.pk])
    if not _may_issue(run):
        messages.error(request, f"{run} is {run.get_status_display().lower()}: drafts can be issued once "
                                "generation has finished, and not while they are being issued.")
        return redirect(back)
    to_issue = _issuable_count(run)
    if to_issue == 0:  # e.g. a second click after everything was issued: say so, count nothing
        held = Invoice.objects.filter(billing_run=run, status=Invoice.Status.DRAFT, on_hold=True).count()
        messages.info(request, f"{run}: nothing to issue." + (
            f" {held} draft(s) are on hold: release them first." if held else " Every draft has been issued."))
        return redirect(back)
    if request.method == "GET":
        return render(request, "billing/run_issue_confirm.html", {"run": run, **run_issue_preview(run_id=run.pk)})
    since = dates.now().timestamp() - 1  # DB timestamps may round down: a second of slack
    issued_before = run.invoices_issued
    if settings.CELERY_TASK_ALWAYS_EAGER and getattr(settings, "OTC_EAGER_TASKS_IN_THREAD", False):
        user_id = request.user.pk
        transaction.on_commit(lambda: threading.Thread(
            target=_issue_in_thread, args=(run.pk, user_id), name=f"issue-run-{run.pk}", daemon=True).start())
    else:
        try:
            billing_run_issue_task.delay_on_commit(run_id=run.pk, by_id=request.user.pk)
        except errors.DomainError as exc:  # eager mode: the service's refusal surfaces here
            return domain_error_response(request, exc, back)
    run.refresh_from_db()
    if run.status == BillingRun.Status.ISSUED and _finished_since(run, since):  # eager: already done
        issued = run.invoices_issued - issued_before
        messages.success(request, f"{run}: {issued} invoice(s) issued" + (f"; {run.error}" if run.error else "."))
        return redirect(back)
    messages.info(request, f"{run}: issuing {to_issue} draft(s) in the background; the progress shows below.")
    return redirect(f"{back}?issuing={since:.0f}")
