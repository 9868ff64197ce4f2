"""Shapes only. Output serializers render invoices and credit notes: amounts are strings quantised
to the document currency's minor unit ("1190.00", JPY "1190"), never floats. The input serializer
checks types for a credit-note request; the service decides what may be credited."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from otc import dates
from otc.api import refs
from otc.api.fields import AmountField, MoneyField, PriceField
from otc.api.serializers import InputSerializer

from ..models import CreditNote, CreditNoteLine, Invoice, InvoiceLine
from .filters import OPEN_STATUSES


class DocumentCustomerSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    account_number = serializers.CharField()
    name = serializers.CharField(source="legal_name")


class InvoiceLineOutputSerializer(serializers.ModelSerializer):
    product_sku = serializers.CharField(source="product.sku", default=None, allow_null=True, read_only=True)
    tax_code = serializers.CharField(source="tax_code.code", read_only=True)
    unit_price = PriceField(currency_from="invoice.currency")
    net_amount = MoneyField(currency_from="invoice.currency")
    tax_amount = MoneyField(currency_from="invoice.currency")

    class Meta:
        model = InvoiceLine
        fields = ["id", "position", "product", "product_sku", "description", "unit", "service_start", "service_end",
                  "quantity", "unit_price", "discount_percent", "net_amount", "tax_code", "tax_rate", "tax_amount",
                  "revenue_account_code"]
        read_only_fields = fields


class InvoiceCreditNoteSerializer(serializers.ModelSerializer):
    """A credit note against the invoice, in short."""

    gross_total = MoneyField()

    class Meta:
        model = CreditNote
        fields = ["id", "number", "status", "reason", "issue_date", "currency", "gross_total"]
        read_only_fields = fields


class PaymentStatus:
    """What a reader of the invoice wants to know: is it paid, and is it late?"""

    DRAFT, VOID, PAID, PARTIALLY_PAID, UNPAID = "draft", "void", "paid", "partially_paid", "unpaid"
    WRITTEN_OFF = "written_off"
    CHOICES = [DRAFT, UNPAID, PARTIALLY_PAID, PAID, VOID, WRITTEN_OFF]

    @classmethod
    def of(cls, invoice: Invoice) -> str:
        if invoice.status in (Invoice.Status.DRAFT, Invoice.Status.VOID, Invoice.Status.WRITTEN_OFF):
            return invoice.status
        if invoice.status == Invoice.Status.PAID or invoice.balance_due <= 0:
            return cls.PAID
        return cls.PARTIALLY_PAID if invoice.amount_paid > 0 else cls.UNPAID


def days_overdue(invoice: Invoice) -> int:
    """Days past the due date of an issued or partially paid invoice; 0 when not overdue."""
    if invoice.status not in OPEN_STATUSES or invoice.due_date is None:
        return 0
    return max((dates.today() - invoice.due_date).days, 0)


class InvoiceListSerializer(serializers.ModelSerializer):
    legal_entity = refs.entity_code()
    legal_entity_id = refs.entity_id()
    customer = DocumentCustomerSerializer(read_only=True)
    contract_number = serializers.CharField(source="contract.number", default=None, allow_null=True, read_only=True)
    billing_period = serializers.SerializerMethodField()
    net_total = MoneyField()
    tax_total = MoneyField()
    gross_total = MoneyField()
    amount_credited = MoneyField()
    amount_paid = MoneyField()
    amount_written_off = MoneyField()
    balance_due = MoneyField()
    payment_status = serializers.SerializerMethodField()
    overdue = serializers.SerializerMethodField()
    days_overdue = serializers.SerializerMethodField()
    pdf_url = serializers.SerializerMethodField()
    ubl_url = serializers.SerializerMethodField()

    class Meta:
        model = Invoice
        fields = ["id", "number", "status", "legal_entity", "legal_entity_id", "customer", "contract", "contract_number",
                  "billing_period", "billing_period_start", "service_start", "service_end", "issue_date", "due_date",
                  "payment_terms_days", "currency", "po_number", "net_total", "tax_total", "gross_total",
                  "amount_credited", "amount_paid", "amount_written_off", "balance_due", "payment_status", "overdue", "days_overdue",
                  "on_hold", "hold_reason", "pdf_url", "ubl_url", "issued_at", "voided_at", "void_reason",
                  "created_at", "updated_at"]
        read_only_fields = fields

    @extend_schema_field({"type": "string", "nullable": True, "example": "2026-11",
                          "description": "Billed month (YYYY-MM) of a billing-run invoice; null for manual ones"})
    def get_billing_period(self, invoice: Invoice) -> str | None:
        start = invoice.billing_period_start
        return f"{start:%Y-%m}" if start else None

    @extend_schema_field(serializers.ChoiceField(choices=PaymentStatus.CHOICES))
    def get_payment_status(self, invoice: Invoice) -> str:
        return PaymentStatus.of(invoice)

    def get_overdue(self, invoice: Invoice) -> bool:
        return days_overdue(invoice) > 0

    def get_days_overdue(self, invoice: Invoice) -> int:
        return days_overdue(invoice)

    def _link(self, invoice: Invoice, name: str) -> str | None:
        if invoice.status == Invoice.Status.DRAFT:
            return None
        url = reverse(name, args=[invoice.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request else url

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_pdf_url(self, invoice: Invoice) -> str | None:
        return self._link(invoice, "invoice-pdf")

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_ubl_url(self, invoice: Invoice) -> str | None:
        return self._link(invoice, "invoice-ubl")


class InvoicePaymentSerializer(serializers.Serializer):
    """Part of a receipt applied to the invoice (receivables' ReceiptApplication, read through the
    `invoice.applications` relation: billing never imports receivables). A reversed application
    stays listed with `reversed: true`."""

    receipt_number = serializers.CharField(source="receipt.number")
    value_date = serializers.DateField(source="receipt.value_date")
    amount_applied = MoneyField(source="amount", currency_from="receipt.currency")
    applied_at = serializers.DateTimeField()
    reversed = serializers.SerializerMethodField()
    reversed_at = serializers.DateTimeField(allow_null=True)

    def get_reversed(self, application) -> bool:
        return application.reversed_at is not None


class InvoiceOutputSerializer(InvoiceListSerializer):
    """One invoice with its lines, the credit notes against it and the payments applied to it."""

    lines = InvoiceLineOutputSerializer(many=True, read_only=True)
    credit_notes = InvoiceCreditNoteSerializer(many=True, read_only=True)
    payments = serializers.SerializerMethodField()

    class Meta(InvoiceListSerializer.Meta):
        fields = [*InvoiceListSerializer.Meta.fields, "notes", "lines", "credit_notes", "payments"]
        read_only_fields = fields

    @extend_schema_field(InvoicePaymentSerializer(many=True))
    def get_payments(self, invoice: Invoice) -> list[dict[str, Any]]:
        # One query with the receipts joined (the view's queryset is not touched): constant per invoice.
        applications = invoice.applications.select_related("receipt").order_by("applied_at", "id")
        return InvoicePaymentSerializer(applications, many=True, context=self.context).data


class CreditNoteLineOutputSerializer(serializers.ModelSerializer):
    tax_code = serializers.CharField(source="tax_code.code", read_only=True)
    net_amount = MoneyField(currency_from="credit_note.currency")
    tax_amount = MoneyField(currency_from="credit_note.currency")

    class Meta:
        model = CreditNoteLine
        fields = ["id", "position", "invoice_line", "description", "quantity", "net_amount", "tax_code", "tax_rate",
                  "tax_amount", "revenue_account_code"]
        read_only_fields = fields


class CreditNoteListSerializer(serializers.ModelSerializer):
    legal_entity = refs.entity_code()
    legal_entity_id = refs.entity_id()
    customer = DocumentCustomerSerializer(read_only=True)
    invoice_id = serializers.IntegerField(read_only=True)
    invoice_number = refs.document_number("invoice", nullable=False)
    net_total = MoneyField()
    tax_total = MoneyField()
    gross_total = MoneyField()
    requested_by = refs.person_email("requested_by", nullable=False)
    requested_by_id = refs.person_id("requested_by", nullable=False)
    decided_by = refs.person_email("decided_by")
    decided_by_id = refs.person_id("decided_by")

    class Meta:
        model = CreditNote
        fields = ["id", "number", "status", "reason", "explanation", "legal_entity", "legal_entity_id", "customer",
                  "invoice_id", "invoice_number", "currency", "net_total", "tax_total", "gross_total", "issue_date",
                  "requested_by", "requested_by_id", "requested_at", "decided_by", "decided_by_id", "decided_at",
                  "decision_note", "issued_at"]
        read_only_fields = fields


class CreditNoteOutputSerializer(CreditNoteListSerializer):
    lines = CreditNoteLineOutputSerializer(many=True, read_only=True)

    class Meta(CreditNoteListSerializer.Meta):
        fields = [*CreditNoteListSerializer.Meta.fields, "lines"]
        read_only_fields = fields


class CreditNoteLineInputSerializer(InputSerializer):
    invoice_line_id = serializers.IntegerField()
    quantity = AmountField(required=False, allow_null=True, help_text="Units to credit at the line's price")
    net_amount = AmountField(required=False, allow_null=True, help_text="Or a net amount on this line")


class CreditNoteRequestSerializer(InputSerializer):
    """The invoice by `invoice_id` or `invoice_number` (exactly one). The whole invoice (neither
    `lines` nor `amount`), some lines, or a net `amount` spread over the lines pro rata. Tax is
    added at the original lines' rates."""

    one_of = (("invoice_id", "invoice_number"),)

    invoice_id = serializers.IntegerField(required=False, min_value=1, max_value=2**63 - 1)
    invoice_number = serializers.CharField(required=False, max_length=40, help_text="Or the invoice's number")
    reason = serializers.CharField(help_text="One of: " + ", ".join(CreditNote.Reason.values))
    explanation = serializers.CharField(allow_blank=True, help_text="Why the customer is credited")
    lines = CreditNoteLineInputSerializer(many=True, required=False)
    amount = AmountField(required=False, allow_null=True, help_text="A net amount, e.g. \"150.00\"")

