"""Aging snapshots: the runs with their progress (htmx refresh while running), start one, resume
a failed one."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.db.models import Count, Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from otc import dates
from otc.errors import DomainError
from otc.listing import sortable, sorted_page

from ..models import AgingSnapshot, AgingSnapshotRun
from .services import aging_snapshot_resume, aging_snapshot_start

VIEW_AGING = "receivables.view_aging"
RUN = "receivables.run_aging_snapshot"


@login_required
@permission_required(VIEW_AGING, raise_exception=True)
def snapshot_runs(request: HttpRequest) -> HttpResponse:
    published = (AgingSnapshot.objects.filter(status=AgingSnapshot.Status.COMPLETE).select_related("legal_entity")
                 .annotate(line_count=Count("lines")))
    return sorted_page(request, SNAPSHOT_RUN_SORTS, AgingSnapshotRun.objects.select_related("started_by"),
                       "receivables/aging/snapshots.html", {
                           "yesterday": dates.today() - dt.timedelta(days=1), "can_run": request.user.has_perm(RUN),
                       }, page_size=25, also={"published": (PUBLISHED_SORTS, published)})


SNAPSHOT_RUN_SORTS = sortable("receivables:aging_snapshots", {
    "run": ("id",), "as_of": ("as_of",), "trigger": ("trigger",), "status": ("status",), "started": ("started_at",),
}, default="-started")
PUBLISHED_SORTS = sortable("receivables:aging_snapshots", {
    "as_of": ("as_of", "legal_entity__code"), "entity": ("legal_entity__code", "-as_of"), "lines": ("line_count",),
    "frozen": ("frozen_at",),
}, default="-as_of", table="published", param="published_sort", page_param="published_page",
    export_param="published_export")


@login_required
@permission_required(VIEW_AGING, raise_exception=True)
def snapshot_run(request: HttpRequest, pk: int) -> HttpResponse:
    run = get_object_or_404(AgingSnapshotRun.objects.select_related("started_by"), pk=pk)
    snapshots = (run.snapshots.select_related("legal_entity")
                 .annotate(chunks_total=Count("chunks", distinct=True), lines_total=Sum("chunks__lines")).order_by("legal_entity__code"))
    template = "receivables/aging/_run_progress.html" if request.headers.get("HX-Request") else "receivables/aging/snapshot_run.html"
    return render(request, template, {"run": run, "snapshots": snapshots, "can_run": request.user.has_perm(RUN)})


@login_required
@permission_required(RUN, raise_exception=True)
@require_POST
def snapshot_start(request: HttpRequest) -> HttpResponse:
    try:
        as_of = dt.date.fromisoformat(request.POST.get("as_of") or "") if request.POST.get("as_of") else None
    except ValueError:
        messages.error(request, "Give the as-of date as YYYY-MM-DD.")
        return redirect("receivables:aging_snapshots")
    try:
        run = aging_snapshot_start(as_of=as_of, by=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("receivables:aging_snapshots")
    return redirect("receivables:aging_snapshot_run", pk=run.pk)


@login_required
@permission_required(RUN, raise_exception=True)
@require_POST
def snapshot_resume(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        aging_snapshot_resume(run_id=pk, by=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("receivables:aging_snapshot_run", pk=pk)
