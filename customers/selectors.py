"""Reads of the customer master file."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from otc.models import User

from .models import Customer


def customers_visible_to(user: User) -> QuerySet[Customer]:
    """Every customer for finance roles; only owned customers for a sales rep; none otherwise.
    Mirrors the `customers.access_customer` rule."""
    qs = Customer.objects.all()
    if not user.is_authenticated or not user.has_perm("customers.view_customer"):
        return qs.none()
    if user.has_perm("customers.view_all_customers"):
        return qs
    return qs.filter(sales_owner=user)


def customer_list(*, user: User, search: str = "") -> QuerySet[Customer]:
    qs = customers_visible_to(user).select_related("sales_owner", "parent")
    if search:
        qs = qs.filter(
            Q(legal_name__icontains=search) | Q(display_name__icontains=search)
            | Q(account_number__icontains=search) | Q(tax_id__icontains=search)
            | Q(external_crm_id__iexact=search)
        )
    return qs.annotate(contact_count=Count("contacts"))
