"""/api/v1/invoices/ (read, PDF, UBL) and /api/v1/credit-notes/ (read, request).

A caller sees only the invoices and credit notes of the customers `customers_visible_to` gives
them: a sales rep gets 404 for another rep's customer's documents and never sees them listed.
Lists run a fixed number of queries whatever the page holds. A credit-note request goes through
`billing.services.credit_note_request`, which decides what may be credited; its errors come back
in the one error shape."""

from __future__ import annotations

from django.db.models import Prefetch
from django.http import HttpResponse
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.filters import OrderingFilter
from rest_framework.response import Response

from otc.api.errors import json_error
from otc.api.negotiation import DocumentNegotiation
from otc.api.views import OtcGenericViewSet
from otc.errors import InvalidTransition, NotFound, ValidationFailed

from .. import services
from ..einvoice import invoice_to_ubl
from ..models import CreditNote, CreditNoteLine, Invoice, InvoiceLine
from ..pdf import invoice_pdf_download
from ..selectors import credit_notes_visible_to, invoices_visible_to
from ..views.documents import stored_pdf_response
from .filters import CreditNoteApiFilter, InvoiceApiFilter
from .serializers import (
    CreditNoteListSerializer,
    CreditNoteOutputSerializer,
    CreditNoteRequestSerializer,
    InvoiceListSerializer,
    InvoiceOutputSerializer,
)

INVOICES_READ = "invoices:read"
CREDIT_NOTES_READ, CREDIT_NOTES_WRITE = "credit_notes:read", "credit_notes:write"
_ERRORS = {400: OpenApiResponse(description="validation_error: {error, message, fields}"),
           403: OpenApiResponse(description="permission_denied"), 404: OpenApiResponse(description="not_found"),
           409: OpenApiResponse(description="invalid_transition")}


def by_number_response(view, number: str) -> Response:
    """One document by its number, as `retrieve` answers it: 404 when it does not exist or is not
    visible to the caller (a rep and another rep's customer's invoice)."""
    obj = view.get_queryset().filter(number=number).first()
    if obj is None:
        raise NotFound(f"No document numbered {number}.")
    view.check_object_permissions(view.request, obj)
    return Response(view.get_serializer_class()(obj, context=view.get_serializer_context()).data)


@extend_schema_view(
    list=extend_schema(
        summary="List invoices",
        description="Filter by customer (id), customer_account_number, legal_entity (code), contract, status, "
        "currency, period (YYYY-MM: the billed month), issue_date_from/issue_date_to, updated_since (ISO "
        "date-time), overdue, on_hold and number. Lines and credit notes come with one invoice.",
        responses={200: InvoiceListSerializer(many=True)},
    ),
    retrieve=extend_schema(summary="Get one invoice with its lines and credit notes",
                           responses={200: InvoiceOutputSerializer, **_ERRORS}),
)
class InvoiceViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, OtcGenericViewSet):
    filter_backends = [DjangoFilterBackend, OrderingFilter]
    filterset_class = InvoiceApiFilter
    ordering_fields = ["issue_date", "due_date", "number", "gross_total", "created_at", "updated_at"]
    ordering = ["-issue_date", "-id"]

    action_perms = {"list": "billing.view_invoice", "retrieve": "billing.view_invoice", "by_number": "billing.view_invoice",
                    "pdf": "billing.view_invoice", "ubl": "billing.view_invoice"}
    action_scopes = {"list": INVOICES_READ, "retrieve": INVOICES_READ, "by_number": INVOICES_READ,
                     "pdf": INVOICES_READ, "ubl": INVOICES_READ}

    def get_serializer_class(self):
        return InvoiceListSerializer if self.action == "list" else InvoiceOutputSerializer

    def get_queryset(self):
        qs = invoices_visible_to(self.request.user).select_related("legal_entity", "customer", "contract")
        if self.action not in ("retrieve", "by_number"):
            return qs
        return qs.prefetch_related(
            Prefetch("lines", queryset=InvoiceLine.objects.select_related("product", "tax_code").order_by("position")),
            Prefetch("credit_notes", queryset=CreditNote.objects.order_by("requested_at", "id")),
        )

    @extend_schema(summary="Get one invoice by its number", description="The same answer as `/invoices/{id}/`, for "
                   "a caller that has the number (a CRM showing the customer's invoices).",
                   parameters=[OpenApiParameter("number", str, OpenApiParameter.PATH, description="e.g. DE01-INV-2026-000001")],
                   responses={200: InvoiceOutputSerializer, **_ERRORS})
    @action(detail=False, methods=["get"], url_path=r"by-number/(?P<number>[A-Za-z0-9._-]{1,40})")
    def by_number(self, request, number: str, *args, **kwargs):
        return by_number_response(self, number)

    def _issued(self) -> Invoice:
        invoice = self.get_object()
        if invoice.status == Invoice.Status.DRAFT:
            raise InvalidTransition(f"Draft invoice #{invoice.pk} is not issued yet: it has no PDF or e-invoice.")
        return invoice

    @extend_schema(
        summary="The invoice's PDF",
        description="The bytes stored at issue (a void invoice: its stored VOID copy), rendered and stored now if "
                    "missing, served only when they match their SHA-256 (500 and a logged alert otherwise). 409 for a draft.",
        responses={(200, "application/pdf"): OpenApiTypes.BINARY, **_ERRORS},
    )
    @action(detail=True, methods=["get"], content_negotiation_class=DocumentNegotiation)
    def pdf(self, request, *args, **kwargs):
        invoice = self._issued()
        return stored_pdf_response(lambda: invoice_pdf_download(invoice_id=invoice.pk), api=True)

    @extend_schema(
        summary="The invoice as a UBL 2.1 e-invoice (Peppol BIS Billing 3.0)",
        description="409 for a draft.",
        responses={(200, "application/xml"): OpenApiTypes.BINARY, **_ERRORS},
    )
    @action(detail=True, methods=["get"], content_negotiation_class=DocumentNegotiation)
    def ubl(self, request, *args, **kwargs):
        invoice = self._issued()
        if invoice.status == Invoice.Status.VOID:  # an e-invoice cannot carry a VOID mark
            return json_error("void", f"Invoice {invoice.number} is void: it is no longer issued as an e-invoice; "
                              "the cancelling credit note is.", 410)
        response = HttpResponse(invoice_to_ubl(invoice), content_type="application/xml")
        response["Content-Disposition"] = f'attachment; filename="{invoice.number}.xml"'
        return response


