"""Statement import: upload a file (format recognised from its content; a CSV file gets a column
mapping from a preset with overrides), see what it made, and the list of past imports."""

from __future__ import annotations

import hashlib
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from ledger.selectors import list_totals
from otc import errors
from otc.listing import sortable, sorted_page

from ..forms import CSV_PRESETS, StatementUploadForm
from ..models import BankStatement, Receipt, StatementImport
from ..parsers import detect_format, parse_statement
from ..selectors import import_receipts, imports_with_received, statement_imports
from ..services import statement_import, statement_import_start
from ._common import IMPORT

PAGE_SIZE = 25
MAX_BYTES = 20 * 1024 * 1024
RECEIPTS_SHOWN = 500
PREVIEW_ROWS = 10
BACKGROUND_LINES = 2_000  # files with more lines are imported by a Celery job with a progress bar
PREVIEW_SECONDS = 30 * 60


def summary(run: StatementImport) -> str:
    return (f"{run.file_name}: {run.receipts_created} receipt{'s' if run.receipts_created != 1 else ''} recorded, "
            f"{run.auto_applied} applied automatically, {run.duplicates_skipped} duplicate"
            f"{'s' if run.duplicates_skipped != 1 else ''} skipped, {run.debits_skipped} debit"
            f"{'s' if run.debits_skipped != 1 else ''} (money out) not recorded.")


def _file(request: HttpRequest, form: StatementUploadForm) -> tuple[bytes, str] | None:
    """The uploaded bytes and name, or the previewed file kept under the form's token."""
    upload = form.cleaned_data.get("file")
    if upload is None:
        kept = cache.get(_cache_key(request, form.cleaned_data.get("token") or ""))
        if kept is None:
            form.add_error("file", "The previewed file is no longer kept: choose it again.")
        return kept
    if upload.size > MAX_BYTES:
        form.add_error("file", f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB.")
        return None
    return upload.read(), upload.name


def _cache_key(request: HttpRequest, token: str) -> str:
    return f"receivables:statement-preview:{request.user.pk}:{token}"


def _mapping(form: StatementUploadForm, data: bytes):
    """(is it a CSV, its mapping); a CSV without a bank account chosen is refused on the form."""
    kind = form.cleaned_data.get("format") or None
    is_csv = (kind or detect_format(data)) == "csv"
    if is_csv and form.cleaned_data.get("bank_account") is None:
        form.add_error("bank_account", "A CSV statement does not name its account: choose the bank account.")
        return None
    return is_csv, form.csv_mapping() if is_csv else None


def _preview(request: HttpRequest, form: StatementUploadForm) -> dict[str, Any] | None:
    """Parse without importing: what the file holds as the import would read it; the file is kept
    (30 minutes, this user) so that Import needs no second upload."""
    found = _file(request, form)
    if found is None:
        return None
    data, name = found
    try:
        shape = _mapping(form, data)
        if shape is None:
            return None
        statements = parse_statement(data, format=form.cleaned_data.get("format") or None, csv_mapping=shape[1])
    except errors.DomainError as exc:
        form.add_error(None, exc.message)
        return None
    token = hashlib.sha256(data).hexdigest()[:32]
    cache.set(_cache_key(request, token), (data, name), PREVIEW_SECONDS)
    form.data = form.data.copy()
    form.data["token"] = token
    return {"file_name": name, "token": token, "mapping": shape[1], "statements": [{
        "statement": s, "credits": sum(1 for tx in s.transactions if tx.amount > 0),
        "debits": sum(1 for tx in s.transactions if tx.amount <= 0),
        "with_payer": sum(1 for tx in s.transactions if tx.payer_name or tx.payer_account),
        "rows": s.transactions[:PREVIEW_ROWS]} for s in statements]}


def _import(request: HttpRequest, form: StatementUploadForm) -> StatementImport | None:
    """Read the file, add the CSV mapping when it is a CSV, call the service; refusals land on the form."""
    found = _file(request, form)
    if found is None:
        return None
    data, name = found
    kind = form.cleaned_data.get("format") or None
    try:
        shape = _mapping(form, data)
        if shape is None:
            return None
        if data.count(b"\n") > BACKGROUND_LINES:  # a large file must not hold the request: a Celery job
            return statement_import_start(data=data, file_name=name, by=request.user, format=kind,
                                          csv_mapping=shape[1])
        return statement_import(data=data, file_name=name, by=request.user, format=kind, csv_mapping=shape[1])
    except errors.PermissionDenied as exc:
        raise PermissionDenied(exc.message)
    except errors.DomainError as exc:  # malformed (naming the line), duplicate file, unknown account
        form.add_error(None, exc.message)
    return None


@login_required
@permission_required("receivables.view_statementimport", raise_exception=True)
@require_http_methods(["GET", "POST"])
def import_list(request: HttpRequest) -> HttpResponse:
    can_import = request.user.has_perm(IMPORT)
    form = StatementUploadForm(request.POST or None, request.FILES or None) if can_import else None
    if request.method == "POST":
        if not can_import:
            raise PermissionDenied("Your role may not import bank statements.")
        preview = None
        if form.is_valid() and request.POST.get("action") == "preview":
            preview = _preview(request, form)
        elif form.is_valid() and (run := _import(request, form)) is not None:
            if run.status == StatementImport.Status.DONE:
                messages.success(request, summary(run))
            return redirect("receivables:import_detail", pk=run.pk)
    else:
        preview = None
    return sorted_page(request, IMPORT_SORTS, statement_imports(), "receivables/imports.html", {
        "form": form, "presets": CSV_PRESETS, "preview": preview}, page_size=PAGE_SIZE, hydrate=imports_with_received,
        totals=lambda imports: list_totals(import_receipts(imports), gross="amount"))


IMPORT_SORTS = sortable("receivables:imports", {
    "file": ("file_name",), "format": ("format",), "imported": ("imported_at",), "receipts": ("receipts_created",),
    "auto_applied": ("auto_applied",), "duplicates": ("duplicates_skipped",), "debits": ("debits_skipped",),
}, default="-imported")


@login_required
@permission_required("receivables.view_statementimport", raise_exception=True)
def import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    run = get_object_or_404(StatementImport.objects.select_related("imported_by"), pk=pk)
    statements = list(BankStatement.objects.filter(statement_import=run).select_related("bank_account")
                      .annotate(receipt_count=Count("receipts")).order_by("id"))
    receipts = list(Receipt.objects.filter(statement__statement_import=run).select_related("customer")
                    .order_by("value_date", "id")[:RECEIPTS_SHOWN])
    return render(request, "receivables/import_detail.html",
                  {"run": run, "statements": statements, "receipts": receipts, "shown": RECEIPTS_SHOWN,
                   **_progress(run)})


def _progress(run: StatementImport) -> dict[str, Any]:
    working = run.status in (StatementImport.Status.QUEUED, StatementImport.Status.IMPORTING,
                             StatementImport.Status.MATCHING)
    percent = (int(run.receipts_matched * 100 / run.receipts_created) if run.receipts_created else 0) \
        if run.status == StatementImport.Status.MATCHING else (100 if not working else 0)
    return {"working": working, "percent": percent}


@login_required
@permission_required("receivables.view_statementimport", raise_exception=True)
def import_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """The progress partial the import page polls while a background import runs (one query)."""
    run = get_object_or_404(StatementImport, pk=pk)
    response = render(request, "receivables/_import_progress.html", {"run": run, **_progress(run)})
    if not _progress(run)["working"]:
        response["HX-Refresh"] = "true"  # done: reload the page with its statements and receipts
    return response


__all__ = ["import_detail", "import_list", "import_progress"]
