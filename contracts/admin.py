"""Contracts: admin for administrators, never the main UI. Workflow state is read-only here:
changes go through the services (review page, API)."""

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import (
    Approval,
    Assessment,
    Contract,
    ContractComment,
    ContractLine,
    ContractVersion,
    FinancePolicy,
    Finding,
    Product,
    UsageRecord,
)


@admin.register(Product)
class ProductAdmin(SimpleHistoryAdmin):
    list_display = ["sku", "name", "unit", "default_price", "currency", "tax_category", "is_active"]
    list_filter = ["is_active", "tax_category"]
    search_fields = ["sku", "name"]


@admin.register(FinancePolicy)
class FinancePolicyAdmin(SimpleHistoryAdmin):
    list_display = ["legal_entity", "standard_payment_terms_days", "max_payment_terms_days", "max_discount_percent",
                    "reviewer_max_value", "manager_max_value"]


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class LineInline(ReadOnlyInline):
    model = ContractLine
    fields = ["position", "line_key", "product", "kind", "quantity", "unit_price", "discount_percent",
              "minimum_commitment", "milestone_date", "start_date", "end_date"]
    readonly_fields = fields


class ApprovalInline(ReadOnlyInline):
    model = Approval
    fields = ["level", "approver", "decision", "comment", "decided_at", "voided_at"]
    readonly_fields = fields


class VersionInline(ReadOnlyInline):
    model = ContractVersion
    fk_name = "contract"
    fields = ["version", "status", "effective_date", "start_date", "end_date", "currency", "submitted_by",
              "decided_at"]
    readonly_fields = fields
    show_change_link = True


@admin.register(Contract)
class ContractAdmin(SimpleHistoryAdmin):
    list_display = ["number", "title", "customer", "legal_entity", "status", "sales_owner", "crm_opportunity_id",
                    "updated_at"]
    list_filter = ["status", "legal_entity"]
    search_fields = ["number", "title", "crm_opportunity_id", "customer__legal_name"]
    list_select_related = ["customer", "legal_entity", "sales_owner"]
    readonly_fields = ["number", "status", "current_version", "terminated_on", "termination_reason", "created_by",
                       "created_at", "updated_at"]
    raw_id_fields = ["customer", "sales_owner"]
    inlines = [VersionInline]


@admin.register(ContractVersion)
class ContractVersionAdmin(SimpleHistoryAdmin):
    list_display = ["__str__", "status", "effective_date", "currency", "start_date", "end_date", "submitted_at"]
    list_filter = ["status", "currency"]
    search_fields = ["contract__number", "contract__title"]
    list_select_related = ["contract"]
    readonly_fields = ["contract", "version", "amends", "status", "submitted_by", "submitted_at", "decided_at",
                       "override_by", "override_at", "override_reason", "created_by"]
    inlines = [LineInline, ApprovalInline]


@admin.register(Assessment)
class AssessmentAdmin(admin.ModelAdmin):
    list_display = ["version", "created_at", "contract_value", "highest_severity", "required_levels"]
    list_select_related = ["version__contract"]

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Finding)
class FindingAdmin(admin.ModelAdmin):
    list_display = ["assessment", "rule", "severity"]
    list_filter = ["severity", "rule"]

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(UsageRecord)
class UsageRecordAdmin(admin.ModelAdmin):
    list_display = ["source_id", "contract", "line_key", "period_start", "quantity", "received_at"]
    search_fields = ["source_id", "contract__number"]
    list_select_related = ["contract"]

    def has_change_permission(self, request, obj=None):
        return False


admin.site.register(ContractComment)
