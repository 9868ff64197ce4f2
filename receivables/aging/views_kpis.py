"""/receivables/kpis/: KPI tiles and 12-month trend charts per legal entity, from the snapshots;
and the home-page panel."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from ledger.models import LegalEntity

from .kpis import EntityKpis, ar_kpis

VIEW_AGING = "receivables.view_aging"
TRENDS = [
    ("total_ar", "Total AR", "money"), ("overdue_pct", "Overdue %", "pct"), ("over_90_pct", "Over 90 days %", "pct"),
    ("dso", "DSO (simple, 3 months)", "days"), ("dso_count_back", "DSO (count-back)", "days"),
    ("best_dso", "Best possible DSO", "days"), ("add", "Average days delinquent", "days"),
    ("cei", "Collection effectiveness index", "pct"), ("unapplied_cash", "Unapplied cash", "money"),
]


def _charts(blocks: list[EntityKpis]) -> list[dict]:
    return [{
        "entity": b.entity.code, "currency": b.currency, "labels": [m.month.strftime("%Y-%m") for m in b.months],
        "series": [{"key": key, "title": title, "unit": unit,
                    "data": [None if getattr(m, key) is None or not m.snapshot_id else str(getattr(m, key)) for m in b.months]}
                   for key, title, unit in TRENDS if not (b.scoped and unit == "days")],
    } for b in blocks]


@login_required
@permission_required(VIEW_AGING, raise_exception=True)
def kpis(request: HttpRequest) -> HttpResponse:
    entity_id = request.GET.get("entity")
    entity_id = int(entity_id) if entity_id and entity_id.isdigit() else None
    months = request.GET.get("months")
    months = int(months) if months and months.isdigit() else 12
    blocks = ar_kpis(user=request.user, months=months, legal_entity_id=entity_id)
    return render(request, "receivables/aging/kpis.html", {
        "blocks": blocks, "charts": _charts(blocks), "trends": TRENDS, "entities": LegalEntity.objects.order_by("code"),
        "entity_id": entity_id, "months": months,
    })


def kpi_panel_context(request: HttpRequest, **kwargs) -> dict | None:
    blocks = [b for b in ar_kpis(user=request.user, months=2) if b.latest]
    return {"blocks": blocks} if blocks else None
