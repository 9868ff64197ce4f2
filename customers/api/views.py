"""/api/v1/customers/: list, filter, retrieve, create, update and the CRM upsert.

Contacts are nested: read with every customer, writable with create, update and upsert
(matched by e-mail, else name; contacts not listed are kept). A caller sees only the customers
`customers_visible_to` gives them: a sales rep gets 404 for another rep's customer."""

from __future__ import annotations

from django.db.models import Prefetch
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.filters import OrderingFilter
from rest_framework.response import Response

from otc.api.lookups import sales_rep_by_email
from otc.api.views import OtcGenericViewSet
from otc.errors import ValidationFailed

from .. import services
from ..models import Contact, Customer
from ..selectors import customers_visible_to
from .filters import CustomerApiFilter
from .serializers import CustomerInputSerializer, CustomerOutputSerializer, CustomerUpsertSerializer

READ, WRITE = "customers:read", "customers:write"
_ERRORS = {400: OpenApiResponse(description="validation_error: {error, message, fields}"),
           403: OpenApiResponse(description="permission_denied"), 404: OpenApiResponse(description="not_found")}


@extend_schema_view(
    list=extend_schema(summary="List customers", description="Filter by status, country, currency, risk_rating, "
                       "external_crm_id, updated_since (ISO date-time) and search."),
    retrieve=extend_schema(summary="Get one customer with its contacts", responses={200: CustomerOutputSerializer, **_ERRORS}),
)
class CustomerViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, OtcGenericViewSet):
    serializer_class = CustomerOutputSerializer
    filter_backends = [DjangoFilterBackend, OrderingFilter]
    filterset_class = CustomerApiFilter
    ordering_fields = ["account_number", "legal_name", "updated_at", "created_at", "credit_limit"]
    ordering = ["account_number"]

    action_perms = {
        "list": "customers.view_customer",
        "retrieve": "customers.view_customer",
        "create": "customers.add_customer",
        "update": "customers.change_customer",
        "partial_update": "customers.change_customer",
        "upsert": "customers.add_customer",
    }
    action_scopes = {
        "list": READ, "retrieve": READ, "create": WRITE, "update": WRITE, "partial_update": WRITE, "upsert": WRITE,
    }
    object_perms = {
        "retrieve": "customers.access_customer",
        "update": "customers.edit_customer",
        "partial_update": "customers.edit_customer",
    }

    def get_queryset(self):
        return (
            customers_visible_to(self.request.user)
            .select_related("parent", "sales_owner")
            .prefetch_related(Prefetch("contacts", queryset=Contact.objects.order_by("-is_billing_contact", "name", "id")))
        )

    @staticmethod
    def _fields(data) -> dict:
        """The validated fields, with a sales rep named by e-mail turned into their id."""
        fields = dict(data.validated_data)
        given: dict[str, int | None] = {}  # how the sales owner was named -> the user id it names
        for name in ("sales_owner", "sales_owner_id", "sales_owner_email"):
            if name not in fields:
                continue
            value = fields.pop(name)
            if name == "sales_owner_email":
                value = ("email", value)
            elif name == "sales_owner_id" and value is not None:
                value = ("id", value)
            if value is None or value[0] == "id":
                given[name] = value[1] if value else None
                continue
            given[name] = sales_rep_by_email(value[1])
            if given[name] is None:
                raise ValidationFailed(f"No active sales rep has the e-mail {value[1]} (see /api/v1/sales-reps/).",
                                       fields={name: ["unknown"]})
        if len(set(given.values())) > 1:  # a whole record sent back names the owner twice, alike
            raise ValidationFailed("sales_owner and sales_owner_id name different people: give one.",
                                   fields={name: ["conflict"] for name in given})
        if given:
            fields["sales_owner"] = next(iter(given.values()))
        return fields

    def _output(self, customer: Customer, code: int) -> Response:
        fresh = self.get_queryset().get(pk=customer.pk)
        return Response(CustomerOutputSerializer(fresh, context=self.get_serializer_context()).data, status=code)

    @extend_schema(summary="Create a customer", request=CustomerInputSerializer,
                   responses={201: CustomerOutputSerializer, **_ERRORS})
    def create(self, request, *args, **kwargs):
        data = CustomerInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        customer = services.customer_create(data=self._fields(data), by=request.user)
        return self._output(customer, status.HTTP_201_CREATED)

    @extend_schema(summary="Replace a customer's fields", request=CustomerInputSerializer,
                   responses={200: CustomerOutputSerializer, **_ERRORS})
    def update(self, request, *args, **kwargs):
        return self._update(request, partial=False)

    @extend_schema(summary="Change some fields of a customer", request=CustomerInputSerializer(partial=True),
                   responses={200: CustomerOutputSerializer, **_ERRORS})
    def partial_update(self, request, *args, **kwargs):
        return self._update(request, partial=True)

    def _update(self, request, *, partial: bool) -> Response:
        customer = self.get_object()
        data = CustomerInputSerializer(data=request.data, partial=partial)
        data.is_valid(raise_exception=True)
        customer = services.customer_update(
            customer_id=customer.pk, data=self._fields(data), by=request.user,
            reason=request.headers.get("X-Change-Reason", "")[:200],
        )
        return self._output(customer, status.HTTP_200_OK)

    @extend_schema(
        summary="Create or update the customer the CRM knows by external_crm_id",
        description="201 when the customer was created, 200 when it was updated. Send an Idempotency-Key "
        "header to make retries safe.",
        request=CustomerUpsertSerializer,
        responses={200: CustomerOutputSerializer, 201: CustomerOutputSerializer, **_ERRORS},
    )
    @action(detail=False, methods=["post"])
    def upsert(self, request, *args, **kwargs):
        data = CustomerUpsertSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = self._fields(data)
        crm_id = fields.pop("external_crm_id")
        customer, created = services.customer_upsert_by_crm_id(external_crm_id=crm_id, data=fields, by=request.user)
        return self._output(customer, status.HTTP_201_CREATED if created else status.HTTP_200_OK)
