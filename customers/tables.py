from __future__ import annotations

import django_tables2 as tables
from django.utils.html import format_html

from otc.registry import ListColumn, registry, visible
from otc.templatetags.otc_tags import money, status_badge

from .models import Customer


class RegisteredColumn(tables.Column):
    """A column another app registered (otc.registry.ListColumn): its value is annotated in SQL,
    so it sorts like any other column."""

    def __init__(self, column: ListColumn):
        self.list_column = column
        super().__init__(column.label, order_by=column.order_by or None,
                         attrs={"td": {"class": column.css}, "th": {"class": column.css}}, empty_values=())

    def render(self, record):
        return self.list_column.render(record)


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

    @classmethod
    def with_registered_columns(cls, queryset, user) -> CustomerTable:
        """The table with the columns other apps registered that the user may see (the ledger's
        balance and overdue), after the credit limit; their values annotated on the queryset."""
        columns = visible(user, registry.customer_list_columns)
        for column in columns:
            queryset = column.annotate(queryset, user)
        extra = [(column.key, RegisteredColumn(column)) for column in columns]
        sequence = list(cls.Meta.sequence)
        at = sequence.index("credit_limit") + 1
        sequence[at:at] = [key for key, _ in extra]
        return cls(queryset, extra_columns=extra, sequence=sequence)

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
