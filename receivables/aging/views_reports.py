"""/receivables/reports/: the monthly AR report packs, the button that generates one, downloads."""

from __future__ import annotations

import datetime as dt
import hashlib

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST

from otc import dates
from otc.errors import DomainError
from otc.listing import sortable, sorted_page

from ..models import ArReportPack
from .exports import XLSX
from .reports import GENERATE, ar_report_generate

VIEW_AGING = "receivables.view_aging"


@login_required
@permission_required(VIEW_AGING, raise_exception=True)
def report_packs(request: HttpRequest) -> HttpResponse:
    packs = ArReportPack.objects.defer("pdf", "xlsx").select_related("generated_by")
    last_month = dates.today().replace(day=1) - dt.timedelta(days=1)
    return sorted_page(request, PACK_SORTS, packs, "receivables/aging/reports.html", {
        "last_month": last_month, "can_generate": request.user.has_perm(GENERATE),
    }, page_size=36)


PACK_SORTS = sortable("receivables:ar_reports", {
    "month": ("month",), "generated": ("generated_at",), "by": ("generated_by__username",), "emailed": ("emailed_at",),
}, default="-month")


@login_required
@permission_required(GENERATE, raise_exception=True)
@require_POST
def report_pack_generate(request: HttpRequest) -> HttpResponse:
    try:
        month = dt.date.fromisoformat((request.POST.get("month") or "") + "-01")
    except ValueError:
        messages.error(request, "Choose the month as YYYY-MM.")
        return redirect("receivables:ar_reports")
    try:
        pack = ar_report_generate(month=month, by=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"The AR report pack for {pack.month:%Y-%m} was generated"
                                  f".")
    return redirect("receivables:ar_reports")


@login_required
@permission_required(VIEW_AGING, raise_exception=True)
def report_pack_download(request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
    pack = get_object_or_404(ArReportPack, pk=pk)
    label = pack.month.strftime("%Y-%m")
    if fmt == "pdf":
        data = bytes(pack.pdf)
        if hashlib.sha256(data).hexdigest() != pack.pdf_sha256:
            raise DomainError("The stored PDF does not match its SHA-256; regenerate the pack.")
        response = HttpResponse(data, content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="ar-report-{label}.pdf"'
    else:
        response = HttpResponse(bytes(pack.xlsx), content_type=XLSX)
        response["Content-Disposition"] = f'attachment; filename="ar-report-{label}.xlsx"'
    return response
