"""Shapes only: input serializers check types (amounts as strings, never floats), output
serializers render. The services decide what is valid and write. Input names match the
service's (`customer_id`, `lines[0].product_id`) so an error names the field the caller sent."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from otc.api import refs
from otc.api.fields import AmountField, MoneyField, PriceField
from otc.api.serializers import InputSerializer

from ..models import Approval, Contract, ContractLine, ContractVersion, Finding, UsageRecord
from ..values import contract_values


class LineInputSerializer(InputSerializer):
    one_of = (("product_id", "product_sku"),)

    line_key = serializers.UUIDField(required=False, help_text="Keep a line's identity when updating")
    product_id = serializers.IntegerField(required=False)
    product_sku = serializers.CharField(required=False, max_length=40, help_text="Instead of product_id")
    kind = serializers.ChoiceField(choices=ContractLine.Kind.choices)
    description = serializers.CharField(required=False, allow_blank=True, max_length=255)
    quantity = AmountField(required=False)
    unit_price = AmountField()
    discount_percent = AmountField(required=False)
    minimum_commitment = AmountField(required=False)
    milestone_date = serializers.DateField(required=False, allow_null=True)
    start_date = serializers.DateField(required=False, allow_null=True)
    end_date = serializers.DateField(required=False, allow_null=True)


class VersionTermsInput(InputSerializer):
    """The terms a new contract and an amendment both send (all optional)."""

    end_date = serializers.DateField(required=False, allow_null=True)
    auto_renew = serializers.BooleanField(required=False)
    renewal_notice_days = serializers.IntegerField(required=False, min_value=0)
    billing_frequency = serializers.ChoiceField(choices=ContractVersion.Frequency.choices, required=False)
    billing_timing = serializers.ChoiceField(choices=ContractVersion.Timing.choices, required=False)
    payment_terms_days = serializers.IntegerField(required=False, allow_null=True, min_value=0)
    discount_percent = AmountField(required=False)
    po_number = serializers.CharField(required=False, allow_blank=True, max_length=60)
    late_fee_percent = AmountField(required=False)
    prepayment_percent = AmountField(required=False)
    free_periods = serializers.IntegerField(required=False, min_value=0)
    notes = serializers.CharField(required=False, allow_blank=True)


class ContractInputSerializer(VersionTermsInput):
    """A contract with its version terms and lines. The customer by `customer_id` or by its CRM
    id (`customer_crm_id`); the legal entity by its code (`legal_entity`); the sales owner by
    e-mail (`sales_owner`); products by `product_id` or `product_sku`. `legal_entity_id` and
    `sales_owner_id` are the old spellings, still accepted."""

    one_of = (("customer_id", "customer_crm_id"), ("legal_entity", "legal_entity_id"))
    deprecated_fields = {"legal_entity_id": "legal_entity", "sales_owner_id": "sales_owner"}

    customer_id = serializers.IntegerField(required=False)
    customer_crm_id = serializers.CharField(required=False, max_length=64)
    legal_entity = serializers.CharField(required=False, max_length=10, help_text="Legal entity code, e.g. DE01 "
                                         "(see /api/v1/legal-entities/)")
    legal_entity_id = serializers.IntegerField(required=False)
    title = serializers.CharField(max_length=200)
    sales_owner = serializers.EmailField(required=False, allow_null=True, help_text="The sales rep's e-mail "
                                         "(see /api/v1/sales-reps/)")
    sales_owner_id = serializers.IntegerField(required=False, allow_null=True)
    crm_opportunity_id = serializers.CharField(required=False, max_length=64, allow_null=True)
    currency = serializers.CharField(max_length=3)
    start_date = serializers.DateField()
    lines = LineInputSerializer(many=True)


class ContractUpsertSerializer(ContractInputSerializer):
    crm_opportunity_id = serializers.CharField(max_length=64)


class AmendInputSerializer(VersionTermsInput):
    """An amendment of an active contract: from when, and what changes. Terms left out and lines
    left out (no `lines`) stay as in the version in force; `lines` replaces all lines (send each
    line's `line_key` to keep its identity)."""

    effective_date = serializers.DateField(help_text="From when the amended terms apply")
    lines = LineInputSerializer(many=True, required=False)


class UsageInputSerializer(InputSerializer):
    line_key = serializers.UUIDField()
    period_start = serializers.DateField(help_text="Any day of the month; stored as the 1st")
    quantity = AmountField()
    source_id = serializers.CharField(max_length=120, help_text="Unique per record: a resend changes nothing")


class UsageOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = UsageRecord
        fields = ["id", "contract", "line_key", "period_start", "quantity", "source_id", "received_at"]
        read_only_fields = fields


class LineOutputSerializer(serializers.ModelSerializer):
    product_sku = serializers.CharField(source="product.sku", read_only=True)
    unit_price = PriceField(currency_from="version.currency")
    minimum_commitment = MoneyField(currency_from="version.currency")

    class Meta:
        model = ContractLine
        fields = ["line_key", "position", "product", "product_sku", "description", "kind", "quantity", "unit_price",
                  "discount_percent", "minimum_commitment", "milestone_date", "start_date", "end_date"]
        read_only_fields = fields


class FindingOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = Finding
        fields = ["rule", "severity", "explanation", "mitigation", "data"]
        read_only_fields = fields


class AssessmentOutputSerializer(serializers.Serializer):
    created_at = serializers.DateTimeField()
    contract_value = MoneyField(currency_from="version.currency")
    annual_value = MoneyField(currency_from="version.currency")
    highest_severity = serializers.CharField()
    required_levels = serializers.IntegerField()
    exposure = serializers.JSONField()
    findings = FindingOutputSerializer(many=True)


class ApprovalOutputSerializer(serializers.ModelSerializer):
    approver = refs.person_email("approver", nullable=False)
    approver_id = refs.person_id("approver", nullable=False)
    voided = serializers.SerializerMethodField()

    class Meta:
        model = Approval
        fields = ["level", "approver", "approver_id", "decision", "comment", "decided_at", "voided"]
        read_only_fields = fields

    def get_voided(self, approval: Approval) -> bool:
        return approval.voided_at is not None


class ValuesOutputSerializer(serializers.Serializer):
    """Contract values as strings in the currency's minor unit ("12000.00")."""

    currency = serializers.CharField()
    total = MoneyField()
    first_year = MoneyField()
    annualised = MoneyField()
    monthly_recurring = MoneyField()


class VersionSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = ContractVersion
        fields = ["id", "version", "status", "effective_date", "submitted_at", "decided_at"]
        read_only_fields = fields


class VersionOutputSerializer(serializers.ModelSerializer):
    submitted_by = refs.person_email("submitted_by")
    submitted_by_id = refs.person_id("submitted_by")
    override_by = refs.person_email("override_by")
    override_by_id = refs.person_id("override_by")
    lines = LineOutputSerializer(many=True, read_only=True)
    values = serializers.SerializerMethodField()
    assessment = serializers.SerializerMethodField()
    approvals = ApprovalOutputSerializer(many=True, read_only=True)

    class Meta:
        model = ContractVersion
        fields = ["id", "version", "status", "amends", "effective_date", "currency", "start_date", "end_date",
                  "auto_renew", "renewal_notice_days", "billing_frequency", "billing_timing", "payment_terms_days",
                  "discount_percent", "po_number", "late_fee_percent", "prepayment_percent", "free_periods", "notes",
                  "submitted_by", "submitted_by_id", "submitted_at", "decided_at", "override_by", "override_by_id",
                  "override_reason", "override_at",
                  "lines", "values", "assessment", "approvals"]
        read_only_fields = fields

    @extend_schema_field(ValuesOutputSerializer)
    def get_values(self, version: ContractVersion) -> dict:
        values = contract_values(version, version.lines.all())
        return ValuesOutputSerializer(values).data

    @extend_schema_field(AssessmentOutputSerializer(allow_null=True))
    def get_assessment(self, version: ContractVersion) -> dict | None:
        assessments = list(version.assessments.all())  # prefetched, newest first
        return AssessmentOutputSerializer(assessments[0]).data if assessments else None


class CustomerRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    account_number = serializers.CharField()
    legal_name = serializers.CharField()
    external_crm_id = serializers.CharField(allow_null=True)


class ContractListSerializer(serializers.ModelSerializer):
    customer = CustomerRefSerializer(read_only=True)
    legal_entity = refs.entity_code()
    legal_entity_id = refs.entity_id()
    sales_owner = refs.person_email("sales_owner")
    sales_owner_id = refs.person_id("sales_owner")
    version = serializers.IntegerField(source="current_version.version", default=None, read_only=True)
    version_status = serializers.CharField(source="current_version.status", default=None, read_only=True)

    class Meta:
        model = Contract
        fields = ["id", "number", "title", "status", "customer", "legal_entity", "legal_entity_id", "sales_owner",
                  "sales_owner_id", "crm_opportunity_id",
                  "version", "version_status", "terminated_on", "created_at", "updated_at"]
        read_only_fields = fields


class ContractOutputSerializer(ContractListSerializer):
    """One contract: the version in force (or the first draft) in full, with its lines, values,
    latest assessment and approval history, and a summary of every version."""

    current_version = VersionOutputSerializer(read_only=True)
    versions = VersionSummarySerializer(many=True, read_only=True)

    class Meta(ContractListSerializer.Meta):
        fields = [*ContractListSerializer.Meta.fields, "termination_reason", "current_version", "versions"]
        read_only_fields = fields


def flatten_errors(detail, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested errors as `{"lines[1].unit_price": [...]}`."""
    out: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            if isinstance(key, int) or str(key).isdigit():  # a nested list's errors, keyed by index
                name = f"{prefix}[{key}]"
            else:
                name = f"{prefix}.{key}" if prefix else str(key)
            out |= flatten_errors(value, name)
    elif isinstance(detail, list):
        if detail and all(not isinstance(item, dict | list) for item in detail):
            out[prefix or "non_field_errors"] = [str(item) for item in detail]
        else:
            for index, item in enumerate(detail):
                if item:
                    out |= flatten_errors(item, f"{prefix}[{index}]")
    else:
        out[prefix or "non_field_errors"] = [str(detail)]
    return out


