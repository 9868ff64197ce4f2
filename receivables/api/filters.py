"""Filters for /api/v1/receipts/ (django-filter; a bad value is a 400 in the one error shape)."""

from __future__ import annotations

import django_filters
from django.db.models import F

from ..models import Receipt

# Receipts that can still be applied: live, with something left.
APPLICABLE = (Receipt.Status.UNAPPLIED, Receipt.Status.PARTIALLY_APPLIED, Receipt.Status.ON_ACCOUNT)


class ReceiptApiFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=Receipt.Status.choices)
    customer = django_filters.NumberFilter(field_name="customer_id", help_text="Customer id.")
    customer_account_number = django_filters.CharFilter(field_name="customer__account_number")
    legal_entity = django_filters.CharFilter(field_name="legal_entity__code", help_text="Legal entity code, e.g. DE01.")
    bank_account = django_filters.NumberFilter(field_name="bank_account_id", help_text="Bank account id.")
    currency = django_filters.CharFilter(lookup_expr="iexact")
    value_date_from = django_filters.DateFilter(field_name="value_date", lookup_expr="gte")
    value_date_to = django_filters.DateFilter(field_name="value_date", lookup_expr="lte")
    updated_since = django_filters.IsoDateTimeFilter(field_name="updated_at", lookup_expr="gte",
                                                     help_text="ISO 8601 date-time, e.g. 2026-11-01T00:00:00Z.")
    unapplied = django_filters.BooleanFilter(
        method="filter_unapplied",
        help_text="true: only receipts with cash left to apply (unapplied, partially applied or on account).")
    bank_reference = django_filters.CharFilter()
    number = django_filters.CharFilter()

    class Meta:
        model = Receipt
        fields = ["status", "customer", "customer_account_number", "legal_entity", "bank_account", "currency",
                  "value_date_from", "value_date_to", "updated_since", "unapplied", "bank_reference", "number"]

    def filter_unapplied(self, queryset, name, value):
        if value is None:
            return queryset
        left = {"status__in": APPLICABLE, "amount__gt": F("amount_applied") + F("amount_refunded")}
        return queryset.filter(**left) if value else queryset.exclude(**left)
