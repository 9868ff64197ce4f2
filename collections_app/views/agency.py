"""Placements with agencies and legal under /collections/dunning/placements/: the list with the
place form, a placement's invoices, statuses, recoveries and documents pack; the agencies."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.contrib.contenttypes.models import ContentType
from django.db.models import Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from billing.models import Invoice
from collections_app.models import Agency, Placement
from collections_app.services import agency as services
from customers.models import Customer
from ledger.models import Account
from otc import errors
from otc.actions import domain_error_response
from otc.listing import sortable, sorted_page
from otc.models import StatusChange

VIEW = "collections_app.view_placement"


PLACEMENT_SORTS = sortable("collections_app:placements", {
    "placement": ("id",), "placed_on": ("placed_on",), "customer": ("customer__legal_name",), "agency": ("agency__name",),
    "status": ("status",), "placed": ("currency", "placed"), "recovered": ("currency", "recovered"),
}, default="-placed_on")
AGENCY_SORTS = sortable("collections_app:placements", {
    "entity": ("legal_entity__code", "name"), "name": ("name",), "kind": ("kind",), "contact": ("contact_name",),
    "fee": ("fee_percent",), "fee_account": ("fee_account__code",),
}, default="entity", table="agencies", param="agency_sort", page_param="agency_page", export_param="agency_export")


@login_required
@permission_required(VIEW, raise_exception=True)
def placement_list(request: HttpRequest) -> HttpResponse:
    placements = (Placement.objects.select_related("agency", "customer", "legal_entity")
                  .annotate(placed=Sum("items__amount_placed"), recovered=Sum("items__recovered")))
    agencies = Agency.objects.select_related("legal_entity", "fee_account").order_by("legal_entity__code", "name")
    return sorted_page(request, PLACEMENT_SORTS, placements, "collections_app/dunning/placements.html", {
        "agencies": agencies,
        "fee_accounts": Account.objects.filter(type=Account.Type.EXPENSE).select_related("legal_entity")
        .order_by("legal_entity__code", "code")}, also={"agency_page": (AGENCY_SORTS, agencies.order_by())})


@login_required
@require_POST
def placement_create_view(request: HttpRequest) -> HttpResponse:
    back = reverse("collections_app:placements")
    customer = Customer.objects.filter(account_number__iexact=request.POST.get("customer", "").strip()).first()
    agency = Agency.objects.filter(pk=request.POST.get("agency") or 0).first()
    numbers = [n.strip() for n in request.POST.get("invoices", "").replace(";", ",").split(",") if n.strip()]
    if customer is None or agency is None or not numbers:
        messages.error(request, "Give the customer's account number, the agency and the invoice numbers.")
        return redirect(back)
    ids = list(Invoice.objects.filter(customer=customer, number__in=numbers).values_list("pk", flat=True))
    if len(ids) != len(set(numbers)):
        messages.error(request, f"{customer.name} does not have all of these invoices: {', '.join(numbers)}.")
        return redirect(back)
    try:
        placement = services.placement_create(agency_id=agency.pk, customer_id=customer.pk, invoice_ids=ids,
                                              by=request.user, note=request.POST.get("note", ""))
    except errors.DomainError as exc:
        return domain_error_response(request, exc, back)
    messages.success(request, f"{len(ids)} invoice(s) of {customer.name} placed with {agency.name}.")
    return redirect("collections_app:placement", pk=placement.pk)


@login_required
@permission_required(VIEW, raise_exception=True)
def placement_detail(request: HttpRequest, pk: int) -> HttpResponse:
    placement = get_object_or_404(Placement.objects.select_related("agency", "customer", "legal_entity", "placed_by"),
                                  pk=pk)
    history = StatusChange.objects.filter(content_type=ContentType.objects.get_for_model(Placement),
                                          object_id=placement.pk).select_related("by").order_by("at", "id")
    return render(request, "collections_app/dunning/placement_detail.html", {
        "placement": placement, "items": placement.items.select_related("invoice").order_by("id"),
        "recoveries": placement.recoveries.select_related("item__invoice", "journal_entry").order_by("received_on", "id"),
        "next_states": [(s, Placement.Status(s).label) for s in sorted(Placement.TRANSITIONS[placement.status])],
        "history": history, "write_offs": services.placement_write_offs(placement=placement)})


@login_required
@require_POST
def placement_transition_view(request: HttpRequest, pk: int) -> HttpResponse:
    back = reverse("collections_app:placement", args=[pk])
    try:
        placement = services.placement_transition(placement_id=pk, to=request.POST.get("to", ""), by=request.user,
                                                  note=request.POST.get("note", ""))
    except errors.DomainError as exc:
        return domain_error_response(request, exc, back)
    messages.success(request, f"Placement is now {placement.get_status_display().lower()}.")
    return redirect(back)


@login_required
@require_POST
def recovery_record_view(request: HttpRequest, pk: int) -> HttpResponse:
    back = reverse("collections_app:placement", args=[pk])
    try:
        amount = Decimal(request.POST.get("amount", ""))
    except InvalidOperation:
        messages.error(request, "The amount recovered must be a number.")
        return redirect(back)
    try:
        recovery = services.recovery_record(placement_id=pk, invoice_id=int(request.POST.get("invoice") or 0),
                                            amount=amount, by=request.user)
    except errors.DomainError as exc:
        return domain_error_response(request, exc, back)
    messages.success(request, f"Recovery recorded: {recovery.gross} {recovery.currency} gross, fee {recovery.fee}, "
                              f"net {recovery.net} (journal {recovery.journal_entry.number}).")
    return redirect(back)


@login_required
@permission_required(VIEW, raise_exception=True)
def placement_pack(request: HttpRequest, pk: int) -> HttpResponse:
    name, content = services.placement_documents_zip(placement_id=get_object_or_404(Placement, pk=pk).pk)
    response = HttpResponse(content, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@login_required
@require_POST
def agency_create_view(request: HttpRequest) -> HttpResponse:
    back = reverse("collections_app:placements")
    account = Account.objects.filter(pk=request.POST.get("fee_account") or 0).first()
    try:
        fee = Decimal(request.POST.get("fee_percent", ""))
    except InvalidOperation:
        messages.error(request, "The fee is a percentage.")
        return redirect(back)
    if account is None:
        messages.error(request, "Choose the expense account the fees post to.")
        return redirect(back)
    try:
        agency = services.agency_save(legal_entity_id=account.legal_entity_id, name=request.POST.get("name", ""),
                                      fee_percent=fee, fee_account_id=account.pk, by=request.user,
                                      kind=request.POST.get("kind", "agency"),
                                      contact_name=request.POST.get("contact_name", ""),
                                      email=request.POST.get("email", ""))
    except errors.DomainError as exc:
        return domain_error_response(request, exc, back)
    messages.success(request, f"Agency {agency.name} saved.")
    return redirect(back)
