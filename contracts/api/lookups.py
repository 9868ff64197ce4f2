"""/api/v1/products/: the product catalogue a CRM quotes from (SKU, name, unit, default price)."""

from __future__ import annotations

import django_filters
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers
from rest_framework.filters import OrderingFilter

from otc.api.fields import MoneyField
from otc.api.views import OtcGenericViewSet

from ..models import Product


class ProductSerializer(serializers.ModelSerializer):
    default_price = MoneyField(help_text="In `currency`'s minor unit")

    class Meta:
        model = Product
        fields = ["id", "sku", "name", "description", "unit", "default_price", "currency", "tax_category", "is_active"]
        read_only_fields = fields


class ProductFilter(django_filters.FilterSet):
    sku = django_filters.CharFilter(lookup_expr="iexact")
    name = django_filters.CharFilter(lookup_expr="icontains")
    is_active = django_filters.BooleanFilter()

    class Meta:
        model = Product
        fields = ["sku", "name", "is_active"]


@extend_schema_view(list=extend_schema(summary="List products (filter by sku, name, is_active)"),
                    retrieve=extend_schema(summary="Get a product"))
class ProductViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, OtcGenericViewSet):
    serializer_class = ProductSerializer
    queryset = Product.objects.order_by("sku")
    filter_backends = [DjangoFilterBackend, OrderingFilter]
    filterset_class = ProductFilter
    ordering_fields = ["sku", "name"]
    action_perms = {"list": "contracts.view_product", "retrieve": "contracts.view_product"}
    action_scopes = {"list": "contracts:read", "retrieve": "contracts:read"}
