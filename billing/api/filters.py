"""Filters for /api/v1/invoices/ and /api/v1/credit-notes/ (django-filter; a bad value is a 400
in the one error shape)."""

from __future__ import annotations

import datetime as dt

import django_filters
from django.core.validators import RegexValidator

from otc import dates

from ..models import CreditNote, Invoice

# Issued and not settled: the statuses in which an invoice can be overdue (as on the invoice page).
OPEN_STATUSES = (Invoice.Status.ISSUED, Invoice.Status.PARTIALLY_PAID)
_MONTH = RegexValidator(r"^\d{4}-(0[1-9]|1[0-2])$", "Give the month as YYYY-MM, e.g. 2026-11.")


def _month_start(value: str) -> dt.date:
    year, month = value.split("-")
    return dt.date(int(year), int(month), 1)


class InvoiceApiFilter(django_filters.FilterSet):
    customer = django_filters.NumberFilter(field_name="customer_id", help_text="Customer id.")
    customer_account_number = django_filters.CharFilter(field_name="customer__account_number")
    legal_entity = django_filters.CharFilter(field_name="legal_entity__code", help_text="Legal entity code, e.g. DE01.")
    contract = django_filters.NumberFilter(field_name="contract_id", help_text="Contract id.")
    status = django_filters.MultipleChoiceFilter(choices=Invoice.Status.choices)
    currency = django_filters.CharFilter(lookup_expr="iexact")
    period = django_filters.CharFilter(method="filter_period", validators=[_MONTH],
                                       help_text="Billed month as YYYY-MM (the billing run's period).")
    issue_date_from = django_filters.DateFilter(field_name="issue_date", lookup_expr="gte")
    issue_date_to = django_filters.DateFilter(field_name="issue_date", lookup_expr="lte")
    updated_since = django_filters.IsoDateTimeFilter(field_name="updated_at", lookup_expr="gte",
                                                     help_text="ISO 8601 date-time, e.g. 2026-11-01T00:00:00Z.")
    overdue = django_filters.BooleanFilter(method="filter_overdue",
                                           help_text="true: issued or partially paid and past the due date.")
    on_hold = django_filters.BooleanFilter()
    number = django_filters.CharFilter()

    class Meta:
        model = Invoice
        fields = ["customer", "customer_account_number", "legal_entity", "contract", "status", "currency", "period",
                  "issue_date_from", "issue_date_to", "updated_since", "overdue", "on_hold", "number"]

    def filter_period(self, queryset, name, value):
        if not value:
            return queryset
        start = _month_start(value)
        end = (start + dt.timedelta(days=32)).replace(day=1)
        return queryset.filter(billing_period_start__gte=start, billing_period_start__lt=end)

    def filter_overdue(self, queryset, name, value):
        if value is None:
            return queryset
        overdue = {"status__in": OPEN_STATUSES, "due_date__lt": dates.today()}
        return queryset.filter(**overdue) if value else queryset.exclude(**overdue)


class CreditNoteApiFilter(django_filters.FilterSet):
    customer = django_filters.NumberFilter(field_name="customer_id", help_text="Customer id.")
    customer_account_number = django_filters.CharFilter(field_name="customer__account_number")
    legal_entity = django_filters.CharFilter(field_name="legal_entity__code", help_text="Legal entity code.")
    invoice = django_filters.NumberFilter(field_name="invoice_id", help_text="Invoice id.")
    invoice_number = django_filters.CharFilter(field_name="invoice__number")
    status = django_filters.MultipleChoiceFilter(choices=CreditNote.Status.choices)
    reason = django_filters.MultipleChoiceFilter(choices=CreditNote.Reason.choices)
    requested_since = django_filters.IsoDateTimeFilter(field_name="requested_at", lookup_expr="gte")
    issue_date_from = django_filters.DateFilter(field_name="issue_date", lookup_expr="gte")
    issue_date_to = django_filters.DateFilter(field_name="issue_date", lookup_expr="lte")

    class Meta:
        model = CreditNote
        fields = ["customer", "customer_account_number", "legal_entity", "invoice", "invoice_number", "status",
                  "reason", "requested_since", "issue_date_from", "issue_date_to"]
