from __future__ import annotations

import django_filters

from ..models import Contract


class ContractApiFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=Contract.Status.choices)
    customer = django_filters.NumberFilter(field_name="customer_id")
    crm_opportunity_id = django_filters.CharFilter()
    updated_since = django_filters.IsoDateTimeFilter(field_name="updated_at", lookup_expr="gte")

    class Meta:
        model = Contract
        fields = ["status", "customer", "crm_opportunity_id", "updated_since"]
