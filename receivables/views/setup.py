"""A manual receipt (cheque, lockbox) through `receipt_record`, and bank accounts: the list for
the receivables roles and the create form for controllers (`bank_account_create`)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from customers.selectors import customers_visible_to
from otc import errors
from otc.actions import apply_service_errors
from otc.listing import sortable, sorted_page
from otc.money import format_amount

from ..forms import BankAccountForm, ManualReceiptForm
from ..models import BankAccount
from ..services import bank_account_create, receipt_record


def _call(form, call):
    """The service's refusals on the form (403 for a plain permission refusal); None when refused."""
    try:
        return call()
    except errors.ValidationFailed as exc:
        apply_service_errors(form, exc)
    except errors.PermissionDenied as exc:
        if type(exc) is errors.PermissionDenied:
            raise PermissionDenied(exc.message)
        form.add_error(None, exc.message)
    except errors.DomainError as exc:
        form.add_error(None, exc.message)
    return None


@login_required
@permission_required("receivables.add_receipt", raise_exception=True)
@require_http_methods(["GET", "POST"])
def receipt_new(request: HttpRequest) -> HttpResponse:
    form = ManualReceiptForm(request.POST or None)
    customer = None
    if request.method == "POST" and form.is_valid():
        data = form.service_data()
        if data["customer_id"] and not customers_visible_to(request.user).filter(pk=data["customer_id"]).exists():
            form.add_error(None, "Choose the customer from the list.")
        elif (receipt := _call(form, lambda: receipt_record(data=data, by=request.user))) is not None:
            messages.success(request, f"Receipt {receipt.number} for {format_amount(receipt.amount, receipt.currency)} "
                                      f"{receipt.currency} recorded.")
            return redirect("receivables:receipt_detail", pk=receipt.pk)
    if form.is_bound and form.data.get("customer"):
        customer = customers_visible_to(request.user).filter(pk=form.data.get("customer")).first() \
            if str(form.data.get("customer")).isdigit() else None
    return render(request, "receivables/receipt_form.html", {"form": form, "customer": customer})


@login_required
@permission_required("receivables.view_bankaccount", raise_exception=True)
@require_http_methods(["GET", "POST"])
def bank_accounts(request: HttpRequest) -> HttpResponse:
    can_add = request.user.has_perm("receivables.add_bankaccount")
    form = BankAccountForm(request.POST or None) if can_add else None
    if request.method == "POST":
        if not can_add:
            raise PermissionDenied("Your role may not add bank accounts.")
        if form.is_valid():
            account = _call(form, lambda: bank_account_create(**form.service_kwargs(), by=request.user))
            if account is not None:
                messages.success(request, f"Bank account {account} added.")
                return redirect("receivables:bank_accounts")
    rows = BankAccount.objects.select_related("legal_entity", "gl_account")
    return sorted_page(request, BANK_ACCOUNT_SORTS, rows, "receivables/bank_accounts.html", {"form": form})


BANK_ACCOUNT_SORTS = sortable("receivables:bank_accounts", {
    "entity": ("legal_entity__code", "name"), "name": ("name",), "number": ("account_number",), "bic": ("bic",),
    "bank": ("bank_name",), "currency": ("currency",), "cash_account": ("gl_account__code",), "active": ("is_active",),
}, default="entity")


__all__ = ["bank_accounts", "receipt_new"]
