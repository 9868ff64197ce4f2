"""GET /api/v1/reports/aging/ and GET /api/v1/reports/kpis/: the aging engine and the KPIs for
integrations (scope `reports:read`) and signed-in users. A caller sees the customers
`customers_visible_to` gives them; a fixed number of queries whatever the number of customers."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from otc import dates
from otc.api.refs import entity_param, legal_entity_id_from
from otc.api.views import OtcAPIView

from .cache import aging_report_cached
from .engine import BASES, DIMENSIONS, MODES, AgingParams
from .kpis import ar_kpis

SCOPE = "reports:read"
VIEW_AGING = "receivables.view_aging"
_ERRORS = {400: OpenApiResponse(description="validation_error: {error, message, fields}"),
           403: OpenApiResponse(description="permission_denied")}


class AgingQuerySerializer(serializers.Serializer):
    as_of = serializers.DateField(required=False, help_text="Default today; amounts open at the end of this date")
    group_by = serializers.ChoiceField(choices=list(DIMENSIONS), required=False, default="customer")
    legal_entity = serializers.CharField(required=False, help_text="Legal entity code (or id)")
    entity = serializers.CharField(required=False, help_text="Deprecated alias of legal_entity")
    currency = serializers.CharField(required=False, max_length=3)
    basis = serializers.ChoiceField(choices=BASES, required=False, default="due")
    by = serializers.ChoiceField(choices=MODES, required=False, default="document")
    net = serializers.BooleanField(required=False, default=False)
    buckets = serializers.CharField(required=False, help_text="e.g. '..0, 1-30, 31-60, 61..' (default: the entity's)")


class AgingRowSerializer(serializers.Serializer):
    key = serializers.CharField(allow_null=True)
    label = serializers.CharField()
    account_number = serializers.CharField(allow_blank=True)
    currency = serializers.CharField()
    buckets = serializers.ListField(child=serializers.DecimalField(max_digits=20, decimal_places=4))
    credits = serializers.DecimalField(max_digits=20, decimal_places=4)
    unapplied_cash = serializers.DecimalField(max_digits=20, decimal_places=4)
    total = serializers.DecimalField(max_digits=20, decimal_places=4)
    functional_total = serializers.DecimalField(max_digits=20, decimal_places=4)


class AgingEntitySerializer(serializers.Serializer):
    deprecated_fields = {"entity": "legal_entity"}

    legal_entity = serializers.CharField(help_text="Legal entity code")
    legal_entity_id = serializers.IntegerField()
    entity = serializers.CharField()
    functional_currency = serializers.CharField()
    buckets = serializers.ListField(child=serializers.CharField())
    fx_rates = serializers.DictField(child=serializers.DecimalField(max_digits=24, decimal_places=10))
    rows = AgingRowSerializer(many=True)
    totals = serializers.ListField(child=serializers.DictField())
    functional_total = serializers.DecimalField(max_digits=20, decimal_places=4)
    control = serializers.ListField(child=serializers.DictField(), allow_null=True)


class AgingOutputSerializer(serializers.Serializer):
    as_of = serializers.DateField()
    group_by = serializers.CharField()
    basis = serializers.CharField()
    by = serializers.CharField()
    net = serializers.BooleanField()
    entities = AgingEntitySerializer(many=True)


def _s(value) -> str:
    return f"{value:.4f}"


class AgingReportView(OtcAPIView):
    action_perms = {"get": VIEW_AGING}
    action_scopes = {"get": SCOPE}
    extra_query_params = tuple(AgingQuerySerializer().fields)  # the same names the schema declares

    @extend_schema(
        summary="AR aging as of a date",
        description="Open items aged into each legal entity's buckets as of `as_of` (what was open at the end of that "
        "day, not today's balance), grouped by `group_by` and currency, in document currency with the functional total "
        "at the as-of FX rate. Unapplied credits and cash are beside the buckets unless `net=true`. `by=customer` puts a "
        "customer's balance in the bucket of its oldest overdue document. `control` ties each currency to the AR control "
        "accounts (difference 0.0000) for callers that see every customer. An as-of date before the first posting, "
        "an unknown entity or currency, or buckets that overlap or leave a gap answer 400.",
        parameters=[AgingQuerySerializer], responses={200: AgingOutputSerializer, **_ERRORS},
    )
    def get(self, request):
        query = AgingQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        q = query.validated_data
        params = AgingParams(
            as_of=q.get("as_of") or dates.today(), group_by=q["group_by"], basis=q["basis"], by=q["by"], net=q["net"],
            legal_entity_id=legal_entity_id_from(entity_param(q)), currency=(q.get("currency") or "").upper() or None,
            buckets=q.get("buckets") or None,
        )
        report = aging_report_cached(params=params, user=request.user)
        return Response({
            "as_of": params.as_of.isoformat(), "group_by": params.group_by, "basis": params.basis, "by": params.by,
            "net": params.net,
            "entities": [{
                "legal_entity": block.entity.code, "legal_entity_id": block.entity.pk,
                "entity": block.entity.code, "functional_currency": block.functional_currency,
                "buckets": block.bucket_labels, "fx_rates": {c: f"{r:.10f}" for c, r in block.fx_rates.items()},
                "rows": [{
                    "key": None if row.key is None else str(row.key), "label": row.label,
                    "account_number": row.info.get("number", ""), "currency": row.currency,
                    "buckets": [_s(a) for a in row.buckets], "credits": _s(row.credits),
                    "unapplied_cash": _s(row.unapplied), "total": _s(row.total),
                    "functional_total": _s(row.functional_total),
                } for row in block.rows],
                "totals": [{"currency": c, "buckets": [_s(a) for a in t["buckets"]], "credits": _s(t["credits"]),
                            "unapplied_cash": _s(t["unapplied"]), "total": _s(t["total"]),
                            "functional_total": _s(t["functional_total"])} for c, t in block.totals.items()],
                "functional_total": _s(block.functional_total),
                "control": None if block.control is None else [
                    {"currency": c["currency"], "aging_total": _s(c["aging_total"]),
                     "control_balance": _s(c["control_balance"]), "difference": _s(c["difference"])}
                    for c in block.control],
            } for block in report.entities],
        })


class KpiQuerySerializer(serializers.Serializer):
    legal_entity = serializers.CharField(required=False, help_text="Legal entity code (or id)")
    entity = serializers.CharField(required=False, help_text="Deprecated alias of legal_entity")
    months = serializers.IntegerField(required=False, default=12, min_value=1, max_value=36)


class KpiMonthSerializer(serializers.Serializer):
    month = serializers.CharField()
    as_of = serializers.DateField(allow_null=True)
    total_ar = serializers.DecimalField(max_digits=20, decimal_places=4)
    overdue_pct = serializers.DecimalField(max_digits=6, decimal_places=1, allow_null=True)
    over_90_pct = serializers.DecimalField(max_digits=6, decimal_places=1, allow_null=True)
    dso = serializers.DecimalField(max_digits=8, decimal_places=1, allow_null=True)
    dso_count_back = serializers.DecimalField(max_digits=8, decimal_places=1, allow_null=True)
    best_dso = serializers.DecimalField(max_digits=8, decimal_places=1, allow_null=True)
    average_days_delinquent = serializers.DecimalField(max_digits=8, decimal_places=1, allow_null=True)
    cei = serializers.DecimalField(max_digits=6, decimal_places=1, allow_null=True)
    unapplied_cash = serializers.DecimalField(max_digits=20, decimal_places=4)


class KpiEntitySerializer(serializers.Serializer):
    deprecated_fields = {"entity": "legal_entity"}

    legal_entity = serializers.CharField(help_text="Legal entity code")
    legal_entity_id = serializers.IntegerField()
    entity = serializers.CharField()
    currency = serializers.CharField()
    months = KpiMonthSerializer(many=True)
    concentration_pct = serializers.DecimalField(max_digits=6, decimal_places=1, allow_null=True)
    top_overdue = serializers.ListField(child=serializers.DictField())


class KpiReportView(OtcAPIView):
    action_perms = {"get": VIEW_AGING}
    action_scopes = {"get": SCOPE}
    extra_query_params = tuple(KpiQuerySerializer().fields)  # the same names the schema declares

    @extend_schema(
        summary="AR KPIs per legal entity with their monthly trend",
        description="From the month-end aging snapshots: total AR, overdue %, over-90 %, DSO (simple and count-back), "
        "best possible DSO, average days delinquent, CEI and unapplied cash per month, plus the top overdue customers "
        "and the top-10 concentration. Definitions: docs/aging-kpis.md. Callers limited to some customers "
        "get no DSO/CEI (they need the whole entity's sales).",
        parameters=[KpiQuerySerializer], responses={200: KpiEntitySerializer(many=True), **_ERRORS},
    )
    def get(self, request):
        query = KpiQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        q = query.validated_data
        blocks = ar_kpis(user=request.user, months=q["months"], legal_entity_id=legal_entity_id_from(entity_param(q)))

        def opt(value):
            return None if value is None else str(value)

        return Response([{
            "legal_entity": b.entity.code, "legal_entity_id": b.entity.pk, "entity": b.entity.code,
            "currency": b.currency, "concentration_pct": opt(b.concentration_pct),
            "months": [{
                "month": m.month.strftime("%Y-%m"), "as_of": m.as_of.isoformat() if m.as_of else None,
                "total_ar": _s(m.total_ar), "overdue_pct": opt(m.overdue_pct), "over_90_pct": opt(m.over_90_pct),
                "dso": opt(m.dso), "dso_count_back": opt(m.dso_count_back), "best_dso": opt(m.best_dso),
                "average_days_delinquent": opt(m.add), "cei": opt(m.cei), "unapplied_cash": _s(m.unapplied_cash),
            } for m in b.months],
            "top_overdue": [{"customer_id": e["customer"].pk, "account_number": e["customer"].account_number,
                             "name": e["customer"].legal_name, "overdue": _s(e["overdue"]),
                             "overdue_change": _s(e["overdue_change"])} for e in b.top_overdue],
        } for b in blocks])
