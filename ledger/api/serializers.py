"""Output serializers for the read-only ledger API. Amounts are strings (DecimalField with
coerce_to_string), never floats."""

from __future__ import annotations

from rest_framework import serializers

from ..models import Account, JournalEntry, JournalLine, LegalEntity, OpenItem

_AMOUNT = {"max_digits": 20, "decimal_places": 4, "coerce_to_string": True, "read_only": True}


class LegalEntitySerializer(serializers.ModelSerializer):
    class Meta:
        model = LegalEntity
        fields = [
            "id", "code", "name", "legal_name", "address_line1", "address_line2", "city", "region", "postal_code",
            "country", "tax_id", "registration_number", "functional_currency", "invoice_prefix", "credit_note_prefix",
            "einvoice_endpoint", "email", "phone", "bank_name", "bank_account_name", "iban", "bic",
            "bank_account_number", "bank_routing_number", "remittance_note", "is_active",
        ]
        read_only_fields = fields


class AccountSerializer(serializers.ModelSerializer):
    legal_entity = serializers.SlugRelatedField(slug_field="code", read_only=True)
    legal_entity_id = serializers.IntegerField(read_only=True)

    class Meta:
        model = Account
        fields = ["id", "legal_entity", "legal_entity_id", "code", "name", "type", "role", "is_active"]
        read_only_fields = fields


class JournalLineSerializer(serializers.ModelSerializer):
    account_code = serializers.CharField(source="account.code", read_only=True)
    customer_account_number = serializers.CharField(source="customer.account_number", read_only=True, default=None)
    amount = serializers.DecimalField(**_AMOUNT)
    functional_amount = serializers.DecimalField(**_AMOUNT)
    fx_rate = serializers.DecimalField(max_digits=24, decimal_places=10, coerce_to_string=True, read_only=True)

    class Meta:
        model = JournalLine
        fields = [
            "id", "account", "account_code", "customer", "customer_account_number", "currency", "amount", "fx_rate",
            "functional_amount", "description", "open_item",
        ]
        read_only_fields = fields


class JournalEntrySerializer(serializers.ModelSerializer):
    legal_entity = serializers.SlugRelatedField(slug_field="code", read_only=True)
    legal_entity_id = serializers.IntegerField(read_only=True)
    period = serializers.CharField(source="period.label", read_only=True)
    functional_currency = serializers.CharField(source="legal_entity.functional_currency", read_only=True)
    lines = JournalLineSerializer(many=True, read_only=True)

    class Meta:
        model = JournalEntry
        fields = [
            "id", "legal_entity", "legal_entity_id", "number", "kind", "entry_date", "document_date", "period", "memo",
            "source_reference", "reverses", "posted_at", "functional_currency", "lines",
        ]
        read_only_fields = fields


class OpenItemSerializer(serializers.ModelSerializer):
    legal_entity = serializers.SlugRelatedField(slug_field="code", read_only=True)
    legal_entity_id = serializers.IntegerField(read_only=True)
    account_code = serializers.CharField(source="account.code", read_only=True)
    customer_account_number = serializers.CharField(source="customer.account_number", read_only=True)
    original_amount = serializers.DecimalField(**_AMOUNT)
    open_amount = serializers.DecimalField(**_AMOUNT)
    is_open = serializers.BooleanField(read_only=True)

    class Meta:
        model = OpenItem
        fields = [
            "id", "legal_entity", "legal_entity_id", "account_code", "customer", "customer_account_number", "currency", "document_type",
            "document_number", "document_date", "due_date", "original_amount", "open_amount", "is_open", "updated_at",
        ]
        read_only_fields = fields
