"""The cash application workbench: receipts waiting for a person, oldest first, each with its
best stored suggestion; and Accept, which applies a suggestion through `receipt_apply`.

A fixed number of queries whatever the page holds: the receipts (with bank account and
customer), the customers and invoices their suggestions name, the filter's bank accounts."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from otc.actions import button_action, safe_next
from otc.errors import DomainError, ValidationFailed
from otc.listing import sortable, sorted_page
from otc.money import format_amount

from ..forms import AcceptForm, WorkbenchFilterForm, allocations_key
from ..models import Receipt
from ..selectors import invoices_by_id, suggested_customers, unapplied_totals, workbench_receipts
from ..services import receipt_apply, receipt_suggestions
from ..services.differences import difference_write_off
from ..services.matching import suggestion_json
from ._common import (
    APPLY,
    VIEW_RECEIPT,
    WORKBENCH,
    best_row,
    suggestion_invoice_ids,
    suggestion_rows,
    visible_receipt,
)


@login_required
@permission_required(WORKBENCH, raise_exception=True)
def workbench(request: HttpRequest) -> HttpResponse:
    """On the list component (decision 0020): sorted, paged, with its footer and the Excel export of
    every filtered receipt with its best suggestion; the total left to apply per currency above."""
    form = WorkbenchFilterForm(request.GET or None)
    filters = form.selector_kwargs() if form.is_valid() else {}
    return sorted_page(request, WORKBENCH_SORTS, workbench_receipts(user=request.user, **filters),
                       "receivables/workbench.html", {
                           "filter_form": form, "can_apply": request.user.has_perm(APPLY),
                           "here": request.get_full_path()},
                       totals=unapplied_totals, hydrate=_with_best_suggestion)


def _with_best_suggestion(receipts: list[Receipt]) -> list[Receipt]:
    """The page's receipts, each with `.best`: its best stored suggestion, the customers and invoices
    it names read once for the page."""
    customers = suggested_customers(receipts)
    invoices = invoices_by_id(suggestion_invoice_ids(receipts))
    for receipt in receipts:
        receipt.best = best_row(suggestion_rows(receipt.suggestions or [], left=receipt.left, customers=customers,
                                                invoices=invoices))
    return receipts


WORKBENCH_SORTS = sortable("receivables:workbench", {
    "receipt": ("value_date",), "payer": ("payer_name",), "customer": ("customer__legal_name",),
    "left": ("currency", "left"),
}, default="receipt")


def _chosen_suggestion(receipt: Receipt, form: AcceptForm) -> dict[str, Any]:
    """The suggestion the user saw, or a clear refusal when it is gone or has changed."""
    if not form.is_valid():
        raise ValidationFailed("Choose a suggestion to accept.")
    data = form.cleaned_data
    if data["fresh"]:
        suggestions = [suggestion_json(s) for s in receipt_suggestions(receipt_id=receipt.pk)]
    else:
        suggestions = receipt.suggestions or []
    if data["index"] >= len(suggestions):
        raise ValidationFailed(f"That suggestion for {receipt.number} is no longer there: look at the receipt again.")
    suggestion = suggestions[data["index"]]
    if not suggestion.get("allocations"):
        raise ValidationFailed(f"That suggestion names no invoices to apply {receipt.number} to: identify the "
                               "customer, split it or put it on account instead.")
    if allocations_key(suggestion["allocations"]) != data["allocations"]:
        raise ValidationFailed(f"The suggestion for {receipt.number} changed since the page was shown: nothing was "
                               "applied; look at it again.")
    if suggestion.get("other_customer") and not data.get("confirm_other"):
        raise ValidationFailed(f"That suggestion for {receipt.number} names another customer's invoice than the "
                               "payer's: confirm it explicitly (nothing was applied).")
    return suggestion  # no longer fitting (an invoice or the receipt has less left) is refused by receipt_apply


@transaction.atomic
def _accept(receipt: Receipt, form: AcceptForm, by) -> Decimal:
    """Apply the chosen suggestion exactly as shown (the service checks everything again); with
    `write_off`, a short payment's difference is written off in the same transaction (refused whole
    past the tolerance or the person's limit)."""
    suggestion = _chosen_suggestion(receipt, form)
    allocations = [(a["invoice_id"], Decimal(str(a["amount"]))) for a in suggestion["allocations"]]
    receipt_apply(receipt_id=receipt.pk, allocations=allocations, by=by,
                  rule=("+".join(suggestion.get("rules") or []) or "suggestion")[:40],
                  score=suggestion.get("score"),
                  reason="Suggestion accepted: " + "; ".join(suggestion.get("reasons") or []),
                  on_account=Decimal(str(suggestion.get("on_account") or 0)) > 0)
    short = Decimal(str(suggestion.get("short") or 0))
    if form.cleaned_data.get("write_off") and short > 0 and allocations[-1][0] > 0:
        difference_write_off(receipt_id=receipt.pk, invoice_id=allocations[-1][0], amount=short, by=by)
    return sum((amount for _, amount in allocations), Decimal(0))


@login_required
@permission_required(VIEW_RECEIPT, raise_exception=True)
@require_POST
def receipt_accept(request: HttpRequest, pk: int) -> HttpResponse:
    """Apply one suggestion (stored, or fresh from "suggest again") exactly as shown; the service
    refuses it when the receipt or an invoice no longer has enough left."""
    receipt = visible_receipt(request, pk)
    back = safe_next(request, reverse("receivables:receipt_detail", args=[receipt.pk]))

    def act() -> Decimal:
        return _accept(receipt, AcceptForm(request.POST), request.user)

    def done(total: Decimal) -> str:
        return (f"{receipt.number}: {format_amount(total, receipt.currency)} {receipt.currency} applied as suggested.")

    return button_action(request, permission=APPLY, back=back, act=act, done=done)


@login_required
@permission_required(VIEW_RECEIPT, raise_exception=True)
@require_POST
def receipts_accept_selected(request: HttpRequest) -> HttpResponse:
    """Accept the best suggestion of each receipt ticked on the workbench, each on its own (one
    refused does not stop the others); the message says what was applied and what was refused."""
    if not request.user.has_perm(APPLY):
        raise PermissionDenied("Your role may not apply receipts.")
    back = safe_next(request, reverse("receivables:workbench"))
    applied, refused = [], []
    for pick in request.POST.getlist("pick")[:BULK_MAX]:
        receipt_id, _, rest = pick.partition(":")
        index, _, key = rest.partition(":")
        if not receipt_id.isdigit():
            continue
        receipt = Receipt.objects.filter(pk=int(receipt_id)).first()
        if receipt is None:
            continue
        receipt = visible_receipt(request, receipt.pk)
        try:
            with transaction.atomic():
                total = _accept(receipt, AcceptForm({"index": index, "allocations": key}), request.user)
            applied.append((receipt.number, total, receipt.currency))
        except DomainError as exc:
            refused.append(f"{receipt.number}: {exc.message}")
    if applied:
        messages.success(request, f"{len(applied)} suggestion(s) accepted: " + ", ".join(
            f"{number} {format_amount(total, currency)} {currency}" for number, total, currency in applied) + ".")
    for message in refused:
        messages.error(request, message)
    if not applied and not refused:
        messages.info(request, "Tick the receipts whose suggestion you accept.")
    return redirect(back)


BULK_MAX = 100

__all__ = ["receipt_accept", "receipts_accept_selected", "workbench"]
