"""Shapes only. Receipts as the bank and the cash-application team see them: amounts are strings
in the receipt currency's minor unit ("1190.00"), never floats. The input serializer checks
types for a receipt posted by a bank integration; `receipt_record` decides what is recorded."""

from __future__ import annotations

from rest_framework import serializers

from billing.api.serializers import DocumentCustomerSerializer, MoneyField
from otc.api import refs
from otc.api.fields import AmountField
from otc.api.serializers import InputSerializer

from ..models import BankAccount, Receipt, ReceiptApplication


class ReceiptBankAccountSerializer(serializers.ModelSerializer):
    class Meta:
        model = BankAccount
        fields = ["id", "name", "account_number", "currency"]
        read_only_fields = fields


class ReceiptApplicationOutputSerializer(serializers.ModelSerializer):
    """Part of the receipt applied to one invoice, or to an open item without an invoice (an opening
    balance: `invoice_id` is null, `open_item_id` names it); `reversed_at` is set once it was taken back."""

    invoice_id = serializers.IntegerField(read_only=True, allow_null=True)
    invoice_number = refs.document_number("invoice")
    open_item_id = serializers.IntegerField(read_only=True, allow_null=True)
    open_item_document_number = serializers.CharField(source="open_item.document_number", default=None,
                                                      allow_null=True, read_only=True)
    amount = MoneyField(currency_from="receipt.currency")

    class Meta:
        model = ReceiptApplication
        fields = ["id", "invoice_id", "invoice_number", "open_item_id", "open_item_document_number", "amount", "rule",
                  "score", "reason", "applied_at", "reversed_at"]
        read_only_fields = fields


class AllocationInputSerializer(InputSerializer):
    invoice_id = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    open_item_id = serializers.IntegerField(required=False, allow_null=True, min_value=1,
                                            help_text="An open item without an invoice (an opening balance)")
    amount = AmountField()

    def validate(self, attrs):
        if bool(attrs.get("invoice_id")) == bool(attrs.get("open_item_id")):
            raise serializers.ValidationError("Give either invoice_id or open_item_id.")
        return attrs


class ReceiptApplyInputSerializer(InputSerializer):
    """Apply a receipt: allocations to one customer's invoices or open items; `on_account` leaves the rest
    as the customer's credit."""

    allocations = AllocationInputSerializer(many=True, allow_empty=False)
    on_account = serializers.BooleanField(required=False, default=False)


class ReceiptOutputSerializer(serializers.ModelSerializer):
    legal_entity = refs.entity_code()
    legal_entity_id = refs.entity_id()
    bank_account = ReceiptBankAccountSerializer(read_only=True)
    customer = DocumentCustomerSerializer(read_only=True, allow_null=True,
                                          help_text="Who paid; null while the receipt is unidentified")
    amount = MoneyField()
    amount_applied = MoneyField()
    amount_refunded = MoneyField()
    amount_unapplied = MoneyField(source="unapplied_amount", help_text="amount - applied - refunded")
    applications = ReceiptApplicationOutputSerializer(many=True, read_only=True)

    class Meta:
        model = Receipt
        fields = ["id", "number", "source", "legal_entity", "legal_entity_id", "bank_account", "value_date", "amount", "currency",
                  "payer_name", "payer_account", "remittance", "bank_reference", "end_to_end_id", "customer",
                  "status", "amount_applied", "amount_refunded", "amount_unapplied", "match_status", "match_score",
                  "applications", "reversal_reason", "created_at", "updated_at"]
        read_only_fields = fields


class ReceiptPostSerializer(InputSerializer):
    """A receipt from a bank integration. The account by id or by its number/IBAN; the customer,
    when the bank already knows it, by id or account number (else matching identifies the payer)."""

    bank_account = serializers.IntegerField(required=False, allow_null=True, help_text="Bank account id")
    bank_account_number = serializers.CharField(required=False, allow_blank=True, max_length=60,
                                                help_text="Or the account number / IBAN as on statements")
    value_date = serializers.DateField()
    amount = AmountField(help_text='A positive decimal string, e.g. "1190.00"')
    currency = serializers.CharField(required=False, allow_blank=True, max_length=3,
                                     help_text="Defaults to the bank account's currency; another is refused")
    payer_name = serializers.CharField(required=False, allow_blank=True, max_length=200)
    payer_account = serializers.CharField(required=False, allow_blank=True, max_length=60)
    remittance = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    bank_reference = serializers.CharField(
        required=False, allow_blank=True, max_length=100,
        help_text="The bank's transaction reference: recorded once per account, a second time is refused")
    end_to_end_id = serializers.CharField(required=False, allow_blank=True, max_length=100)
    customer = serializers.IntegerField(required=False, allow_null=True, help_text="Customer id, if known")
    customer_account_number = serializers.CharField(required=False, allow_blank=True, max_length=40)

    def validate(self, attrs):
        if not attrs.get("bank_account") and not attrs.get("bank_account_number"):
            raise serializers.ValidationError({"bank_account": ["Give the bank account id or bank_account_number."]})
        return attrs
