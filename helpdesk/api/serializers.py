"""Shapes only: the service decides who may file what about which customer."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from otc.api.fields import AmountField
from otc.api.serializers import InputSerializer
from otc.money import quantize

from ..models import Category, Comment, Ticket


class CommentSerializer(serializers.ModelSerializer):
    author = serializers.CharField(source="author.username", default=None, read_only=True)

    class Meta:
        model = Comment
        fields = ["id", "author", "body", "source", "created_at"]


class TicketListSerializer(serializers.ModelSerializer):
    customer_id = serializers.IntegerField(allow_null=True)
    customer_account_number = serializers.CharField(source="customer.account_number", default=None, read_only=True)
    invoice_number = serializers.CharField(source="invoice.number", default=None, read_only=True)
    requester = serializers.CharField(source="requester.username")
    assignee = serializers.CharField(source="assignee.username", default=None, read_only=True)
    queue = serializers.CharField(source="queue.get_kind_display")
    legal_entity = serializers.CharField(source="legal_entity.code")
    url = serializers.SerializerMethodField()

    class Meta:
        model = Ticket
        fields = ["reference", "category", "priority", "status", "subject", "customer_id", "customer_account_number",
                  "invoice_number", "requester", "assignee", "queue", "legal_entity", "sla_state",
                  "first_response_due", "resolution_due", "created_at", "updated_at", "url"]

    def get_url(self, obj: Ticket) -> str:
        request = self.context.get("request")
        path = obj.get_absolute_url()
        return request.build_absolute_uri(path) if request else path


class TicketOutputSerializer(TicketListSerializer):
    amount = serializers.SerializerMethodField(help_text="Decimal string in the ticket's currency, or null")
    comments = serializers.SerializerMethodField()

    class Meta(TicketListSerializer.Meta):
        fields = [*TicketListSerializer.Meta.fields, "description", "details", "amount", "currency",
                  "first_response_at", "resolved_at", "satisfaction", "comments"]

    def get_amount(self, obj: Ticket) -> str | None:
        return str(quantize(obj.amount, obj.currency)) if obj.amount is not None else None

    @extend_schema_field(CommentSerializer(many=True))
    def get_comments(self, obj: Ticket) -> list[dict]:
        return CommentSerializer(getattr(obj, "public_comments", []), many=True).data


class TicketCreateSerializer(InputSerializer):
    requester = serializers.CharField(required=False, help_text="The rep's username or e-mail (integrations only); "
                                      "default: the caller")
    category = serializers.ChoiceField(choices=Category.choices)
    subject = serializers.CharField(max_length=200)
    description = serializers.CharField()
    customer_id = serializers.IntegerField(required=False, allow_null=True)
    customer_crm_id = serializers.CharField(required=False, help_text="The customer's CRM id instead of customer_id")
    invoice_id = serializers.IntegerField(required=False, allow_null=True)
    invoice_number = serializers.CharField(required=False)
    contract_id = serializers.IntegerField(required=False, allow_null=True)
    amount = AmountField(required=False, allow_null=True, help_text='A decimal string, e.g. "150.00", in the invoice\'s '
                         "currency (else details.currency or the customer's)")
    details = serializers.DictField(required=False)


class TicketCommentSerializer(InputSerializer):
    body = serializers.CharField()
    author = serializers.CharField(required=False, help_text="The rep's username or e-mail (integrations only)")
