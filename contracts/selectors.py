"""Reads of contracts: visibility, queues, the review page's data."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from otc.models import User

from .models import Contract


def contracts_visible_to(user: User) -> QuerySet[Contract]:
    """Mirrors the `contracts.access_contract` rule."""
    qs = Contract.objects.all()
    if not user.is_authenticated or not user.has_perm("contracts.view_contract"):
        return qs.none()
    if user.has_perm("customers.view_all_customers"):
        return qs
    return qs.filter(Q(customer__sales_owner=user) | Q(sales_owner=user) | Q(created_by=user))
