from __future__ import annotations

from dataclasses import replace

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from otc import errors
from otc.actions import apply_service_errors
from otc.dates import now
from otc.history import history_rows
from otc.listing import XLSX, export_refusal, sortable, sorted_page
from otc.registry import registry, render_panels, visible

from .. import services
from ..exports import customers_xlsx
from ..filters import CustomerFilter
from ..forms import CustomerForm
from ..selectors import contact_history_rows, customers_visible_to

PAGE_SIZE = 50


def _filtered(request: HttpRequest) -> CustomerFilter:
    queryset = customers_visible_to(request.user).select_related("sales_owner")
    return CustomerFilter(request.GET or None, queryset=queryset, request=request)


def _partial(request: HttpRequest) -> bool:
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.history_restore_request


# The registered columns (the ledger's balance and overdue, `otc.registry.ListColumn`) sort by
# their annotated values; the apps registered them in their AppConfig.ready(), before URLs load.
CUSTOMER_SORTS = sortable("customers:list", {
    "account_number": ("account_number",), "name": ("legal_name",), "country": ("country",),
    "default_currency": ("default_currency",), "payment_terms_days": ("payment_terms_days",),
    "credit_limit": ("default_currency", "credit_limit"),
    **{column.key: column.order_by for column in registry.customer_list_columns},
    "risk_rating": ("risk_rating",), "status": ("status",),
    "sales_owner": ("sales_owner__last_name", "sales_owner__first_name"), "procurement_portal": ("procurement_portal",),
}, default="name", export_url="customers:export", export_permission="customers.export_customers")


def _columns_and_sorts(request: HttpRequest, queryset):
    """The registered columns the user may see, their values annotated, and the sort keys without
    those the user may not see (asking for one sorts by the default)."""
    columns = visible(request.user, registry.customer_list_columns)
    for column in columns:
        queryset = column.annotate(queryset, request.user)
    hidden = {column.key for column in registry.customer_list_columns} - {column.key for column in columns}
    sorts = replace(CUSTOMER_SORTS, keys={k: v for k, v in CUSTOMER_SORTS.keys.items() if k not in hidden})
    return columns, sorts, queryset


@login_required
@permission_required("customers.view_customer", raise_exception=True)
def customer_list(request: HttpRequest) -> HttpResponse:
    """Search, filter, sort and page through the customers the user may see. htmx requests
    (the filter form, sorting and paging links) get only the table partial."""
    customer_filter = _filtered(request)
    columns, sorts, queryset = _columns_and_sorts(request, customer_filter.qs)

    def with_cells(customers: list) -> list:
        for customer in customers:
            customer.registered_cells = [(column, column.render(customer)) for column in columns]
        return customers

    template = "customers/_table.html" if _partial(request) else "customers/list.html"
    return sorted_page(request, sorts, queryset, template, {"filter": customer_filter, "columns": columns},
                       page_size=PAGE_SIZE, hydrate=with_cells)


@login_required
@permission_required("customers.export_customers", raise_exception=True)
def customer_export(request: HttpRequest) -> HttpResponse:
    """The current filtered (and sorted) list as an Excel workbook that re-imports as is (the
    customer list's export, under the list exports' row cap)."""
    customer_filter = _filtered(request)
    _columns, sorts, queryset = _columns_and_sorts(request, customer_filter.qs.select_related("sales_owner", "parent"))
    ordered, _sort = sorts.order(request, queryset)  # as the list is sorted, by a registered column too
    if (refused := export_refusal(request, ordered.count(), back=reverse("customers:list"))) is not None:
        return refused
    response = HttpResponse(customers_xlsx(ordered), content_type=XLSX)
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
