from __future__ import annotations

import django_filters

from ..filters import search_customers
from ..models import Customer


class CustomerApiFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=Customer.Status.choices)
    country = django_filters.CharFilter(lookup_expr="iexact")
    currency = django_filters.CharFilter(field_name="default_currency", lookup_expr="iexact")
    risk_rating = django_filters.MultipleChoiceFilter(choices=Customer.RiskRating.choices)
    external_crm_id = django_filters.CharFilter()
    updated_since = django_filters.IsoDateTimeFilter(field_name="updated_at", lookup_expr="gte")
    search = django_filters.CharFilter(method=search_customers, help_text="Name, account number, tax id or CRM id.")

    class Meta:
        model = Customer
        fields = ["status", "country", "currency", "risk_rating", "external_crm_id", "updated_since", "search"]
