"""/api/v1/sales-reps/: who a CRM may name as a customer's or a contract's sales owner (active
people with the Sales Rep role), looked up by e-mail."""

from __future__ import annotations

import django_filters
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers

from otc.models import User
from otc.roles import SALES_REP

from .views import OtcGenericViewSet


def sales_reps():
    return User.objects.filter(is_active=True, kind=User.Kind.HUMAN, groups__name=SALES_REP).distinct()


def sales_rep_by_email(email: str) -> int | None:
    """The id of the active sales rep with this e-mail (case-insensitive), else None."""
    return sales_reps().filter(email__iexact=email).values_list("pk", flat=True).first()


class SalesRepSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="get_full_name", read_only=True)

    class Meta:
        model = User
        fields = ["id", "username", "name", "email"]
        read_only_fields = fields


class SalesRepFilter(django_filters.FilterSet):
    email = django_filters.CharFilter(lookup_expr="iexact")
    username = django_filters.CharFilter()

    class Meta:
        model = User
        fields = ["email", "username"]


@extend_schema_view(list=extend_schema(summary="List sales reps (filter by email or username)"),
                    retrieve=extend_schema(summary="Get a sales rep"))
class SalesRepViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, OtcGenericViewSet):
    serializer_class = SalesRepSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = SalesRepFilter
    action_perms = {"list": "customers.view_customer", "retrieve": "customers.view_customer"}
    action_scopes = {"list": "customers:read", "retrieve": "customers:read"}

    def get_queryset(self):
        return sales_reps().order_by("username")
