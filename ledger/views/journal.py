"""Journal entries (list and detail) and the open-item page."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required, permission_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from customers.selectors import customers_visible_to
from otc.listing import sortable, sorted_page

from ..forms import JournalFilterForm
from ..models import JournalEntry, OpenItem
from ..selectors import journal_entries, journal_entry_detail


@login_required
@permission_required("ledger.view_journalentry", raise_exception=True)
def journal_list(request: HttpRequest) -> HttpResponse:
    form = JournalFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    entity = filters.get("entity")
    entries = journal_entries(
        legal_entity_id=entity.id if entity else None, kind=filters.get("kind") or None,
        date_from=filters.get("date_from"), date_to=filters.get("date_to"), search=filters.get("q", ""),
        account_id=_int(request.GET.get("account")), customer_id=_int(request.GET.get("customer")),
        period_id=_int(request.GET.get("period")),
    )
    return sorted_page(request, JOURNAL_SORTS, entries, "ledger/journal_list.html", {"form": form})


JOURNAL_SORTS = sortable("ledger:journal_list", {
    "number": ("number",), "kind": ("kind",), "posted": ("entry_date",), "document": ("document_date",),
    "period": ("period__year", "period__month"), "reference": ("source_reference",), "lines": ("line_count",),
    "total": ("legal_entity__functional_currency", "functional_total"), "by": ("posted_by__username",),
}, default="-posted")


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


@login_required
@permission_required("ledger.view_journalentry", raise_exception=True)
def journal_detail(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        entry = journal_entry_detail(entry_id=pk)
    except JournalEntry.DoesNotExist:
        raise Http404("No such journal entry.")
    source = entry.source if entry.source_type_id else None
    source_url = source.get_absolute_url() if source is not None and hasattr(source, "get_absolute_url") else None
    lines = entry.line_rows
    totals = {
        "debit": sum((line.functional_amount for line in lines if line.functional_amount > 0), 0),
        "credit": sum((-line.functional_amount for line in lines if line.functional_amount < 0), 0),
    }
    return render(request, "ledger/journal_detail.html", {
        "entry": entry, "lines": lines, "source": source, "source_url": source_url, "totals": totals,
        "functional": entry.legal_entity.functional_currency,
        "reversal": getattr(entry, "reversed_by", None),
    })


@login_required
@permission_required("ledger.view_openitem", raise_exception=True)
def open_item_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """An open item and the journal lines that opened and settled it (their sum is its open
    amount). A sales rep sees only items of their own customers."""
    item = (
        OpenItem.objects.select_related("legal_entity", "account", "customer")
        .filter(customer__in=customers_visible_to(request.user), pk=pk).first()
    )
    if item is None:
        raise Http404("No such open item.")
    lines = item.lines.select_related("entry").order_by("entry__entry_date", "id")
    return render(request, "ledger/open_item_detail.html", {
        "item": item, "lines": lines, "can_see_journal": request.user.has_perm("ledger.view_journalentry"),
    })
