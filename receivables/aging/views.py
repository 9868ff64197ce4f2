"""/receivables/aging/ (the aging page, its Excel and PDF), the drill-down to a customer's open
items as of the date, and the bucket settings per legal entity. Thin: the form checks the
parameters, the engine computes, the templates show."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from customers.selectors import customers_visible_to
from ledger.models import LegalEntity
from otc import dates
from otc.errors import DomainError

from .buckets import DEFAULT_BUCKETS, bucket_index
from .cache import aging_report_cached
from .engine import AgingReport, entity_buckets, open_items_as_of
from .exports import XLSX, aging_pdf, aging_xlsx
from .forms import AgingForm
from .services import aging_policy_set

VIEW_AGING = "receivables.view_aging"
ROW_LIMIT = 100
_CHART_ROWS = 12


def _sorted(report: AgingReport, sort: str) -> None:
    descending = sort.startswith("-")
    key = sort.lstrip("-") or "total"
    for block in report.entities:
        if key == "label":
            fn = lambda r: r.label.lower()  # noqa: E731
        elif key.startswith("b") and key[1:].isdigit() and int(key[1:]) < len(block.buckets):
            i = int(key[1:])
            fn = lambda r, i=i: r.functional_buckets[i]  # noqa: E731
        elif key == "overdue":
            fn = lambda r: sum(r.functional_buckets[1:])  # noqa: E731
        else:
            fn = lambda r: r.functional_total  # noqa: E731
        block.rows.sort(key=fn, reverse=descending)


def _chart(report: AgingReport) -> list[dict]:
    charts = []
    for block in report.entities:
        top = sorted(block.rows, key=lambda r: -r.functional_total)[:_CHART_ROWS]
        charts.append({
            "id": f"chart-{block.entity.code}", "entity": block.entity.code, "currency": block.functional_currency,
            "labels": ["All", *[r.label[:28] for r in top]],
            "datasets": [{"label": b.label, "data": [str(block.functional_buckets[i]), *[str(r.functional_buckets[i]) for r in top]]}
                         for i, b in enumerate(block.buckets)],
        })
    return charts


@login_required
@permission_required(VIEW_AGING, raise_exception=True)
def aging(request: HttpRequest) -> HttpResponse:
    form = AgingForm(request.GET or {"as_of": dates.today().isoformat()})
    report = None
    if form.is_valid():
        try:
            report = aging_report_cached(params=form.cleaned_data["params"], user=request.user)
        except DomainError as exc:
            form.add_error(None, exc.message)
    fmt = request.GET.get("format")
    if report is not None and fmt in ("xlsx", "pdf"):
        name = f"ar-aging-{report.params.as_of:%Y-%m-%d}"
        if fmt == "xlsx":
            response = HttpResponse(aging_xlsx(report), content_type=XLSX)
            response["Content-Disposition"] = f'attachment; filename="{name}.xlsx"'
        else:
            response = HttpResponse(aging_pdf(report, generated_by=request.user.get_username()),
                                    content_type="application/pdf")
            response["Content-Disposition"] = f'inline; filename="{name}.pdf"'
        return response
    sort = request.GET.get("sort") or "-total"
    limit = ROW_LIMIT if request.GET.get("all") != "1" else None
    if report is not None:
        _sorted(report, sort)
        for block in report.entities:
            block.bucket_sorts = [(label, f"-b{i}") for i, label in enumerate(block.bucket_labels)]
            block.shown_rows = block.rows[:limit] if limit else block.rows  # the template renders only these
    return render(request, "receivables/aging/aging.html", {
        "form": form, "report": report, "sort": sort, "limit": limit,
        "charts": _chart(report) if report else [],
        "can_configure": request.user.has_perm("ledger.change_legalentity"),
    })


@login_required
@permission_required(VIEW_AGING, raise_exception=True)
def customer_items(request: HttpRequest, customer_id: int) -> HttpResponse:
    """The customer's items open at the end of the as-of date, each linked to its document."""
    customer = customers_visible_to(request.user).filter(pk=customer_id).first()
    if customer is None:
        raise Http404
    form = AgingForm(request.GET or {"as_of": dates.today().isoformat()})
    rows, params = [], None
    if form.is_valid():
        params = form.cleaned_data["params"]
        rows = open_items_as_of(customer_id=customer.id, as_of=params.as_of, legal_entity_id=params.legal_entity_id,
                                currency=params.currency, basis=params.basis)
        buckets = entity_buckets(sorted({r["item"].legal_entity_id for r in rows}))
        for r in rows:
            own = buckets[r["item"].legal_entity_id]
            r["bucket"] = own[bucket_index(own, r["days"])].label
            r["url"] = _document_url(r["item"])
    return render(request, "receivables/aging/customer_items.html", {
        "customer": customer, "form": form, "rows": rows, "params": params,
    })


def _document_url(item) -> str:
    from django.urls import reverse

    model = item.source_type.model if item.source_type_id else ""
    if model == "invoice":
        return reverse("billing:invoice_detail", args=[item.source_id])
    if model == "receipt":
        return reverse("receivables:receipt_detail", args=[item.source_id])
    return reverse("ledger:open_item_detail", args=[item.pk])


@login_required
@permission_required("ledger.change_legalentity", raise_exception=True)
def bucket_settings(request: HttpRequest) -> HttpResponse:
    entities = list(LegalEntity.objects.order_by("code"))
    current = entity_buckets([e.id for e in entities])
    rows = [{"entity": e, "buckets": ", ".join(b.text for b in current[e.id]), "labels": [b.label for b in current[e.id]]}
            for e in entities]
    return render(request, "receivables/aging/buckets.html", {"rows": rows, "default": DEFAULT_BUCKETS,
                                                               "errors": request.session.pop("aging_bucket_errors", {})})


@login_required
@permission_required("ledger.change_legalentity", raise_exception=True)
@require_POST
def bucket_settings_save(request: HttpRequest, entity_id: int) -> HttpResponse:
    try:
        policy = aging_policy_set(legal_entity_id=entity_id, buckets=request.POST.get("buckets", ""), by=request.user)
    except DomainError as exc:
        request.session["aging_bucket_errors"] = {str(entity_id): exc.message}
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Aging buckets saved: {policy.buckets}.")
    return redirect("receivables:aging_buckets")
