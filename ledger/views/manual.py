"""Manual journals: a Controller posts one (never into a closed period) or reverses one."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from otc.errors import DomainError

from ..forms import ManualJournalForm, ManualLineFormSet, signed_lines
from ..models import Account, JournalEntry
from ..services import LineSpec, journal_reverse
from ..services.manual import journal_post_manual


@login_required
@permission_required("ledger.post_manual_journal", raise_exception=True)
def journal_new(request: HttpRequest) -> HttpResponse:
    form = ManualJournalForm(request.POST or None)
    formset = ManualLineFormSet(request.POST or None, prefix="lines")
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        entity = form.cleaned_data["entity"]
        lines = signed_lines(formset)
        codes = {code for code, _amount, _text in lines}
        accounts = {a.code: a for a in Account.objects.filter(legal_entity=entity, code__in=codes)}
        unknown = sorted(codes - set(accounts))
        subledger = sorted(code for code, a in accounts.items() if a.is_subledger)
        if unknown:
            form.add_error(None, f"{entity.code} has no account {', '.join(unknown)}.")
        elif subledger:
            form.add_error(None, f"Account {', '.join(subledger)} is a customer subledger: post customer "
                                 "adjustments through credit notes, receipts or write-offs.")
        else:
            try:
                entry = journal_post_manual(
                    legal_entity_id=entity.id, document_date=form.cleaned_data["document_date"], by=request.user,
                    memo=form.cleaned_data["memo"], currency=form.cleaned_data["currency"] or None,
                    reference=form.cleaned_data["reference"],
                    lines=[LineSpec(amount=amount, account_id=accounts[code].id, description=text)
                           for code, amount, text in lines],
                )
            except DomainError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, f"Posted {entry.number}.")
                return redirect("ledger:journal_detail", pk=entry.pk)
    return render(request, "ledger/journal_new.html", {"form": form, "formset": formset})


@login_required
@require_POST
@permission_required("ledger.post_manual_journal", raise_exception=True)
def journal_reverse_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Reverse a manual journal (documents' own entries are reversed by their workflows)."""
    entry = get_object_or_404(JournalEntry, pk=pk, kind=JournalEntry.Kind.MANUAL)
    reason = request.POST.get("reason", "").strip()
    if not reason:
        messages.error(request, "Say why the journal is reversed.")
        return redirect("ledger:journal_detail", pk=pk)
    try:
        reversal = journal_reverse(entry_id=entry.id, by=request.user, memo=f"Reversal of {entry.number}: {reason}")
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("ledger:journal_detail", pk=pk)
    messages.success(request, f"Posted {reversal.number}, reversing {entry.number}.")
    return redirect("ledger:journal_detail", pk=reversal.pk)
