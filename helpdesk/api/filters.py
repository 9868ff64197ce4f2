"""Filters for /api/v1/tickets/ (django-filter: the names are the declared query parameters, an
unknown one or a bad value is a 400 in the one error shape)."""

from __future__ import annotations

import django_filters

from ..models import Category, Ticket


class TicketApiFilter(django_filters.FilterSet):
    customer = django_filters.NumberFilter(field_name="customer_id", help_text="A customer's id: that customer's "
                                           "tickets.")
    customer_crm_id = django_filters.CharFilter(field_name="customer__external_crm_id",
                                                help_text="The customer's CRM id.")
    status = django_filters.ChoiceFilter(choices=Ticket.Status.choices)
    category = django_filters.ChoiceFilter(choices=Category.choices)

    class Meta:
        model = Ticket
        fields = ["customer", "customer_crm_id", "status", "category"]
