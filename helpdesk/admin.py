"""Help desk: admin for administrators (queues and members, SLA policies, calendars and
holidays, canned replies), never the main UI. A calendar or holiday change recomputes the SLA
of the entity's open tickets from their event logs."""

from django.contrib import admin

from .models import BusinessCalendar, CannedReply, Holiday, Queue, SlaPolicy, Ticket
from .services.tickets import tickets_sla_refresh_for_entity


class HolidayInline(admin.TabularInline):
    model = Holiday
    extra = 1


@admin.register(BusinessCalendar)
class BusinessCalendarAdmin(admin.ModelAdmin):
    list_display = ("legal_entity", "timezone", "workdays", "day_start", "day_end")
    inlines = [HolidayInline]

    def save_related(self, request, form, formsets, change) -> None:
        super().save_related(request, form, formsets, change)
        tickets_sla_refresh_for_entity(legal_entity_id=form.instance.legal_entity_id)


class SlaPolicyInline(admin.TabularInline):
    model = SlaPolicy
    extra = 0


@admin.register(Queue)
class QueueAdmin(admin.ModelAdmin):
    list_display = ("__str__", "team_lead")
    list_select_related = ("legal_entity", "team_lead")
    filter_horizontal = ("members",)
    inlines = [SlaPolicyInline]


@admin.register(CannedReply)
class CannedReplyAdmin(admin.ModelAdmin):
    list_display = ("title", "category")
    list_filter = ("category",)


@admin.register(Ticket)
class TicketAdmin(admin.ModelAdmin):
    list_display = ("reference", "subject", "category", "status", "priority", "queue", "assignee", "created_at")
    list_filter = ("status", "category", "priority")
    search_fields = ("reference", "subject")
    list_select_related = ("queue__legal_entity", "assignee")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
