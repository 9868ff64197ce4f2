"""/api/v1/customers/{id}/collections/ (the CRM's view of a customer's collections: status, hold,
overdue, disputes, promises, last contact) and /api/v1/disputes/, /api/v1/promises/ (read and
create, scope `collections:read` / `collections:write`, Idempotency-Key on POST like every POST).

A caller sees the customers `customers_visible_to` gives it; another customer is 404. The credit
hold is read through `otc.registry.credit_holds` (collections' credit holds), or else the
`customer_collections_hold` registry hook; without one the hold is null."""

from __future__ import annotations

from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.response import Response

from customers.selectors import customers_visible_to
from otc.api import refs
from otc.api.fields import AmountField, MoneyField
from otc.api.serializers import InputSerializer
from otc.api.views import OtcAPIView, OtcGenericViewSet
from otc.errors import NotFound
from otc.money import quantize
from otc.registry import credit_holds, registry

from ..models import (
    Activity,
    ActivityKind,
    Dispute,
    DisputeReason,
    DisputeStatus,
    PromiseStatus,
    PromiseToPay,
)
from ..selectors.worklist import BUCKETS, WorklistFilters, customer_summary, worklist
from ..services.disputes import dispute_open
from ..services.promises import payment_plan_create, promise_take

READ, WRITE = "collections:read", "collections:write"
_ERRORS = {400: OpenApiResponse(description="validation_error: {error, message, fields}"),
           403: OpenApiResponse(description="permission_denied"), 404: OpenApiResponse(description="not_found"),
           409: OpenApiResponse(description="invalid_transition")}


# --- serializers ---------------------------------------------------------------------------------

class DisputeOutputSerializer(serializers.ModelSerializer):
    invoice_number = serializers.CharField(source="invoice.number")
    amount = MoneyField()
    owner = refs.person_email("owner")
    owner_id = refs.person_id("owner")
    credit_note_id = serializers.IntegerField(allow_null=True)

    class Meta:
        model = Dispute
        fields = ["id", "customer_id", "invoice_id", "invoice_number", "currency", "amount", "reason", "status",
                  "description", "owner", "owner_id", "due_date", "source", "source_reference", "opened_at", "credit_note_id",
                  "resolution_note", "resolved_at"]


class DisputeLineInputSerializer(InputSerializer):
    invoice_line_id = serializers.IntegerField()
    amount = AmountField(required=False, help_text="Gross; default: the whole line")


class DisputeCreateSerializer(InputSerializer):
    invoice_id = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
    reason = serializers.ChoiceField(choices=DisputeReason.choices)
    amount = AmountField(required=False, help_text="Gross; default: all that is open and not disputed")
    lines = DisputeLineInputSerializer(many=True, required=False)
    description = serializers.CharField(required=False, allow_blank=True, max_length=4000)
    due_date = serializers.DateField(required=False)
    source_reference = serializers.CharField(required=False, allow_blank=True, max_length=60)


class PromiseItemOutputSerializer(serializers.Serializer):
    invoice_id = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
    invoice_number = serializers.CharField(source="invoice.number")
    amount = MoneyField(currency_from="promise.currency")


class PromiseOutputSerializer(serializers.ModelSerializer):
    amount = MoneyField()
    paid_amount = MoneyField()
    taken_by = refs.person_email("taken_by")
    taken_by_id = refs.person_id("taken_by")
    items = PromiseItemOutputSerializer(many=True)

    class Meta:
        model = PromiseToPay
        fields = ["id", "customer_id", "currency", "amount", "promised_date", "grace_days", "status", "channel",
                  "note", "plan_reference", "instalment", "paid_amount", "taken_by", "taken_by_id", "created_at", "decided_at",
                  "items"]


class InstalmentInputSerializer(InputSerializer):
    date = serializers.DateField()
    amount = AmountField()


class PromiseCreateSerializer(InputSerializer):
    customer_id = serializers.IntegerField()
    invoice_ids = serializers.ListField(child=serializers.IntegerField(), min_length=1, max_length=200)
    promised_date = serializers.DateField(required=False, help_text="Required unless `instalments` is given")
    amount = AmountField(required=False, help_text="Default: all that is collectible on the invoices")
    instalments = InstalmentInputSerializer(many=True, required=False,
                                            help_text="A payment plan: two or more (date, amount) instalments")
    note = serializers.CharField(required=False, allow_blank=True, max_length=4000)

    def validate(self, attrs):
        if not attrs.get("instalments") and not attrs.get("promised_date"):
            raise serializers.ValidationError({"promised_date": ["Required unless instalments are given."]})
        if attrs.get("instalments") and (attrs.get("promised_date") or attrs.get("amount")):
            raise serializers.ValidationError({"instalments": ["Give instalments, or a date and an amount."]})
        return attrs


class BucketSerializer(serializers.Serializer):
    bucket = serializers.CharField()
    amount = serializers.CharField()


