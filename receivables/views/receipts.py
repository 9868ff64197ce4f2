"""A receipt's page and its actions: suggestions (stored, or again on request), manual search of
open invoices (htmx), a split across invoices, identify, on account, refund, reverse (returned /
NSF) and reversing one application.

Buttons show only to who may act; every POST checks the permission (403) and calls one service,
which checks everything again. A refusal comes back as a message (or, for a split, on the form)
with nothing written."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from customers.selectors import customers_visible_to
from otc import errors
from otc.actions import button_action, form_data, require
from otc.history import history_rows
from otc.money import format_amount, minor_units

from ..forms import (
    RETURN_REASONS,
    IdentifyForm,
    InvoiceSearchForm,
    NoteForm,
    ReasonForm,
    RefundForm,
    allocation_formset,
)
from ..models import Receipt, ReceiptApplication
from ..selectors import (
    invoices_by_id,
    invoices_by_number,
    open_invoices_for,
    receipt_applications,
    suggested_customers,
)
from ..services import (
    application_reverse,
    receipt_apply,
    receipt_identify,
    receipt_put_on_account,
    receipt_refund,
    receipt_reverse,
    receipt_suggestions,
)
from ..services.matching import suggestion_json
from ..services.receipts import LIVE
from ._common import (
    APPLY,
    REFUND,
    REVERSE,
    VIEW_RECEIPT,
    WORKBENCH,
    suggestion_invoice_ids,
    suggestion_rows,
    visible_receipt,
)

CUSTOMER_OPTIONS = 30


def _abilities(request: HttpRequest, receipt: Receipt) -> dict[str, bool]:
    user, left, live = request.user, receipt.unapplied_amount, receipt.status in LIVE
    return {
        "can_apply": live and left > 0 and user.has_perm(APPLY),
        "can_identify": live and receipt.customer_id is None and user.has_perm(APPLY),
        "can_on_account": (receipt.status in (Receipt.Status.UNAPPLIED, Receipt.Status.PARTIALLY_APPLIED)
                           and receipt.customer_id is not None and left > 0 and user.has_perm(APPLY)),
        "can_refund": live and receipt.customer_id is not None and left > 0 and user.has_perm(REFUND),
        "can_reverse": (receipt.status != Receipt.Status.REVERSED and not receipt.amount_refunded
                        and user.has_perm(REVERSE)),
        "can_reverse_application": receipt.status in LIVE and user.has_perm(APPLY),
        # suggestions may name other customers' invoices: for the cash application roles only
        "show_suggestions": user.has_perm(WORKBENCH),
    }


def _context(request: HttpRequest, receipt: Receipt, *, formset=None) -> dict[str, Any]:
    customers = suggested_customers([receipt])
    invoices = invoices_by_id(suggestion_invoice_ids([receipt]))
    abilities = _abilities(request, receipt)
    initial = None
    if receipt.customer_id:
        initial = {"customer": receipt.customer_id, "customer_q": receipt.customer.name}
    return {
        "receipt": receipt, **abilities,
        "left": receipt.unapplied_amount, "places": minor_units(receipt.currency),
        "suggestions": suggestion_rows(receipt.suggestions or [], left=receipt.unapplied_amount, customers=customers,
                                       invoices=invoices),
        "suggested_customers": list(customers.values()),
        "applications": receipt_applications(receipt),
        "formset": formset if formset is not None else allocation_formset(currency=receipt.currency),
        "search_form": InvoiceSearchForm(initial=initial),
        "return_reasons": RETURN_REASONS,
        "history": history_rows(receipt) if request.user.has_perm("otc.view_audit_trail") else None,
    }


@login_required
@permission_required(VIEW_RECEIPT, raise_exception=True)
def receipt_detail(request: HttpRequest, pk: int) -> HttpResponse:
    receipt = visible_receipt(request, pk)
    return render(request, "receivables/receipt_detail.html", _context(request, receipt))


@login_required
@permission_required(VIEW_RECEIPT, raise_exception=True)
@require_GET
def receipt_suggest_again(request: HttpRequest, pk: int) -> HttpResponse:
    """Fresh ranked suggestions from the matcher (htmx), shown with Accept buttons; nothing stored."""
    receipt = visible_receipt(request, pk)
    require(request, WORKBENCH)
    fresh = [suggestion_json(s) for s in receipt_suggestions(receipt_id=receipt.pk)]
    customers = suggested_customers([Receipt(suggestions=fresh)])
    invoices = invoices_by_id({a["invoice_id"] for s in fresh for a in s["allocations"]})
    return render(request, "receivables/_suggestions.html", {
        "receipt": receipt, "fresh": True, **_abilities(request, receipt),
        "suggestions": suggestion_rows(fresh, left=receipt.unapplied_amount, customers=customers, invoices=invoices),
    })


@login_required
@permission_required(VIEW_RECEIPT, raise_exception=True)
@require_GET
def receipt_invoice_search(request: HttpRequest, pk: int) -> HttpResponse:
    """Open invoices in the receipt's entity and currency by customer, number and amount (htmx)."""
    receipt = visible_receipt(request, pk)
    require(request, APPLY)  # it lists any customer's open invoices of the entity: for who applies cash
    form = InvoiceSearchForm(request.GET)
    invoices: list = []
    if form.is_valid():
        data = form.cleaned_data
        customer_id = data.get("customer") or None
        if customer_id and not customers_visible_to(request.user).filter(pk=customer_id).exists():
            customer_id = -1
        invoices = open_invoices_for(receipt=receipt, customer_id=customer_id, number=data.get("number") or "",
                                     amount=data.get("amount"))
    return render(request, "receivables/_invoice_results.html", {"receipt": receipt, "invoices": invoices,
                                                                 "form": form, "can_apply": request.user.has_perm(APPLY)})


