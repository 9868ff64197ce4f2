from __future__ import annotations

import django_filters

from ..models import Account, JournalEntry, OpenItem


class AccountFilter(django_filters.FilterSet):
    legal_entity = django_filters.CharFilter(field_name="legal_entity__code", help_text="Legal entity code, e.g. US01.")
    role = django_filters.MultipleChoiceFilter(choices=Account.Role.choices)
    type = django_filters.MultipleChoiceFilter(choices=Account.Type.choices)
    is_active = django_filters.BooleanFilter()

    class Meta:
        model = Account
        fields = ["legal_entity", "role", "type", "is_active"]


class JournalEntryFilter(django_filters.FilterSet):
    legal_entity = django_filters.CharFilter(field_name="legal_entity__code", help_text="Legal entity code.")
    kind = django_filters.MultipleChoiceFilter(choices=JournalEntry.Kind.choices)
    entry_date_from = django_filters.DateFilter(field_name="entry_date", lookup_expr="gte")
    entry_date_to = django_filters.DateFilter(field_name="entry_date", lookup_expr="lte")
    source_reference = django_filters.CharFilter()
    number = django_filters.CharFilter()

    class Meta:
        model = JournalEntry
        fields = ["legal_entity", "kind", "entry_date_from", "entry_date_to", "source_reference", "number"]


class OpenItemFilter(django_filters.FilterSet):
    customer = django_filters.NumberFilter(field_name="customer_id")
    customer_account_number = django_filters.CharFilter(field_name="customer__account_number")
    legal_entity = django_filters.CharFilter(field_name="legal_entity__code", help_text="Legal entity code.")
    currency = django_filters.CharFilter(lookup_expr="iexact")
    open = django_filters.BooleanFilter(method="filter_open", help_text="true: only items with an open balance.")
    due_before = django_filters.DateFilter(field_name="due_date", lookup_expr="lt")
    document_number = django_filters.CharFilter()

    class Meta:
        model = OpenItem
        fields = ["customer", "customer_account_number", "legal_entity", "currency", "open", "due_before", "document_number"]

    def filter_open(self, queryset, name, value):
        if value is None:
            return queryset
        return queryset.exclude(open_amount=0) if value else queryset.filter(open_amount=0)
