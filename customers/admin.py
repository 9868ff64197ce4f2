from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import Contact, Customer, CustomerImport
from .services.customers import next_account_number


class ContactInline(admin.TabularInline):
    model = Contact
    extra = 0
    fields = ("name", "email", "phone", "role", "is_billing_contact")


@admin.register(Customer)
class CustomerAdmin(SimpleHistoryAdmin):
    list_display = ("account_number", "legal_name", "country", "default_currency", "status", "risk_rating", "sales_owner")
    list_filter = ("status", "risk_rating", "country", "procurement_portal")
    search_fields = ("account_number", "legal_name", "display_name", "tax_id", "external_crm_id")
    list_select_related = ("sales_owner",)
    raw_id_fields = ("parent", "sales_owner")
    readonly_fields = ("account_number", "created_at", "updated_at")
    inlines = [ContactInline]

    def save_model(self, request, obj, form, change) -> None:
        if not obj.account_number:
            obj.account_number = next_account_number()
        super().save_model(request, obj, form, change)


@admin.register(CustomerImport)
class CustomerImportAdmin(admin.ModelAdmin):
    list_display = ("id", "file_name", "status", "total_rows", "changed_rows", "error_rows", "created_by", "created_at")
    list_filter = ("status",)
    readonly_fields = [f.name for f in CustomerImport._meta.fields if f.name != "content"]
    exclude = ("content",)

    def has_add_permission(self, request) -> bool:
        return False