@login_required
@permission_required(VIEW_RECEIPT, raise_exception=True)
@require_GET
def customer_options(request: HttpRequest) -> HttpResponse:
    """<option>s of visible customers matching a name or account number (htmx)."""
    search = (request.GET.get("customer_q") or "").strip()
    rows = customers_visible_to(request.user).only("id", "legal_name", "display_name", "account_number")
    if search:
        rows = rows.filter(Q(legal_name__icontains=search) | Q(display_name__icontains=search)
                           | Q(account_number__icontains=search))
    return render(request, "receivables/_customer_options.html",
                  {"customers": list(rows.order_by("legal_name")[:CUSTOMER_OPTIONS])})


@login_required
@permission_required(VIEW_RECEIPT, raise_exception=True)
@require_POST
def receipt_split(request: HttpRequest, pk: int) -> HttpResponse:
    """Apply the receipt across the invoices typed (or picked from the search) in the split form;
    a refusal shows on the form with the rows kept and nothing written."""
    receipt = visible_receipt(request, pk)
    require(request, APPLY)
    formset = allocation_formset(request.POST, currency=receipt.currency)
    valid = formset.is_valid()
    typed = [(form, (form.cleaned_data.get("invoice") or "").strip()) for form in formset.forms]
    found = invoices_by_number(receipt=receipt, numbers=[number for _, number in typed])
    for form, number in typed:
        if number and number.upper() not in found:
            form.add_error("invoice", f"No invoice {number} in {receipt.legal_entity.code}.")
    if valid:
        rows = formset.rows()
        if not any(form.errors for form in formset.forms):
            try:
                receipt_apply(receipt_id=receipt.pk, by=request.user,
                              allocations=[(found[number.upper()].pk, amount) for number, amount in rows])
            except errors.PermissionDenied as exc:
                if type(exc) is errors.PermissionDenied:
                    raise PermissionDenied(exc.message)
                formset._non_form_errors = formset.error_class([exc.message])
            except errors.DomainError as exc:
                formset._non_form_errors = formset.error_class([exc.message])
            else:
                total = sum((amount for _, amount in rows), start=0)
                messages.success(request, f"{receipt.number}: {format_amount(total, receipt.currency)} "
                                          f"{receipt.currency} applied to {len(rows)} invoice{'s' if len(rows) > 1 else ''}.")
                return redirect("receivables:receipt_detail", pk=receipt.pk)
    return render(request, "receivables/receipt_detail.html", _context(request, receipt, formset=formset),
                  status=200)


