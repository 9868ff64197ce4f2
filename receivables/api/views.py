"""/api/v1/receipts/ (read; POST from a bank integration) and
/api/v1/customers/{id}/statement.pdf (the customer statement).

A caller sees the receipts `receipts_visible_to` gives them: finance roles all, a sales rep only
their customers' identified receipts (another rep's answers 404). Lists run a fixed number of
queries whatever the page holds. A posted receipt goes through `receipt_record` (source "api"),
then `receipts_auto_match` in the same transaction, so a clear payment comes back applied."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import Prefetch, QuerySet
from django.http import HttpResponse
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.filters import OrderingFilter
from rest_framework.response import Response

from customers.models import Customer
from customers.selectors import customers_visible_to
from ledger.models import LegalEntity
from otc import dates
from otc.api.negotiation import DocumentNegotiation
from otc.api.views import OtcAPIView, OtcGenericViewSet
from otc.errors import NotFound, ValidationFailed

from ..models import BankAccount, Receipt, ReceiptApplication
from ..selectors import receipts_visible_to
from ..services import normalize_account, receipt_apply, receipt_record, receipts_auto_match
from ..services.receipts import duplicate_bank_reference
from ..statements import statement_currencies, statement_file_name, statement_pdf
from .filters import ReceiptApiFilter
from .serializers import ReceiptApplyInputSerializer, ReceiptOutputSerializer, ReceiptPostSerializer

RECEIPTS_READ, RECEIPTS_WRITE = "receipts:read", "receipts:write"
STATEMENT_SCOPE = "statements:read"  # not ledger:read: a statement reader need not see the general ledger
_ERRORS = {400: OpenApiResponse(description="validation_error: {error, message, fields}"),
           403: OpenApiResponse(description="permission_denied"), 404: OpenApiResponse(description="not_found")}


def with_related(receipts: QuerySet[Receipt]) -> QuerySet[Receipt]:
    return receipts.select_related("legal_entity", "bank_account", "customer").prefetch_related(
        Prefetch("applications", queryset=ReceiptApplication.objects.select_related("invoice", "open_item")
                 .order_by("applied_at", "id")))


@extend_schema_view(
    list=extend_schema(
        summary="List receipts",
        description="Filter by status (repeatable), customer (id), customer_account_number, legal_entity (code), "
        "bank_account (id), currency, value_date_from/value_date_to, updated_since (ISO date-time), unapplied "
        "(true: cash left to apply), bank_reference and number. Each receipt comes with its applications.",
        responses={200: ReceiptOutputSerializer(many=True)},
    ),
    retrieve=extend_schema(summary="Get one receipt with its applications",
                           responses={200: ReceiptOutputSerializer, **_ERRORS}),
)
class ReceiptViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, OtcGenericViewSet):
    filter_backends = [DjangoFilterBackend, OrderingFilter]
    filterset_class = ReceiptApiFilter
    ordering_fields = ["value_date", "amount", "number", "created_at", "updated_at"]
    ordering = ["-value_date", "-id"]
    serializer_class = ReceiptOutputSerializer

    action_perms = {"list": "receivables.view_receipt", "retrieve": "receivables.view_receipt",
                    "create": "receivables.add_receipt", "apply": "receivables.apply_receipt"}
    action_scopes = {"list": RECEIPTS_READ, "retrieve": RECEIPTS_READ, "create": RECEIPTS_WRITE,
                     "apply": RECEIPTS_WRITE}

    def get_queryset(self):
        return with_related(receipts_visible_to(self.request.user))

    @extend_schema(
        summary="Post a receipt (bank integration)",
        description="Records the receipt (source `api`): cash against the customer's unapplied cash, or suspense "
        "while nobody knows who paid. Automatic matching runs at once, so a clear payment (invoice number in the "
        "remittance, amount agreeing) comes back `applied` with its applications; anything less waits for a "
        "person with ranked suggestions. A bank reference already recorded on the account is a 409 `conflict` "
        "naming the receipt that holds it (`fields.receipt`, header `Location`), also when concurrent posts race. Send an Idempotency-Key header: a retry with the same key gets the same "
        "answer and records nothing twice.",
        request=ReceiptPostSerializer,
        responses={201: ReceiptOutputSerializer, **_ERRORS},
    )
    def create(self, request, *args, **kwargs):
        shape = ReceiptPostSerializer(data=request.data)
        shape.is_valid(raise_exception=True)
        data = dict(shape.validated_data)
        values = {name: data.get(name) or "" for name in ("currency", "payer_name", "payer_account", "remittance",
                                                           "bank_reference", "end_to_end_id")}
        values |= {"bank_account_id": self._bank_account_id(data), "value_date": data["value_date"],
                   "amount": data["amount"], "customer_id": self._customer_id(data), "source": Receipt.Source.API}
        try:
            with transaction.atomic(durable=True):
                receipt = receipt_record(data=values, by=request.user)
                receipts_auto_match(receipt_ids=[receipt.pk])
        except IntegrityError:
            # A concurrent POST recorded the same bank reference first (the unique index decided):
            # answer as for any duplicate, 409 naming the receipt that holds it.
            if not values["bank_reference"] or not Receipt.objects.filter(
                    bank_account_id=values["bank_account_id"], bank_reference=values["bank_reference"]).exists():
                raise
            raise duplicate_bank_reference(bank_account_id=values["bank_account_id"],
                                           bank_reference=values["bank_reference"])
        fresh = with_related(Receipt.objects.all()).get(pk=receipt.pk)
        return Response(ReceiptOutputSerializer(fresh, context=self.get_serializer_context()).data,
                        status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Apply a receipt to invoices or open items",
        description="Allocations `[{invoice_id | open_item_id, amount}]` of one customer (an `open_item_id` pays "
        "an open item without an invoice, such as an opening balance migrated from a previous system). "
        "Refused whole (400) past what is left on the receipt or on a document, across currencies, entities or "
        "customers; nothing is written then.",
        request=ReceiptApplyInputSerializer,
        responses={200: ReceiptOutputSerializer, **_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def apply(self, request, pk=None):
        receipt = self.get_object()
        shape = ReceiptApplyInputSerializer(data=request.data)
        shape.is_valid(raise_exception=True)
        data = shape.validated_data
        allocations = [(a["invoice_id"] if a.get("invoice_id") else -a["open_item_id"], a["amount"])
                       for a in data["allocations"]]
        with transaction.atomic(durable=True):
            receipt_apply(receipt_id=receipt.pk, allocations=allocations, by=request.user,
                          on_account=data["on_account"], rule="api")
        fresh = with_related(Receipt.objects.all()).get(pk=receipt.pk)
        return Response(ReceiptOutputSerializer(fresh, context=self.get_serializer_context()).data)

    @staticmethod
    def _bank_account_id(data: dict) -> int:
        if data.get("bank_account"):
            return data["bank_account"]
        number = normalize_account(data["bank_account_number"])
        account_id = BankAccount.objects.filter(account_number=number).values_list("pk", flat=True).first()
        if account_id is None:
            raise ValidationFailed(f"No bank account {number} is set up.",
                                   fields={"bank_account_number": ["unknown"]})
        return account_id

    def _customer_id(self, data: dict) -> int | None:
        customers = customers_visible_to(self.request.user)
        if data.get("customer"):
            if not customers.filter(pk=data["customer"]).exists():
                raise ValidationFailed(f"Customer {data['customer']} does not exist.", fields={"customer": ["not found"]})
            return data["customer"]
        if data.get("customer_account_number"):
            found = customers.filter(account_number=data["customer_account_number"]).values_list("pk", flat=True).first()
            if found is None:
                raise ValidationFailed(f"Customer {data['customer_account_number']} does not exist.",
                                       fields={"customer_account_number": ["not found"]})
            return found
        return None


def _statement_query() -> type[serializers.Serializer]:
    fields = {
        "from": serializers.DateField(required=False, help_text="First day (default: the first of to's month)"),
        "to": serializers.DateField(required=False, help_text="Last day (default: today)"),
        "legal_entity": serializers.CharField(required=False, help_text="Legal entity code; needed only when "
                                              "the customer has postings in several entities"),
        "currency": serializers.CharField(required=False, max_length=3, help_text="Needed only when the customer "
                                          "has postings in several currencies"),
    }
    return type("StatementQuerySerializer", (serializers.Serializer,), fields)


StatementQuerySerializer = _statement_query()


class CustomerStatementView(OtcAPIView):
    """GET /api/v1/customers/{id}/statement.pdf?from=&to=[&legal_entity=&currency=]"""

    action_perms = {"get": "ledger.view_openitem"}
    action_scopes = {"get": STATEMENT_SCOPE}
    extra_query_params = ("from", "to", "legal_entity", "currency")
    content_negotiation_class = DocumentNegotiation

    @extend_schema(
        summary="A customer's statement as PDF",
        description="Opening balance, the documents of the period (invoices, credit notes, receipts, "
        "applications, refunds), closing balance, open items with ageing and remittance instructions, for one "
        "legal entity and currency. `legal_entity` (code) and `currency` may be left out when the customer has "
        "postings in only one. Sales reps get 404 for another rep's customer.",
        parameters=[OpenApiParameter(name, OpenApiTypes.DATE if name in ("from", "to") else OpenApiTypes.STR,
                                     OpenApiParameter.QUERY, required=False)
                    for name in ("from", "to", "legal_entity", "currency")],
        responses={(200, "application/pdf"): OpenApiTypes.BINARY, **_ERRORS},
    )
    def get(self, request, pk: int):
        customer = customers_visible_to(request.user).filter(pk=pk).first()
        if customer is None:
            raise NotFound(f"Customer {pk} does not exist.")
        query = StatementQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        date_to = params.get("to") or dates.today()
        date_from = params.get("from") or date_to.replace(day=1)
        if date_from > date_to:
            raise ValidationFailed("`from` is after `to`.", fields={"from": ["after to"]})
        entity_id, currency = _entity_and_currency(customer, params.get("legal_entity"), params.get("currency"))
        content = statement_pdf(customer_id=customer.pk, legal_entity_id=entity_id, currency=currency,
                                date_from=date_from, date_to=date_to)
        response = HttpResponse(content, content_type="application/pdf")
        name = statement_file_name(customer=customer, currency=currency, date_to=date_to)
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response


def _entity_and_currency(customer: Customer, code: str | None, currency: str | None) -> tuple[int, str]:
    """The (entity, currency) asked for, or the only one the customer has postings in."""
    entity_id = None
    if code:
        entity_id = LegalEntity.objects.filter(code__iexact=code).values_list("pk", flat=True).first()
        if entity_id is None:
            raise ValidationFailed(f"Legal entity {code} does not exist.", fields={"legal_entity": ["unknown"]})
    pairs = statement_currencies(customer_id=customer.pk)
    choices = [(e, c) for e, c, _ in pairs if (entity_id is None or e == entity_id)
               and (not currency or c == currency.upper())]
    if entity_id is not None and currency:
        return entity_id, currency.upper()
    if len(choices) == 1:
        return choices[0]
    if not choices:
        raise ValidationFailed(f"{customer.legal_name} has no postings{' in that entity or currency' if pairs else ''}; "
                               "give legal_entity and currency.", fields={"legal_entity": ["required"]})
    listed = ", ".join(f"{label} {c}" for _, c, label in pairs)
    raise ValidationFailed(f"{customer.legal_name} has postings in {listed}: give legal_entity and currency.",
                           fields={"legal_entity": ["required"], "currency": ["required"]})


__all__ = ["CustomerStatementView", "ReceiptViewSet"]
