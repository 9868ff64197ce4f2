"""Shapes only: the service decides who may file what about which customer."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from otc.api import refs
from otc.api.fields import AmountField
from otc.api.serializers import InputSerializer
from otc.money import quantize

from ..models import Category, Comment, Ticket


class CommentSerializer(serializers.ModelSerializer):
    author = refs.person_email("author")
    author_id = refs.person_id("author")

    class Meta:
        model = Comment
        fields = ["id", "author", "author_id", "body", "source", "created_at"]


class TicketListSerializer(serializers.ModelSerializer):
    customer_id = serializers.IntegerField(allow_null=True)
    customer_account_number = serializers.CharField(source="customer.account_number", default=None, read_only=True)
    invoice_id = serializers.IntegerField(read_only=True, allow_null=True)
    invoice_number = refs.document_number("invoice")
    requester = refs.person_email("requester", nullable=False)
    requester_id = refs.person_id("requester", nullable=False)
    assignee = refs.person_email("assignee")
    assignee_id = refs.person_id("assignee")
    queue = serializers.CharField(source="queue.get_kind_display")
    legal_entity = refs.entity_code()
    legal_entity_id = refs.entity_id()
    url = serializers.SerializerMethodField()

    class Meta:
        model = Ticket
        fields = ["reference", "category", "priority", "status", "subject", "customer_id", "customer_account_number",
                  "invoice_id", "invoice_number", "requester", "requester_id", "assignee", "assignee_id", "queue",
                  "legal_entity", "legal_entity_id", "sla_state",
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
    requester = serializers.CharField(required=False, max_length=254,
                                      help_text="The rep's e-mail (integrations only; a username is the deprecated "
                                      "spelling, still accepted); default: the caller")
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
    author = serializers.CharField(required=False, max_length=254,
                                   help_text="The rep's e-mail (integrations only; a username is the deprecated "
                                   "spelling, still accepted); default: the caller")
