"""Credit holds page under /collections/dunning/holds/: who is on hold and why, release within
one's limit (Finance Manager), the per-entity policy (Controller), and a run of the daily check."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from collections_app.models import CreditHold
from collections_app.selectors.credit_holds import holds_list
from collections_app.services import credit_holds as services
from ledger.models import LegalEntity
from otc import errors
from otc.actions import domain_error_response
from otc.listing import sortable, sorted_page


@login_required
@permission_required("collections_app.view_credithold", raise_exception=True)
def credit_hold_list(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "active")
    status = status if status in CreditHold.Status.values else ""
    entities = LegalEntity.objects.filter(is_active=True).select_related("credit_hold_policy").order_by("code")
    return sorted_page(request, HOLD_SORTS, holds_list(status=status), "collections_app/dunning/holds.html",
                       {"status": status, "entities": entities})


HOLD_SORTS = sortable("collections_app:credit_holds", {
    "customer": ("customer__legal_name",), "entity": ("legal_entity__code",), "why": ("reason",),
    "overdue": ("currency", "overdue_amount"), "placed": ("placed_at",), "status": ("status",),
}, default="-placed")


@login_required
@require_POST
def credit_hold_release_view(request: HttpRequest, pk: int) -> HttpResponse:
    back = reverse("collections_app:credit_holds")
    try:
        hold = services.credit_hold_release(hold_id=pk, by=request.user, reason=request.POST.get("reason", ""))
    except errors.DomainError as exc:
        return domain_error_response(request, exc, back)
    messages.success(request, f"{hold.customer.name} released from credit hold.")
    return redirect(back)


@login_required
@require_POST
def credit_hold_policy_view(request: HttpRequest, entity_id: int) -> HttpResponse:
    back = reverse("collections_app:credit_holds")
    if not request.user.has_perm("collections_app.manage_dunning_policy"):
        raise PermissionDenied("Your role may not set credit-hold policies.")
    try:
        days = int(request.POST["overdue_days"]) if request.POST.get("overdue_days") else None
        amount = Decimal(request.POST["overdue_amount"]) if request.POST.get("overdue_amount") else None
    except (ValueError, InvalidOperation):
        messages.error(request, "Overdue days must be a whole number and the amount a number.")
        return redirect(back)
    try:
        services.credit_hold_policy_save(legal_entity_id=entity_id, by=request.user, overdue_days=days,
                                         overdue_amount=amount, auto_release=bool(request.POST.get("auto_release")))
    except errors.DomainError as exc:
        return domain_error_response(request, exc, back)
    messages.success(request, "Credit-hold policy saved; the daily check applies it.")
    return redirect(back)


@login_required
@require_POST
def credit_holds_check_view(request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm("collections_app.release_credit_hold"):
        raise PermissionDenied("Your role may not run the credit-hold check.")
    totals = services.credit_holds_daily()
    messages.success(request, f"Credit-hold check: {totals['placed']} placed, {totals['released']} released (paid).")
    return redirect("collections_app:credit_holds")
