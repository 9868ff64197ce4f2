"""Admin for administrators. Journal entries, lines and open items change only through the
posting service, so they are read-only here; master data keeps its history."""

from __future__ import annotations

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import Account, FxRate, JournalEntry, JournalLine, LegalEntity, NumberSeries, OpenItem, Period


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class JournalLineInline(admin.TabularInline):
    model = JournalLine
    extra = 0
    can_delete = False
    fields = ["account", "customer", "currency", "amount", "fx_rate", "functional_amount", "description", "open_item"]
    readonly_fields = fields
    raw_id_fields = ["customer", "open_item"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("account", "customer", "open_item")


@admin.register(JournalEntry)
class JournalEntryAdmin(ReadOnlyAdmin):
    list_display = ["number", "legal_entity", "kind", "entry_date", "document_date", "source_reference", "posted_by"]
    list_filter = ["legal_entity", "kind"]
    search_fields = ["number", "memo", "source_reference"]
    date_hierarchy = "entry_date"
    list_select_related = ["legal_entity", "posted_by"]
    inlines = [JournalLineInline]


@admin.register(JournalLine)
class JournalLineAdmin(ReadOnlyAdmin):
    list_display = ["entry", "account", "customer", "currency", "amount", "functional_amount"]
    list_filter = ["account__legal_entity", "currency"]
    search_fields = ["entry__number", "description"]
    list_select_related = ["entry", "account", "customer"]


@admin.register(OpenItem)
class OpenItemAdmin(ReadOnlyAdmin):
    list_display = ["document_number", "customer", "legal_entity", "currency", "original_amount", "open_amount", "due_date"]
    list_filter = ["legal_entity", "currency", "document_type"]
    search_fields = ["document_number", "customer__legal_name", "customer__account_number"]
    list_select_related = ["customer", "legal_entity"]


@admin.register(NumberSeries)
class NumberSeriesAdmin(ReadOnlyAdmin):
    list_display = ["legal_entity", "doc_type", "fiscal_year", "next_number"]


@admin.register(LegalEntity)
class LegalEntityAdmin(SimpleHistoryAdmin):
    list_display = ["code", "name", "country", "functional_currency", "is_active"]
    search_fields = ["code", "name", "legal_name"]


@admin.register(Account)
class AccountAdmin(SimpleHistoryAdmin):
    list_display = ["code", "name", "legal_entity", "type", "role", "is_active"]
    list_filter = ["legal_entity", "type", "role", "is_active"]
    search_fields = ["code", "name"]
    list_select_related = ["legal_entity"]


@admin.register(Period)
class PeriodAdmin(SimpleHistoryAdmin):
    """Close and reopen periods on the periods page (it records who and why); here read-only status."""

    list_display = ["legal_entity", "year", "month", "status", "closed_at", "closed_by"]
    list_filter = ["legal_entity", "status", "year"]
    readonly_fields = ["status", "closed_at", "closed_by"]
    list_select_related = ["legal_entity", "closed_by"]


@admin.register(FxRate)
class FxRateAdmin(SimpleHistoryAdmin):
    list_display = ["date", "from_currency", "to_currency", "rate", "source"]
    list_filter = ["from_currency", "to_currency", "source"]
    date_hierarchy = "date"