class CurrencyTotalsSerializer(serializers.Serializer):
    currency = serializers.CharField()
    open = serializers.CharField()
    overdue = serializers.CharField()
    disputed = serializers.CharField()
    promised = serializers.CharField()
    collectible = serializers.CharField()
    overdue_by_bucket = BucketSerializer(many=True)


class LastContactSerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    kind = serializers.CharField()
    outcome = serializers.CharField()
    by = serializers.CharField(allow_null=True, help_text="Who: their e-mail")
    by_id = serializers.IntegerField(allow_null=True)
    note = serializers.CharField()


class CustomerCollectionsSerializer(serializers.Serializer):
    customer_id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=["current", "overdue", "disputed", "promised", "broken_promise"],
                                     help_text="broken_promise > overdue with promises > disputed > overdue > current")
    hold = serializers.JSONField(allow_null=True, help_text="The credit hold, when there is one: {reason}")
    collector = serializers.CharField(allow_null=True, help_text="The collector's e-mail")
    collector_id = serializers.IntegerField(allow_null=True)
    priority_score = serializers.CharField(allow_null=True)
    totals = CurrencyTotalsSerializer(many=True)
    disputes = DisputeOutputSerializer(many=True)
    promises = PromiseOutputSerializer(many=True)
    last_contact = LastContactSerializer(allow_null=True)
    next_action = serializers.CharField()
    next_action_date = serializers.DateField(allow_null=True)


# --- views ---------------------------------------------------------------------------------------

def _hold(customer_id: int) -> dict | None:
    reason = credit_holds(customer_ids=[customer_id]).get(customer_id)  # collections' credit holds
    if reason:
        return {"reason": reason}
    for value in registry.call_hooks("customer_collections_hold", customer_id=customer_id):
        if value:
            return value
    return None


def _status(summary: dict, broken: int) -> str:
    overdue = any(t["overdue"] > 0 for t in summary["totals"].values())
    if broken:
        return "broken_promise"
    if summary["promises"]:
        return "promised"
    if summary["disputes"]:
        return "disputed"
    return "overdue" if overdue else "current"


class CustomerCollectionsView(OtcAPIView):
    """GET /api/v1/customers/{id}/collections/"""

    action_perms = {"get": "collections_app.view_dispute"}
    action_scopes = {"get": READ}

    @extend_schema(summary="A customer's collections status for the CRM",
                   description="Status, credit hold, overdue by bucket per currency (open, disputed, promised, "
                   "collectible), open disputes and promises, the last contact and the next action. Another rep's "
                   "customer is 404.", responses={200: CustomerCollectionsSerializer, **_ERRORS})
    def get(self, request, pk: int):
        customer = customers_visible_to(request.user).filter(pk=pk).select_related(
            "collections_portfolio__collector").first()
        if customer is None:
            raise NotFound(f"Customer {pk} does not exist.")
        summary = customer_summary(customer_id=customer.pk)
        row = next((r for r in worklist(user=request.user, everyone=True,
                                        filters=WorklistFilters(search=customer.account_number))
                    if r.customer_id == customer.pk), None)
        broken = row.promises_broken if row is not None else 0
        last = (Activity.objects.filter(customer=customer, kind__in=(ActivityKind.CALL, ActivityKind.EMAIL,
                                                                     ActivityKind.MEETING))
                .select_related("by").order_by("-at", "-id").first())
        portfolio = getattr(customer, "collections_portfolio", None)
        data = {
            "customer_id": customer.pk, "status": _status(summary, broken), "hold": _hold(customer.pk),
            "collector": portfolio.collector.email if portfolio and portfolio.collector else None,
            "collector_id": portfolio.collector_id if portfolio else None,
            "priority_score": str(row.score) if row is not None else None,
            "totals": [{"currency": cur, **{k: str(quantize(t[k], cur)) for k in ("open", "overdue", "disputed",
                                                                                 "promised", "collectible")},
                        "overdue_by_bucket": [{"bucket": b, "amount": str(quantize(a, cur))}
                                              for b, a in zip(BUCKETS, t["buckets"], strict=True)]}
                       for cur, t in summary["totals"].items()],
            "disputes": summary["disputes"], "promises": summary["promises"],
            "last_contact": {"at": last.at, "kind": last.kind, "outcome": last.outcome,
                             "by": last.by.email if last.by else None, "by_id": last.by_id,
                             "note": last.note} if last else None,
            "next_action": summary["next_action"], "next_action_date": summary["next_action_date"],
        }
        return Response(CustomerCollectionsSerializer(data).data)


class DisputeApiFilter(filters.FilterSet):
    customer = filters.NumberFilter(field_name="customer_id")
    invoice = filters.NumberFilter(field_name="invoice_id")
    status = filters.ChoiceFilter(choices=DisputeStatus.choices)

    class Meta:
        model = Dispute
        fields = ["customer", "invoice", "status"]


