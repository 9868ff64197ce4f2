"""/api/v1/write-offs/: read write-offs (scope write_offs:read) and request them (write_offs:write).

Requests go through `collections_app.services.writeoffs.writeoff_request` (the same rules as the
page: one customer's AR items in one entity and currency, no open dispute, not already in a live
write-off) and wait for approval in the app: approving and posting are not open to API clients.
POST takes an Idempotency-Key header like every POST."""

from __future__ import annotations

import django_filters
from django.db.models import Prefetch
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.filters import OrderingFilter
from rest_framework.response import Response

from billing.selectors import invoices_visible_to
from collections_app.models import WriteOff, WriteOffLine, WriteOffReason, WriteOffStatus
from collections_app.services.writeoffs import writeoff_request
from customers.selectors import customers_visible_to
from otc.api import refs
from otc.api.fields import MoneyField
from otc.api.serializers import InputSerializer
from otc.api.views import OtcGenericViewSet
from otc.errors import ValidationFailed

READ, WRITE = "write_offs:read", "write_offs:write"
_ERRORS = {400: OpenApiResponse(description="Invalid request (one error shape)"),
           403: OpenApiResponse(description="Missing permission or scope"),
           404: OpenApiResponse(description="Not found")}


class WriteOffLineSerializer(serializers.ModelSerializer):
    invoice_id = serializers.IntegerField(read_only=True, allow_null=True)
    invoice_number = refs.document_number("invoice")
    open_item_id = serializers.IntegerField(read_only=True)
    amount = MoneyField(currency_from="write_off.currency")
    tax_amount = MoneyField(currency_from="write_off.currency")
    recovered_amount = MoneyField(currency_from="write_off.currency")

    class Meta:
        model = WriteOffLine
        fields = ["id", "open_item_id", "invoice_id", "invoice_number", "document_number", "amount", "partial",
                  "tax_amount", "recovered_amount"]
        read_only_fields = fields


class WriteOffApprovalSerializer(serializers.Serializer):
    level = serializers.IntegerField()
    approver = serializers.CharField(help_text="The approver's e-mail")
    approver_id = serializers.IntegerField()
    at = serializers.DateTimeField()


class WriteOffSerializer(serializers.ModelSerializer):
    legal_entity = refs.entity_code()
    legal_entity_id = refs.entity_id()
    number = serializers.CharField(read_only=True)
    amount = MoneyField()
    tax_relief = MoneyField()
    recovered_amount = MoneyField()
    lines = WriteOffLineSerializer(many=True, read_only=True)
    approvals = serializers.SerializerMethodField()
    journal_entry = serializers.CharField(source="journal_entry.number", default=None, allow_null=True, read_only=True)

    class Meta:
        model = WriteOff
        fields = ["id", "number", "status", "legal_entity", "legal_entity_id", "customer", "currency", "amount", "reason", "explanation",
                  "required_approvals", "approvals", "requested_at", "submitted_at", "decided_at", "decision_note",
                  "debit_role", "tax_relief", "journal_entry", "posted_at", "recovered_amount", "batch", "lines"]
        read_only_fields = fields

    @extend_schema_field(WriteOffApprovalSerializer(many=True))
    def get_approvals(self, obj) -> list[dict]:
        return [{"level": a.level, "approver": a.approver.email, "approver_id": a.approver_id, "at": a.at.isoformat()}
                for a in obj.approvals.all()]


class WriteOffRequestSerializer(InputSerializer):
    invoice_ids = serializers.ListField(child=serializers.IntegerField(min_value=1, max_value=2**63 - 1), required=False, default=list,
                                        max_length=500)
    open_item_ids = serializers.ListField(child=serializers.IntegerField(min_value=1, max_value=2**63 - 1), required=False, default=list,
                                          max_length=500, help_text="AR open items without an invoice")
    invoice_amounts = serializers.DictField(
        child=serializers.DecimalField(max_digits=20, decimal_places=4), required=False, default=dict,
        help_text='Partial write-offs: {"<invoice id>": "amount"}, part of the invoice\'s balance (the rest stays open)')
    reason = serializers.ChoiceField(choices=WriteOffReason.choices)
    explanation = serializers.CharField(required=False, allow_blank=True, default="", max_length=4000)
    submit = serializers.BooleanField(required=False, default=True, help_text="Send for approval at once")


class WriteOffFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=WriteOffStatus.choices)
    reason = django_filters.ChoiceFilter(choices=WriteOffReason.choices)
    customer = django_filters.NumberFilter(field_name="customer_id")
    legal_entity = django_filters.CharFilter(field_name="legal_entity__code")

    class Meta:
        model = WriteOff
        fields = ["status", "reason", "customer", "legal_entity"]


@extend_schema_view(
    list=extend_schema(summary="List write-offs", description="Filter by status, reason, customer (id) and "
                       "legal_entity (code).", responses={200: WriteOffSerializer(many=True)}),
    retrieve=extend_schema(summary="Get one write-off with its lines, approvals and recoveries",
                           responses={200: WriteOffSerializer, **_ERRORS}),
)
class WriteOffViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, OtcGenericViewSet):
    serializer_class = WriteOffSerializer
    filter_backends = [DjangoFilterBackend, OrderingFilter]
    filterset_class = WriteOffFilter
    ordering_fields = ["requested_at", "amount"]
    ordering = ["-requested_at", "-id"]
    action_perms = {"list": "collections_app.view_writeoff", "retrieve": "collections_app.view_writeoff",
                    "create": "collections_app.request_writeoff"}
    action_scopes = {"list": READ, "retrieve": READ, "create": WRITE}

    def get_queryset(self):
        return (WriteOff.objects.filter(customer__in=customers_visible_to(self.request.user))
                .select_related("legal_entity", "journal_entry")
                .prefetch_related(Prefetch("lines", queryset=WriteOffLine.objects.select_related("write_off")),
                                  "approvals__approver"))

    @extend_schema(
        summary="Request a write-off",
        description="Invoices (their whole remaining balance) and/or AR open items without an invoice of one "
        "customer, entity and currency, with a reason. It waits for approval in the app. Refused (400) when an "
        "invoice is under an open dispute, an item is already in a live write-off or nothing is open. Send an "
        "Idempotency-Key header to make retries safe.",
        request=WriteOffRequestSerializer, responses={201: WriteOffSerializer, **_ERRORS},
    )
    def create(self, request, *args, **kwargs):
        shape = WriteOffRequestSerializer(data=request.data)
        shape.is_valid(raise_exception=True)
        data = shape.validated_data
        try:
            amounts = {int(k): v for k, v in data["invoice_amounts"].items()}
        except ValueError:
            raise ValidationFailed("invoice_amounts are keyed by invoice id.", fields={"invoice_amounts": ["invalid"]})
        wanted = set(data["invoice_ids"]) | set(amounts)
        visible = set(invoices_visible_to(request.user).filter(pk__in=wanted).values_list("pk", flat=True))
        if missing := sorted(wanted - visible):
            raise ValidationFailed(f"Invoice {missing[0]} does not exist.", fields={"invoice_ids": ["not found"]})
        write_off = writeoff_request(invoice_ids=data["invoice_ids"], open_item_ids=data["open_item_ids"],
                                     reason=data["reason"], explanation=data["explanation"], by=request.user,
                                     submit=data["submit"], invoice_amounts=amounts)
        fresh = self.get_queryset().get(pk=write_off.pk)
        return Response(WriteOffSerializer(fresh, context=self.get_serializer_context()).data,
                        status=status.HTTP_201_CREATED)