@extend_schema_view(
    list=extend_schema(
        summary="List credit notes",
        description="Filter by customer (id), customer_account_number, legal_entity (code), invoice (id), "
        "invoice_number, status, reason, requested_since (ISO date-time) and issue_date_from/issue_date_to.",
        responses={200: CreditNoteListSerializer(many=True)},
    ),
    retrieve=extend_schema(summary="Get one credit note with its lines",
                           responses={200: CreditNoteOutputSerializer, **_ERRORS}),
)
class CreditNoteViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, OtcGenericViewSet):
    filter_backends = [DjangoFilterBackend, OrderingFilter]
    filterset_class = CreditNoteApiFilter
    ordering_fields = ["requested_at", "issue_date", "number", "gross_total"]
    ordering = ["-requested_at", "-id"]

    action_perms = {"list": "billing.view_creditnote", "retrieve": "billing.view_creditnote",
                    "by_number": "billing.view_creditnote", "create": "billing.request_creditnote"}
    action_scopes = {"list": CREDIT_NOTES_READ, "retrieve": CREDIT_NOTES_READ, "by_number": CREDIT_NOTES_READ,
                     "create": CREDIT_NOTES_WRITE}

    def get_serializer_class(self):
        return CreditNoteListSerializer if self.action == "list" else CreditNoteOutputSerializer

    @extend_schema(summary="Get one credit note by its number", description="The same answer as "
                   "`/credit-notes/{id}/`, for a caller that has the number.",
                   parameters=[OpenApiParameter("number", str, OpenApiParameter.PATH, description="e.g. DE01-CN-2026-000001")],
                   responses={200: CreditNoteOutputSerializer, **_ERRORS})
    @action(detail=False, methods=["get"], url_path=r"by-number/(?P<number>[A-Za-z0-9._-]{1,40})")
    def by_number(self, request, number: str, *args, **kwargs):
        return by_number_response(self, number)

    def get_queryset(self):
        qs = credit_notes_visible_to(self.request.user).select_related(
            "legal_entity", "customer", "invoice", "requested_by", "decided_by")
        if self.action == "list":
            return qs
        return qs.prefetch_related(
            Prefetch("lines", queryset=CreditNoteLine.objects.select_related("tax_code").order_by("position")))

    @extend_schema(
        summary="Request a credit note against an issued invoice",
        description="The whole invoice (neither lines nor amount), some lines (each with quantity or net_amount), "
        "or a net amount spread over the lines pro rata; tax at the original lines' rates. The credit note is "
        "created in status requested and awaits approval. More than remains uncredited is refused (400). Send an "
        "Idempotency-Key header to make retries safe.",
        request=CreditNoteRequestSerializer,
        responses={201: CreditNoteOutputSerializer, **_ERRORS},
    )
    def create(self, request, *args, **kwargs):
        shape = CreditNoteRequestSerializer(data=request.data)
        shape.is_valid(raise_exception=True)
        data = shape.validated_data
        visible = invoices_visible_to(request.user)
        if data.get("invoice_number"):
            invoice_id = visible.filter(number=data["invoice_number"]).values_list("pk", flat=True).first()
            if invoice_id is None:
                raise ValidationFailed(f"Invoice {data['invoice_number']} does not exist.",
                                       fields={"invoice_number": ["not found"]})
        else:
            invoice_id = data["invoice_id"]
            if not visible.filter(pk=invoice_id).exists():
                raise ValidationFailed(f"Invoice {invoice_id} does not exist.", fields={"invoice_id": ["not found"]})
        note = services.credit_note_request(
            invoice_id=invoice_id, by=request.user, reason=data["reason"], explanation=data["explanation"],
            lines=[dict(row) for row in data["lines"]] if data.get("lines") else None, amount=data.get("amount"),
        )
        fresh = self.get_queryset().get(pk=note.pk)
        return Response(CreditNoteOutputSerializer(fresh, context=self.get_serializer_context()).data,
                        status=status.HTTP_201_CREATED)