class PromiseApiFilter(filters.FilterSet):
    customer = filters.NumberFilter(field_name="customer_id")
    status = filters.ChoiceFilter(choices=PromiseStatus.choices)
    plan_reference = filters.CharFilter()

    class Meta:
        model = PromiseToPay
        fields = ["customer", "status", "plan_reference"]


@extend_schema_view(
    list=extend_schema(summary="List disputes", description="Filter by customer (id), invoice (id) and status.",
                       responses={200: DisputeOutputSerializer(many=True)}),
    retrieve=extend_schema(summary="Get one dispute", responses={200: DisputeOutputSerializer, **_ERRORS}),
)
class DisputeViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, OtcGenericViewSet):
    serializer_class = DisputeOutputSerializer
    filter_backends = [filters.DjangoFilterBackend]
    filterset_class = DisputeApiFilter
    action_perms = {"list": "collections_app.view_dispute", "retrieve": "collections_app.view_dispute",
                    "create": "collections_app.manage_dispute"}
    action_scopes = {"list": READ, "retrieve": READ, "create": WRITE}

    def get_queryset(self):
        return (Dispute.objects.filter(customer__in=customers_visible_to(self.request.user))
                .select_related("invoice", "owner").order_by("-opened_at", "-id"))

    @extend_schema(summary="Open a dispute on an invoice or some of its lines",
                   description="Amounts are gross in the invoice's currency; what is already under open disputes "
                   "cannot be disputed twice. Send an Idempotency-Key.",
                   request=DisputeCreateSerializer, responses={201: DisputeOutputSerializer, **_ERRORS})
    def create(self, request, *args, **kwargs):
        shape = DisputeCreateSerializer(data=request.data)
        shape.is_valid(raise_exception=True)
        data = shape.validated_data
        if not customers_visible_to(request.user).filter(invoices__pk=data["invoice_id"]).exists():
            raise NotFound(f"Invoice {data['invoice_id']} does not exist.")
        dispute = dispute_open(invoice_id=data["invoice_id"], by=request.user, reason=data["reason"],
                               amount=data.get("amount"), lines=[dict(x) for x in data.get("lines") or []] or None,
                               description=data.get("description", ""), due_date=data.get("due_date"),
                               source="api", source_reference=data.get("source_reference", ""))
        return Response(DisputeOutputSerializer(self.get_queryset().get(pk=dispute.pk)).data,
                        status=status.HTTP_201_CREATED)


@extend_schema_view(
    list=extend_schema(summary="List promises to pay", description="Filter by customer (id), status and "
                       "plan_reference.", responses={200: PromiseOutputSerializer(many=True)}),
    retrieve=extend_schema(summary="Get one promise to pay", responses={200: PromiseOutputSerializer, **_ERRORS}),
)
class PromiseViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, OtcGenericViewSet):
    serializer_class = PromiseOutputSerializer
    filter_backends = [filters.DjangoFilterBackend]
    filterset_class = PromiseApiFilter
    action_perms = {"list": "collections_app.view_promisetopay", "retrieve": "collections_app.view_promisetopay",
                    "create": "collections_app.manage_promise"}
    action_scopes = {"list": READ, "retrieve": READ, "create": WRITE}

    def get_queryset(self):
        return (PromiseToPay.objects.filter(customer__in=customers_visible_to(self.request.user))
                .select_related("taken_by").prefetch_related("items__invoice", "items__promise")
                .order_by("-created_at", "-id"))

    @extend_schema(summary="Record a promise to pay, or a payment plan",
                   description="A date and an amount (default: all collectible) over the invoices, or `instalments` "
                   "for a payment plan (one promise per instalment; the response is the first). Kept or broken is "
                   "decided daily from the cash applied. Send an Idempotency-Key.",
                   request=PromiseCreateSerializer, responses={201: PromiseOutputSerializer(many=True), **_ERRORS})
    def create(self, request, *args, **kwargs):
        shape = PromiseCreateSerializer(data=request.data)
        shape.is_valid(raise_exception=True)
        data = shape.validated_data
        if not customers_visible_to(request.user).filter(pk=data["customer_id"]).exists():
            raise NotFound(f"Customer {data['customer_id']} does not exist.")
        if data.get("instalments"):
            rows = payment_plan_create(customer_id=data["customer_id"], by=request.user,
                                       invoice_ids=data["invoice_ids"], channel="api", note=data.get("note", ""),
                                       instalments=[(i["date"], i["amount"]) for i in data["instalments"]])
        else:
            rows = [promise_take(customer_id=data["customer_id"], by=request.user, channel="api",
                                 promised_date=data["promised_date"], invoice_ids=data["invoice_ids"],
                                 amount=data.get("amount"), note=data.get("note", ""))]
        fresh = self.get_queryset().filter(pk__in=[r.pk for r in rows]).order_by("promised_date", "id")
        return Response(PromiseOutputSerializer(fresh, many=True).data, status=status.HTTP_201_CREATED)


