"""Trial balance, GL export (CSV), AR reconciliation and AR by customer."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render

from otc.exports import csv_writer
from otc.listing import sortable, sorted_page

from ..forms import ArFilterForm, EntityPeriodForm, TrialBalanceForm
from ..models import LegalEntity
from ..selectors import GL_EXPORT_HEADER, ar_by_customer_totals, gl_export_rows
from ..selectors import ar_by_customer as ar_by_customer_rows
from ..selectors import ar_reconciliation as reconciliation_rows
from ..selectors import trial_balance as trial_balance_report


def _first_entity_initial(request: HttpRequest) -> dict:
    data = request.GET.copy()
    if not data.get("entity"):
        first = LegalEntity.objects.filter(is_active=True).order_by("code").values_list("pk", flat=True).first()
        if first is not None:
            data["entity"] = str(first)
    return data


@login_required
@permission_required("ledger.view_trial_balance", raise_exception=True)
def trial_balance(request: HttpRequest) -> HttpResponse:
    form = TrialBalanceForm(_first_entity_initial(request))
    report = None
    if form.is_valid():
        data = form.cleaned_data
        report = trial_balance_report(legal_entity_id=data["entity"].id, date_from=data["date_from"], date_to=data["date_to"])
    return render(request, "ledger/trial_balance.html", {"form": form, "report": report})


class _Echo:
    def write(self, value: str) -> str:
        return value


@login_required
@permission_required("ledger.export_gl", raise_exception=True)
def gl_export(request: HttpRequest) -> HttpResponse:
    """Without parameters: the form. With `entity` and `period`: the CSV, streamed."""
    form = EntityPeriodForm(request.GET or None)
    if not request.GET or not form.is_valid():
        return render(request, "ledger/gl_export.html", {"form": form})
    entity, period = form.cleaned_data["entity"], form.cleaned_data["period"]
    writer = csv_writer(_Echo())  # formula-safe: a memo like "=1+1" stays text
    rows = gl_export_rows(legal_entity_id=entity.id, period_id=period.id)
    stream = (writer.writerow(row) for row in _with_header(rows))
    response = StreamingHttpResponse(stream, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="gl-{entity.code}-{period.label}.csv"'
    return response


def _with_header(rows):
    yield GL_EXPORT_HEADER
    yield from rows


@login_required
@permission_required("ledger.view_trial_balance", raise_exception=True)
def ar_reconciliation(request: HttpRequest) -> HttpResponse:
    entity_id = request.GET.get("entity")
    rows = reconciliation_rows(legal_entity_id=int(entity_id) if entity_id and entity_id.isdigit() else None)
    differences = [row for row in rows if row["difference"] != 0]
    return render(request, "ledger/ar_reconciliation.html", {
        "rows": rows, "differences": differences, "entities": LegalEntity.objects.order_by("code"),
        "entity_id": entity_id,
    })


@login_required
@permission_required("ledger.view_openitem", raise_exception=True)
def ar_by_customer(request: HttpRequest) -> HttpResponse:
    form = ArFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    entity = filters.get("entity")
    rows = ar_by_customer_rows(
        legal_entity_id=entity.id if entity else None, user=request.user, currency=filters.get("currency") or None,
    )
    return sorted_page(request, AR_SORTS, rows, "ledger/ar_by_customer.html", {"form": form},
                       totals=ar_by_customer_totals)


# A grouped values() list: the tie-breakers are its grouping fields (ordering by pk would split groups).
AR_SORTS = sortable("ledger:ar_by_customer", {
    "customer": ("customer__legal_name",), "account": ("customer__account_number",), "currency": ("currency",),
    "open": ("currency", "open_total"), "overdue": ("currency", "overdue_total"), "functional": ("functional_open",),
    "items": ("item_count",), "oldest_due": ("oldest_due",),
}, default="-functional", tiebreak=("customer__legal_name", "currency"))
