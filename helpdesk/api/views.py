"""/api/v1/tickets/: create on behalf of a rep (the CRM passes the rep's identity; the scope
`tickets:write` decides), read, comment, list a customer's tickets. A caller sees the tickets
`tickets_visible_to` gives them: a rep gets 404 for another rep's customer's ticket and never sees
it listed. Internal notes never leave through the API."""

from __future__ import annotations

from django.db.models import Prefetch, Q
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response

from billing.models import Invoice
from customers.models import Customer
from otc.api.views import OtcGenericViewSet
from otc.errors import PermissionDenied, ValidationFailed
from otc.models import User

from .. import services
from ..models import Comment
from ..selectors import tickets_visible_to
from .filters import TicketApiFilter
from .serializers import (
    TicketCommentSerializer,
    TicketCreateSerializer,
    TicketListSerializer,
    TicketOutputSerializer,
)

READ, WRITE = "tickets:read", "tickets:write"
_ERRORS = {400: OpenApiResponse(description="validation_error"), 403: OpenApiResponse(description="permission_denied"),
           404: OpenApiResponse(description="not_found"), 409: OpenApiResponse(description="invalid_transition")}


def _person(identity: str) -> User:
    user = User.objects.filter(Q(username=identity) | Q(email__iexact=identity), is_active=True).order_by("id").first()
    if user is None:
        raise ValidationFailed(f"No user {identity}.", fields={"requester": ["unknown"]})
    return user


def _acting(request, identity: str | None) -> User:
    if not identity:
        return request.user
    if not request.user.is_integration:
        raise PermissionDenied("Only an integration client acts on someone else's behalf.")
    return _person(identity)


@extend_schema_view(
    list=extend_schema(summary="List tickets", description="Filter by customer (id), customer_crm_id, status and "
                       "category.", responses={200: TicketListSerializer(many=True)}),
    retrieve=extend_schema(summary="Get one ticket with its replies (never internal notes)",
                           responses={200: TicketOutputSerializer, **_ERRORS}),
)
class TicketViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, OtcGenericViewSet):
    lookup_field = "reference"
    filter_backends = [DjangoFilterBackend]
    filterset_class = TicketApiFilter
    action_perms = {"list": "helpdesk.view_ticket", "retrieve": "helpdesk.view_ticket",
                    "create": "helpdesk.file_ticket", "comments": "helpdesk.view_ticket"}
    action_scopes = {"list": READ, "retrieve": READ, "create": WRITE, "comments": WRITE}

    def get_serializer_class(self):
        return TicketListSerializer if self.action == "list" else TicketOutputSerializer

    def get_queryset(self):
        qs = tickets_visible_to(self.request.user).select_related(
            "customer", "invoice", "requester", "assignee", "queue", "legal_entity").order_by("-created_at", "-id")
        if self.action == "list":
            return qs  # filtered by TicketApiFilter
        return qs.prefetch_related(Prefetch("comments", queryset=Comment.objects.filter(internal=False)
                                            .select_related("author").order_by("created_at", "id"),
                                            to_attr="public_comments"))

    @extend_schema(summary="File a ticket (the CRM on a rep's behalf: pass `requester`)",
                   description="Customer by id or CRM id, invoice by id or number; the requester must own the "
                   "customer. Routed and prioritised like a ticket filed in the browser. Send an Idempotency-Key.",
                   request=TicketCreateSerializer, responses={201: TicketOutputSerializer, **_ERRORS})
    def create(self, request, *args, **kwargs):
        shape = TicketCreateSerializer(data=request.data)
        shape.is_valid(raise_exception=True)
        data = shape.validated_data
        requester = _acting(request, data.get("requester"))
        customer_id = data.get("customer_id")
        if data.get("customer_crm_id"):
            customer = Customer.objects.filter(external_crm_id=data["customer_crm_id"]).first()
            if customer is None:
                raise ValidationFailed("No customer with that CRM id.", fields={"customer_crm_id": ["unknown"]})
            customer_id = customer.pk
        invoice_id = data.get("invoice_id")
        if data.get("invoice_number"):
            invoice = Invoice.objects.filter(number=data["invoice_number"]).first()
            if invoice is None:
                raise ValidationFailed("No invoice with that number.", fields={"invoice_number": ["unknown"]})
            invoice_id = invoice.pk
        ticket = services.ticket_file(
            by=request.user, requester=requester, category=data["category"], subject=data["subject"],
            description=data["description"], customer_id=customer_id, invoice_id=invoice_id,
            contract_id=data.get("contract_id"), amount=data.get("amount"), details=data.get("details") or {},
            channel="api")
        fresh = self.get_queryset().get(pk=ticket.pk)
        return Response(TicketOutputSerializer(fresh, context=self.get_serializer_context()).data,
                        status=status.HTTP_201_CREATED)

    @extend_schema(summary="Add a reply to a ticket", request=TicketCommentSerializer,
                   responses={201: TicketOutputSerializer, **_ERRORS})
    @action(detail=True, methods=["post"])
    def comments(self, request, *args, **kwargs):
        ticket = self.get_object()
        shape = TicketCommentSerializer(data=request.data)
        shape.is_valid(raise_exception=True)
        author = _acting(request, shape.validated_data.get("author"))
        services.ticket_comment(ticket_id=ticket.pk, by=author, body=shape.validated_data["body"], source="api")
        fresh = self.get_queryset().get(pk=ticket.pk)
        return Response(TicketOutputSerializer(fresh, context=self.get_serializer_context()).data,
                        status=status.HTTP_201_CREATED)


