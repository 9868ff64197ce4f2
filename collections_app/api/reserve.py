"""GET /api/v1/reserve/?entity=&as_of=: the bad-debt reserve of a legal entity as of a date with
its lines, the calculation endpoint an auditor's script calls (scope `reserve:read`).

The answer is the live run of that date when there is one (posted, approved or proposed: its
stored lines, status and entry), else the reserve computed now from the date's aging snapshot and
the policy in force (`source: "computed"`). Amounts are strings with four places, rates with eight.
"""

from __future__ import annotations

import datetime as dt

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from collections_app.models import ReserveRun
from collections_app.selectors.reserve import reserve_compute
from otc import dates
from otc.api.refs import entity_param, legal_entity_id_from
from otc.api.views import OtcAPIView
from otc.errors import ValidationFailed
from receivables.aging.buckets import parse_buckets

SCOPE = "reserve:read"
VIEW = "collections_app.view_reserve"
_ERRORS = {400: OpenApiResponse(description="validation_error or no_snapshot / no_policy: {error, message, fields}"),
           403: OpenApiResponse(description="permission_denied")}


class ReserveQuerySerializer(serializers.Serializer):
    legal_entity = serializers.CharField(required=False, help_text="Legal entity code (or id); required")
    entity = serializers.CharField(required=False, help_text="Deprecated alias of legal_entity")
    as_of = serializers.DateField(required=False, help_text="Default: the last month-end")


class ReserveLineSerializer(serializers.Serializer):
    deprecated_fields = {"invoice": "invoice_number"}

    kind = serializers.ChoiceField(choices=["matrix", "specific"])
    segment = serializers.CharField(allow_blank=True)
    bucket = serializers.IntegerField(allow_null=True)
    bucket_label = serializers.CharField(allow_blank=True)
    customer = serializers.CharField(allow_null=True)
    invoice = serializers.CharField(allow_null=True, help_text="The invoice's number")
    invoice_id = serializers.IntegerField(allow_null=True)
    invoice_number = serializers.CharField(allow_null=True)
    reason = serializers.CharField(allow_blank=True)
    balance = serializers.CharField()
    base_rate = serializers.CharField()
    overlay = serializers.CharField()
    rate = serializers.CharField()
    allowance = serializers.CharField()


class ReserveOutputSerializer(serializers.Serializer):
    deprecated_fields = {"entity": "legal_entity"}

    legal_entity = serializers.CharField(help_text="Legal entity code")
    legal_entity_id = serializers.IntegerField()
    entity = serializers.CharField()
    as_of = serializers.DateField()
    source = serializers.ChoiceField(choices=["run", "computed"])
    run_id = serializers.IntegerField(allow_null=True)
    status = serializers.CharField(allow_null=True)
    functional_currency = serializers.CharField()
    policy = serializers.DictField()
    snapshot_id = serializers.IntegerField()
    buckets = serializers.ListField(child=serializers.CharField())
    matrix_total = serializers.CharField()
    specific_total = serializers.CharField()
    required_total = serializers.CharField()
    ledger_balance = serializers.CharField(allow_null=True)
    adjustment = serializers.CharField(allow_null=True)
    journal_entry = serializers.CharField(allow_null=True)
    derivation = serializers.DictField(allow_null=True)
    lines = ReserveLineSerializer(many=True)


def _m(value) -> str:
    return f"{value:.4f}"


def _r(value) -> str:
    return f"{value:.8f}"


def _line(line, customers: dict, invoices: dict) -> dict:
    return {"kind": line.kind, "segment": line.segment, "bucket": line.bucket, "bucket_label": line.bucket_label,
            "customer": customers.get(line.customer_id), "invoice": invoices.get(line.invoice_id),
            "invoice_id": line.invoice_id, "invoice_number": invoices.get(line.invoice_id),
            "reason": line.reason, "balance": _m(line.balance), "base_rate": _r(line.base_rate),
            "overlay": _r(line.overlay), "rate": _r(line.rate), "allowance": _m(line.allowance)}


