"""The customer list's filters (browser). The API has its own in api/filters.py."""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import Q

from otc.models import User

from .models import Customer


def search_customers(queryset, name: str, value: str):
    value = (value or "").strip()
    if not value:
        return queryset
    return queryset.filter(
        Q(legal_name__icontains=value) | Q(display_name__icontains=value) | Q(account_number__icontains=value)
        | Q(tax_id__icontains=value) | Q(external_crm_id__iexact=value)
    )


def _owners(request):
    if request is None:
        return User.objects.none()
    return User.objects.filter(owned_customers__isnull=False).distinct().order_by("first_name", "last_name")


class CustomerFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        label="Search", method=search_customers,
        widget=forms.TextInput(attrs={"placeholder": "Name, account, tax id or CRM id", "type": "search"}),
    )
    status = django_filters.ChoiceFilter(choices=Customer.Status.choices, empty_label="Any status")
    country = django_filters.ChoiceFilter(choices=[], empty_label="Any country")
    risk_rating = django_filters.ChoiceFilter(label="Risk", choices=Customer.RiskRating.choices, empty_label="Any risk")
    procurement_portal = django_filters.ChoiceFilter(
        label="Portal", choices=Customer.Portal.choices, empty_label="Any portal"
    )
    default_currency = django_filters.ChoiceFilter(label="Currency", choices=[], empty_label="Any currency")
    owner = django_filters.ModelChoiceFilter(
        field_name="sales_owner", label="Owner", queryset=_owners, empty_label="Any owner"
    )

    class Meta:
        model = Customer
        fields = ["q", "status", "country", "risk_rating", "procurement_portal", "default_currency", "owner"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        base = self.queryset.order_by()
        countries = base.values_list("country", flat=True).distinct()
        currencies = base.values_list("default_currency", flat=True).distinct()
        labels = dict(Customer._meta.get_field("country").choices)
        self.filters["country"].extra["choices"] = sorted(((c, labels.get(c, c)) for c in countries), key=lambda x: x[1])
        self.filters["default_currency"].extra["choices"] = [(c, c) for c in sorted(currencies)]
        if not (self.request and self.request.user.has_perm("customers.view_all_customers")):
            del self.filters["owner"]
        for field in self.form.fields.values():
            field.widget.attrs["class"] = "form-select form-select-sm" if isinstance(field.widget, forms.Select) else "form-control form-control-sm"