def _action(request: HttpRequest, pk: int, *, permission: str, act, done) -> HttpResponse:
    receipt = visible_receipt(request, pk)
    return button_action(request, permission=permission, back=reverse("receivables:receipt_detail", args=[receipt.pk]),
                         act=lambda: act(receipt), done=done)


@login_required
@permission_required(VIEW_RECEIPT, raise_exception=True)
@require_POST
def receipt_identify_view(request: HttpRequest, pk: int) -> HttpResponse:
    def act(receipt: Receipt) -> Receipt:
        customer_id = form_data(IdentifyForm(request.POST))["customer"]
        if not customers_visible_to(request.user).filter(pk=customer_id).exists():
            raise errors.ValidationFailed("Choose a customer from the list.")
        return receipt_identify(receipt_id=receipt.pk, customer_id=customer_id, by=request.user)

    return _action(request, pk, permission=APPLY, act=act,
                   done=lambda r: f"{r.number} identified as {r.customer.name}'s payment.")


@login_required
@permission_required(VIEW_RECEIPT, raise_exception=True)
@require_POST
def receipt_on_account_view(request: HttpRequest, pk: int) -> HttpResponse:
    form = NoteForm(request.POST)
    return _action(request, pk, permission=APPLY,
                   act=lambda receipt: receipt_put_on_account(receipt_id=receipt.pk, by=request.user,
                                                              note=form_data(form)["note"]),
                   done=lambda r: f"{r.number}: {format_amount(r.unapplied_amount, r.currency)} {r.currency} left on "
                                  f"{r.customer.name}'s account.")


@login_required
@permission_required(VIEW_RECEIPT, raise_exception=True)
@require_POST
def receipt_refund_view(request: HttpRequest, pk: int) -> HttpResponse:
    def act(receipt: Receipt) -> Receipt:
        data = form_data(RefundForm(request.POST, currency=receipt.currency))
        return receipt_refund(receipt_id=receipt.pk, amount=data["amount"], by=request.user, reason=data["reason"])

    return _action(request, pk, permission=REFUND, act=act,
                   done=lambda r: f"{r.number}: refund posted; {format_amount(r.amount_refunded, r.currency)} "
                                  f"{r.currency} refunded in all.")


@login_required
@permission_required(VIEW_RECEIPT, raise_exception=True)
@require_POST
def receipt_reverse_view(request: HttpRequest, pk: int) -> HttpResponse:
    def act(receipt: Receipt) -> Receipt:
        return receipt_reverse(receipt_id=receipt.pk, by=request.user, reason=form_data(ReasonForm(request.POST))["reason"])

    return _action(request, pk, permission=REVERSE, act=act,
                   done=lambda r: f"{r.number} reversed ({r.reversal_reason}); its invoices are open again.")


@login_required
@permission_required(VIEW_RECEIPT, raise_exception=True)
@require_POST
def application_reverse_view(request: HttpRequest, pk: int) -> HttpResponse:
    application = get_object_or_404(ReceiptApplication.objects.only("id", "receipt_id"), pk=pk)
    receipt = visible_receipt(request, application.receipt_id)

    def act() -> ReceiptApplication:
        reason = form_data(ReasonForm(request.POST))["reason"]
        return application_reverse(application_id=application.pk, by=request.user, reason=reason)

    return button_action(request, permission=APPLY, back=reverse("receivables:receipt_detail", args=[receipt.pk]),
                         act=act, done=lambda a: f"Application to {a.invoice.number} reversed: the invoice is open "
                                                 f"again by {format_amount(a.amount, receipt.currency)} {receipt.currency}.")


__all__ = [
    "application_reverse_view", "customer_options", "receipt_detail", "receipt_identify_view",
    "receipt_invoice_search", "receipt_on_account_view", "receipt_refund_view", "receipt_reverse_view",
    "receipt_split", "receipt_suggest_again",
]
