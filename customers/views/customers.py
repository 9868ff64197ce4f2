from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods
from django_tables2 import RequestConfig

from otc import errors
from otc.actions import apply_service_errors
from otc.dates import now
from otc.history import history_rows
from otc.registry import registry, render_panels

from .. import services
from ..exports import customers_xlsx
from ..filters import CustomerFilter
from ..forms import CustomerForm
from ..selectors import contact_history_rows, customers_visible_to
from ..tables import CustomerTable

PAGE_SIZE = 50


def _filtered(request: HttpRequest) -> CustomerFilter:
    queryset = customers_visible_to(request.user).select_related("sales_owner")
    return CustomerFilter(request.GET or None, queryset=queryset, request=request)


def _partial(request: HttpRequest) -> bool:
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.history_restore_request


@login_required
@permission_required("customers.view_customer", raise_exception=True)
def customer_list(request: HttpRequest) -> HttpResponse:
    """Search, filter, sort and page through the customers the user may see. htmx requests
    (the filter form, sorting and paging links) get only the table partial."""
    customer_filter = _filtered(request)
    table = CustomerTable.with_registered_columns(customer_filter.qs, request.user)
    RequestConfig(request, paginate={"per_page": PAGE_SIZE}).configure(table)
    context = {"filter": customer_filter, "table": table}
    if _partial(request):
        return render(request, "customers/_table.html", context)
    return render(request, "customers/list.html", context)


@login_required
@permission_required("customers.export_customers", raise_exception=True)
def customer_export(request: HttpRequest) -> HttpResponse:
    """The current filtered (and sorted) list as an Excel workbook that re-imports as is."""
    customer_filter = _filtered(request)
    table = CustomerTable(customer_filter.qs, order_by=request.GET.get("sort"))
    queryset = table.data.data.select_related("sales_owner", "parent")
    content = customers_xlsx(queryset)
    response = HttpResponse(
        content, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = f'attachment; filename="customers-{now():%Y%m%d-%H%M}.xlsx"'
    return response


def _visible_customer(request: HttpRequest, pk: int):
    return get_object_or_404(customers_visible_to(request.user).select_related("parent", "sales_owner"), pk=pk)


@login_required
@permission_required("customers.view_customer", raise_exception=True)
def customer_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """All master data, contacts, the panels other apps register (balance, contracts, invoices,
    tickets) and, for users with otc.view_audit_trail, the history of the record and its contacts."""
    customer = _visible_customer(request, pk)
    user = request.user
    show_history = user.has_perm("otc.view_audit_trail")
    context = {
        "customer": customer,
        "contacts": list(customer.contacts.all()),
        "children": list(customers_visible_to(user).filter(parent=customer).only("id", "legal_name", "display_name", "account_number")),
        "panels": render_panels(request, registry.customer, customer=customer),
        "can_edit": user.has_perm("customers.edit_customer", customer),
        "can_add_contact": user.has_perm("customers.add_contact"),
        "can_change_contact": user.has_perm("customers.change_contact"),
        "can_delete_contact": user.has_perm("customers.delete_contact"),
        "show_history": show_history,
        "history": history_rows(customer) if show_history else [],
        "contact_history": contact_history_rows(customer) if show_history else [],
    }
    return render(request, "customers/detail.html", context)


@login_required
@permission_required("customers.add_customer", raise_exception=True)
@require_http_methods(["GET", "POST"])
def customer_create(request: HttpRequest) -> HttpResponse:
    form = CustomerForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            customer = services.customer_create(data=form.service_data(), by=request.user)
        except errors.ValidationFailed as exc:
            apply_service_errors(form, exc, field_messages=True)
        except errors.PermissionDenied as exc:
            raise PermissionDenied(exc.message)
        else:
            messages.success(request, f"Customer {customer.account_number} created.")
            return redirect(customer)
    return render(request, "customers/form.html", {"form": form, "customer": None})


@login_required
@permission_required("customers.change_customer", raise_exception=True)
@require_http_methods(["GET", "POST"])
def customer_edit(request: HttpRequest, pk: int) -> HttpResponse:
    customer = _visible_customer(request, pk)
    if not request.user.has_perm("customers.edit_customer", customer):
        raise PermissionDenied("You may not change this customer.")
    form = CustomerForm(request.POST or None, instance=customer)
    if request.method == "POST" and form.is_valid():
        reason = request.POST.get("change_reason", "").strip()[:200]
        try:
            services.customer_update(customer_id=customer.pk, data=form.service_data(), by=request.user, reason=reason)
        except errors.ValidationFailed as exc:
            apply_service_errors(form, exc, field_messages=True)
        except errors.NotFound:
            raise Http404
        except errors.PermissionDenied as exc:
            raise PermissionDenied(exc.message)
        else:
            messages.success(request, f"Customer {customer.account_number} saved.")
            return redirect(customer)
    return render(request, "customers/form.html", {"form": form, "customer": customer})