def _names(lines) -> tuple[dict, dict]:
    from billing.models import Invoice
    from customers.models import Customer

    customers = dict(Customer.objects.filter(pk__in={ln.customer_id for ln in lines if ln.customer_id})
                     .values_list("pk", "account_number"))
    invoices = dict(Invoice.objects.filter(pk__in={ln.invoice_id for ln in lines if ln.invoice_id})
                    .values_list("pk", "number"))
    return customers, invoices


class ReserveView(OtcAPIView):
    action_perms = {"get": VIEW}
    action_scopes = {"get": SCOPE}
    extra_query_params = tuple(ReserveQuerySerializer().fields)

    @extend_schema(
        summary="The bad-debt reserve of a legal entity as of a date, with its lines",
        description="Per segment and aging bucket the balance, the rates (base, overlay, applied) and the allowance "
        "(rounded per line to the currency's minor unit, totals are sums), plus the specific reserves, in the entity's "
        "functional currency. The live reserve run of the date when there is one (`source: run`), else computed from "
        "the date's aging snapshot and the policy in force (`source: computed`). No snapshot or no policy: 400.",
        parameters=[ReserveQuerySerializer], responses={200: ReserveOutputSerializer, **_ERRORS},
    )
    def get(self, request):
        query = ReserveQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        q = query.validated_data
        code = entity_param(q)
        if not code:
            raise ValidationFailed("Give the legal entity (legal_entity, its code).",
                                   fields={"legal_entity": ["This field is required."]})
        entity_id = legal_entity_id_from(code)
        as_of = q.get("as_of") or (dates.today().replace(day=1) - dt.timedelta(days=1))
        run = (ReserveRun.objects.filter(legal_entity_id=entity_id, as_of=as_of, status__in=ReserveRun.LIVE)
               .select_related("legal_entity", "policy", "journal_entry").first())
        if run is not None:
            lines = list(run.lines.order_by("kind", "segment", "bucket", "id"))
            customers, invoices = _names(lines)
            return Response({
                "legal_entity": run.legal_entity.code, "legal_entity_id": run.legal_entity_id,
                "entity": run.legal_entity.code, "as_of": as_of.isoformat(), "source": "run", "run_id": run.id,
                "status": run.status, "functional_currency": run.functional_currency, "policy": _policy(run.policy),
                "snapshot_id": run.snapshot_id, "buckets": [b.label for b in parse_buckets(run.snapshot.buckets)],
                "matrix_total": _m(run.matrix_total), "specific_total": _m(run.specific_total),
                "required_total": _m(run.required_total), "ledger_balance": _m(run.ledger_balance),
                "adjustment": _m(run.adjustment),
                "journal_entry": run.journal_entry.number if run.journal_entry_id else None,
                "derivation": run.derivation or None, "lines": [_line(ln, customers, invoices) for ln in lines],
            })
        calc = reserve_compute(legal_entity_id=entity_id, as_of=as_of)
        lines = [*calc.lines, *calc.specifics]
        customers, invoices = _names(lines)
        return Response({
            "legal_entity": calc.entity.code, "legal_entity_id": calc.entity.pk,
            "entity": calc.entity.code, "as_of": as_of.isoformat(), "source": "computed", "run_id": None,
            "status": None, "functional_currency": calc.functional_currency, "policy": _policy(calc.policy),
            "snapshot_id": calc.snapshot.id, "buckets": calc.bucket_labels, "matrix_total": _m(calc.matrix_total),
            "specific_total": _m(calc.specific_total), "required_total": _m(calc.total), "ledger_balance": None,
            "adjustment": None, "journal_entry": None, "derivation": calc.derivation or None,
            "lines": [_line(ln, customers, invoices) for ln in lines],
        })


def _policy(policy) -> dict:
    return {"id": policy.id, "effective_date": policy.effective_date.isoformat(), "method": policy.method,
            "segment_by": policy.segment_by, "overlay_factor": str(policy.overlay_factor),
            "overlay_reason": policy.overlay_reason}
