"""Admin for the kernel: users and their roles, approval limits, API clients.

The admin is for administrators, never the main UI for finance staff. API clients are created
through `otc.services.api_client_create` (the raw token is shown once, in a message) and
revoked through `api_client_revoke`; the token hash never appears here.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.html import format_html
from simple_history.admin import SimpleHistoryAdmin

from .errors import DomainError
from .models import ApiClient, ApprovalLimit, User
from .scopes import SCOPES
from .services import api_client_create, api_client_revoke


@admin.register(User)
class UserAdmin(SimpleHistoryAdmin, DjangoUserAdmin):
    list_display = ("username", "first_name", "last_name", "email", "kind", "roles", "is_active", "is_staff")
    list_filter = ("kind", "is_active", "is_staff", "is_superuser", "groups")
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        ("otc", {"fields": ("kind", "job_title")}),
    )
    add_fieldsets = (
        *DjangoUserAdmin.add_fieldsets,
        ("otc", {"fields": ("first_name", "last_name", "email", "kind", "job_title", "groups")}),
    )

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("groups")

    @admin.display(description="Roles")
    def roles(self, obj: User) -> str:
        return ", ".join(sorted(g.name for g in obj.groups.all()))


@admin.register(ApprovalLimit)
class ApprovalLimitAdmin(SimpleHistoryAdmin):
    list_display = ("kind", "legal_entity", "role", "user", "currency", "max_amount")
    list_filter = ("kind", "currency", "role", "legal_entity")
    list_select_related = ("legal_entity", "role", "user")
    raw_id_fields = ("user",)
    search_fields = ("user__username", "role__name", "currency")


class ApiClientForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(
        choices=[(code, f"{code} · {label}") for code, label in SCOPES.items()],
        widget=forms.CheckboxSelectMultiple,
        help_text="What this client may call. Each endpoint names the scope it needs.",
    )

    class Meta:
        model = ApiClient
        fields = ("name", "scopes", "throttle_rate")


@admin.register(ApiClient)
class ApiClientAdmin(SimpleHistoryAdmin):
    form = ApiClientForm
    list_display = ("name", "user", "scope_list", "key_prefix", "status", "created_at", "last_used_at")
    list_filter = ("revoked_at",)
    list_select_related = ("user",)
    search_fields = ("name", "key_prefix", "user__username")
    readonly_fields = ("user", "key_prefix", "created_by", "created_at", "last_used_at", "revoked_at", "revoked_by")
    actions = ["revoke"]

    @admin.display(description="Scopes")
    def scope_list(self, obj: ApiClient) -> str:
        return ", ".join(obj.scopes)

    @admin.display(description="Status")
    def status(self, obj: ApiClient) -> str:
        if obj.is_active:
            return format_html('<span style="color:#198754">{}</span>', "active")
        return format_html('<span style="color:#dc3545">{}</span>', "revoked")

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("name", "scopes", "throttle_rate")
        return ("name", "scopes", "throttle_rate", *self.readonly_fields)

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else self.readonly_fields

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # revoke instead: the client's user stays as the actor of what it did

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        if object_id is None:
            # api_client_create is a durable entry point: it must not run inside the admin's
            # own atomic block, so the add view skips it (the service owns the transaction).
            return self._changeform_view(request, object_id, form_url, extra_context)
        return super().changeform_view(request, object_id, form_url, extra_context)

    def save_model(self, request, obj: ApiClient, form, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        client, token = api_client_create(
            name=form.cleaned_data["name"], scopes=list(form.cleaned_data["scopes"]), by=request.user,
            throttle_rate=form.cleaned_data.get("throttle_rate") or "",
        )
        obj.pk = client.pk
        obj.__dict__.update({k: v for k, v in client.__dict__.items() if not k.startswith("_")})
        obj._state.adding = False
        self.message_user(
            request,
            format_html(
                "Token for {} (shown once; store it now, it cannot be shown again): <code data-token>{}</code>",
                client.name, token,
            ),
            level=messages.WARNING,
        )

    @admin.action(description="Revoke the selected API clients")
    def revoke(self, request, queryset) -> None:
        revoked = 0
        for client_id in queryset.order_by("pk").values_list("pk", flat=True):
            try:
                api_client_revoke(client_id=client_id, by=request.user)
            except DomainError as exc:
                self.message_user(request, exc.message, level=messages.ERROR)
                return
            revoked += 1
        self.message_user(request, f"Revoked {revoked} API client(s); their tokens no longer work.")
