from __future__ import annotations

import django_tables2 as tables
from django.utils.html import format_html

from otc.templatetags.otc_tags import money, status_badge

from .models import Customer


class CustomerTable(tables.Table):
    account_number = tables.Column("Account", attrs={"td": {"class": "text-nowrap font-monospace small"}})
    name = tables.Column(
        "Name", accessor="legal_name", order_by=("legal_name", "id"),
        linkify=("customers:detail", {"pk": tables.A("pk")}),
        attrs={"a": {"hx-boost": "false", "class": "fw-semibold"}},
    )
    # Not the field itself: tables2 would call get_country_display(), and Django re-normalises the
    # ~250 callable country choices on every call (a quarter of the page's time).
    country = tables.Column("Country", accessor="country_label", order_by=("country",))
    default_currency = tables.Column("Currency")
    payment_terms_days = tables.Column("Terms", attrs={"td": {"class": "text-end text-nowrap"}, "th": {"class": "text-end"}})
    credit_limit = tables.Column("Credit limit", attrs={"td": {"class": "money"}, "th": {"class": "money"}})
    risk_rating = tables.Column("Risk")
    status = tables.Column("Status")
    sales_owner = tables.Column("Owner", order_by=("sales_owner__last_name", "sales_owner__first_name"))
    procurement_portal = tables.Column("Portal")

    class Meta:
        model = Customer
        fields = ()
        sequence = (
            "account_number", "name", "country", "default_currency", "payment_terms_days", "credit_limit",
            "risk_rating", "status", "sales_owner", "procurement_portal",
        )
        attrs = {"class": "table table-hover table-sm align-middle mb-0", "id": "customers-table"}
        empty_text = "No customers match these filters."
        orderable = True

    def render_name(self, value, record: Customer) -> str:
        return record.name

    def render_payment_terms_days(self, value) -> str:
        return f"net {value}"

    def render_credit_limit(self, value, record: Customer) -> str:
        return money(value, record.default_currency)

    def render_risk_rating(self, value, record: Customer):
        return status_badge(record.risk_rating, record.get_risk_rating_display())

    def render_status(self, value, record: Customer):
        return status_badge(record.status, record.get_status_display())

    def render_procurement_portal(self, value, record: Customer):
        if record.procurement_portal == Customer.Portal.NONE:
            return format_html('<span class="text-body-secondary">{}</span>', "—")
        return record.get_procurement_portal_display()
