from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from otc import errors
from otc.listing import sortable, sorted_page

from .. import services
from ..forms import CustomerImportForm
from ..models import CustomerImport


@login_required
@permission_required("customers.import_customers", raise_exception=True)
@require_http_methods(["GET", "POST"])
def customer_import(request: HttpRequest) -> HttpResponse:
    """Upload a spreadsheet; the preview page shows what would change before anything is written."""
    form = CustomerImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            result = services.customers_import_preview(file_name=upload.name, content=upload.read(), by=request.user)
        except errors.ValidationFailed as exc:
            form.add_error("file", exc.message)
        else:
            return redirect("customers:import_preview", pk=result.pk)
    recent = CustomerImport.objects.select_related("created_by").defer("content", "rows")
    return sorted_page(request, IMPORT_SORTS, recent, "customers/import_upload.html", {"form": form}, page_size=10)


IMPORT_SORTS = sortable("customers:import", {
    "upload": ("id",), "file": ("file_name",), "uploaded": ("created_at",), "by": ("created_by__username",),
    "rows": ("total_rows",), "changes": ("changed_rows",), "errors": ("error_rows",), "status": ("status",),
}, default="-uploaded")


@login_required
@permission_required("customers.import_customers", raise_exception=True)
def customer_import_preview(request: HttpRequest, pk: int) -> HttpResponse:
    upload = get_object_or_404(CustomerImport.objects.select_related("created_by", "applied_by").defer("content"), pk=pk)
    rows = upload.rows
    show = request.GET.get("show", "all")
    if show == "errors":
        rows = [r for r in rows if r["errors"]]
    elif show == "changes":
        rows = [r for r in rows if r["changes"]]
    return render(request, "customers/import_preview.html", {"upload": upload, "rows": rows, "show": show})


@login_required
@permission_required("customers.import_customers", raise_exception=True)
@require_POST
def customer_import_apply(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        upload = services.customers_import_apply(import_id=pk, by=request.user)
    except (errors.ValidationFailed, errors.Conflict, errors.InvalidTransition, errors.PermissionDenied) as exc:
        messages.error(request, exc.message)
        return redirect("customers:import_preview", pk=pk)
    except errors.NotFound:
        return redirect("customers:import")
    messages.success(request, f"Import #{upload.pk} applied: {upload.changed_rows} customer(s) updated.")
    return redirect("customers:list")

