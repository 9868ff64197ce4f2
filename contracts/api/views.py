"""/api/v1/contracts/: list, filter, retrieve, create, the CRM upsert, submit, and usage.

A caller sees only the contracts `contracts_visible_to` gives them: a sales rep gets 404 for
another rep's contract. Every write goes through one service; errors name the field the caller
sent (`lines[1].unit_price`)."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import (
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.filters import OrderingFilter
from rest_framework.response import Response

from customers.models import Customer
from ledger.models import LegalEntity
from otc.api.lookups import sales_rep_by_email
from otc.api.views import OtcGenericViewSet
from otc.errors import InvalidTransition, ValidationFailed

from .. import services
from ..models import Assessment, Contract, ContractLine, ContractVersion, Finding, Product
from ..selectors import contracts_visible_to
from .filters import ContractApiFilter
from .serializers import (
    AmendInputSerializer,
    ContractInputSerializer,
    ContractListSerializer,
    ContractOutputSerializer,
    ContractUpsertSerializer,
    UsageInputSerializer,
    UsageOutputSerializer,
    flatten_errors,
)

READ, WRITE = "contracts:read", "contracts:write"
_ERRORS = {400: OpenApiResponse(description="validation_error: {error, message, fields}"),
           403: OpenApiResponse(description="permission_denied"), 404: OpenApiResponse(description="not_found"),
           409: OpenApiResponse(description="invalid_transition")}


def validated(serializer_class, data, *, many: bool = False, prefix: str = "") -> Any:
    """Shape-check input; errors become one ValidationFailed naming each field."""
    serializer = serializer_class(data=data, many=many)
    if serializer.is_valid():
        return serializer.validated_data
    fields = flatten_errors(serializer.errors, prefix)
    raise ValidationFailed("Please correct: " + "; ".join(f"{k}: {v[0]}" for k, v in fields.items()), fields=fields)


def service_input(fields: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Resolve the CRM's references (customer CRM id, product SKUs) to ids."""
    data = dict(fields)
    lines = [dict(line) for line in data.pop("lines")]
    errors: dict[str, list[str]] = {}
    crm_id = data.pop("customer_crm_id", None)
    if crm_id and "customer_id" not in data:
        customer_id = Customer.objects.filter(external_crm_id=crm_id).values_list("pk", flat=True).first()
        if customer_id is None:
            errors["customer_crm_id"] = [f"No customer with CRM id {crm_id!r}: upsert the customer first."]
        data["customer_id"] = customer_id
    elif "customer_id" not in data:
        errors["customer_id"] = ["Give the customer by customer_id or customer_crm_id."]
    if code := data.pop("legal_entity", None):
        data["legal_entity_id"] = LegalEntity.objects.filter(code=code).values_list("pk", flat=True).first()
        if data["legal_entity_id"] is None:
            errors["legal_entity"] = [f"No legal entity {code!r} (see /api/v1/legal-entities/)."]
    if "sales_owner" in data:
        email = data.pop("sales_owner")
        if email and "sales_owner_id" in data:
            errors["sales_owner"] = ["Give sales_owner or sales_owner_id, not both."]
        elif email:
            data["sales_owner_id"] = sales_rep_by_email(email)
            if data["sales_owner_id"] is None:
                errors["sales_owner"] = [f"No active sales rep with the e-mail {email} (see /api/v1/sales-reps/)."]
        else:
            data["sales_owner_id"] = None
    _resolve_products(lines, errors)
    if errors:
        raise ValidationFailed("Please correct: " + "; ".join(f"{k}: {v[0]}" for k, v in errors.items()),
                               fields=errors)
    return data, lines


def _resolve_products(lines: list[dict[str, Any]], errors: dict[str, list[str]]) -> None:
    """Lines name their product by product_id or product_sku: SKUs become ids."""
    skus = {line["product_sku"] for line in lines if line.get("product_sku")}
    by_sku = dict(Product.objects.filter(sku__in=skus).values_list("sku", "pk")) if skus else {}
    for index, line in enumerate(lines):
        sku = line.pop("product_sku", None)
        if "product_id" in line:
            continue
        if sku is None:
            errors[f"lines[{index}].product_id"] = ["Give the product by product_id or product_sku."]
        elif sku not in by_sku:
            errors[f"lines[{index}].product_sku"] = [f"No product with SKU {sku!r}."]
        else:
            line["product_id"] = by_sku[sku]


@extend_schema_view(
    list=extend_schema(summary="List contracts", description="Filter by status, customer (id), "
                       "crm_opportunity_id and updated_since (ISO date-time).",
                       responses={200: ContractListSerializer(many=True)}),
    retrieve=extend_schema(summary="Get one contract: current terms, lines, values, findings, approval history",
                           responses={200: ContractOutputSerializer, **_ERRORS}),
)
class ContractViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, OtcGenericViewSet):
    serializer_class = ContractOutputSerializer
    filter_backends = [DjangoFilterBackend, OrderingFilter]
    filterset_class = ContractApiFilter
    bodyless_actions = ("submit",)
    ordering_fields = ["number", "created_at", "updated_at"]
    ordering = ["-created_at", "-id"]

    action_perms = {
        "list": "contracts.view_contract",
        "retrieve": "contracts.view_contract",
        "create": "contracts.add_contract",
        "upsert": "contracts.add_contract",
        "submit": "contracts.submit_contract",
        "usage": "contracts.add_usagerecord",
        "amend": "contracts.change_contract",
    }
    action_scopes = {"list": READ, "retrieve": READ, "create": WRITE, "upsert": WRITE, "submit": WRITE,
                     "usage": WRITE, "amend": WRITE}
    object_perms = {
        "amend": "contracts.edit_contract",
        "retrieve": "contracts.access_contract",
        "submit": "contracts.edit_contract",
        "usage": "contracts.access_contract",
    }

    def get_serializer_class(self):
        return ContractListSerializer if self.action == "list" else ContractOutputSerializer

    def get_queryset(self):
        qs = contracts_visible_to(self.request.user).select_related(
            "customer", "legal_entity", "sales_owner", "current_version")
        if self.action == "list":
            return qs
        assessments = Assessment.objects.prefetch_related(
            Prefetch("findings", queryset=Finding.objects.order_by("id"))).order_by("-created_at", "-id")
        return qs.select_related("current_version__submitted_by", "current_version__override_by").prefetch_related(
            Prefetch("versions", queryset=ContractVersion.objects.order_by("version")),
            Prefetch("current_version__lines",
                     queryset=ContractLine.objects.select_related("product").order_by("position", "id")),
            Prefetch("current_version__assessments", queryset=assessments),
            "current_version__approvals__approver",
        )

    def _output(self, contract: Contract, code: int) -> Response:
        fresh = self.get_queryset().get(pk=contract.pk)
        return Response(ContractOutputSerializer(fresh, context=self.get_serializer_context()).data, status=code)

    @extend_schema(summary="Create a contract with its lines (version 1, draft, assessed)",
                   request=ContractInputSerializer, responses={201: ContractOutputSerializer, **_ERRORS})
    def create(self, request, *args, **kwargs):
        data, lines = service_input(validated(ContractInputSerializer, request.data))
        contract = services.contract_create(data=data, lines=lines, by=request.user)
        return self._output(contract, status.HTTP_201_CREATED)

    @extend_schema(
        summary="Create or update the contract the CRM knows by crm_opportunity_id",
        description="201 when created, 200 when the editable version was updated; 409 when the contract is under "
        "review, approved or active (amend it instead). Lines replace the version's lines; send line_key to keep a "
        "line's identity.",
        request=ContractUpsertSerializer,
        responses={200: ContractOutputSerializer, 201: ContractOutputSerializer, **_ERRORS},
    )
    @action(detail=False, methods=["post"])
    def upsert(self, request, *args, **kwargs):
        data, lines = service_input(validated(ContractUpsertSerializer, request.data))
        crm_id = data.pop("crm_opportunity_id")
        contract, created = services.contract_upsert_by_crm_id(crm_opportunity_id=crm_id, data=data, lines=lines,
                                                               by=request.user)
        return self._output(contract, status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    @extend_schema(summary="Submit the contract's draft (or changed) version for review", request=None,
                   responses={200: ContractOutputSerializer, **_ERRORS})
    @action(detail=True, methods=["post"])
    def submit(self, request, *args, **kwargs):
        contract = self.get_object()
        latest = contract.versions.order_by("-version").first()
        if latest is None or not latest.is_editable:
            raise InvalidTransition(f"{contract.number} has no draft to submit.")
        services.contract_submit(version_id=latest.id, by=request.user)
        return self._output(contract, status.HTTP_200_OK)

    @extend_schema(
        summary="Amend an active contract: a new draft version with the changed terms and lines",
        description="All or nothing: the amendment (the next version, effective from effective_date, starting from "
        "the terms and lines in force) with the given changes, assessed. 201 with the contract; the new version is a "
        "draft: submit it with POST .../submit/ for review like any version. 409 when the contract is not active or "
        "already has an open amendment.",
        request=AmendInputSerializer, responses={201: ContractOutputSerializer, **_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def amend(self, request, *args, **kwargs):
        contract = self.get_object()
        data = dict(validated(AmendInputSerializer, request.data))
        effective_date = data.pop("effective_date")
        lines = [dict(line) for line in data.pop("lines")] if "lines" in data else None
        if lines is not None:
            errors: dict[str, list[str]] = {}
            _resolve_products(lines, errors)
            if errors:
                raise ValidationFailed("Please correct: " + "; ".join(f"{k}: {v[0]}" for k, v in errors.items()),
                                       fields=errors)
        services.contract_amend_with_terms(contract_id=contract.pk, by=request.user, effective_date=effective_date,
                                           data=data, lines=lines)
        return self._output(contract, status.HTTP_201_CREATED)

    @extend_schema(
        summary="Post usage for usage lines (one record or a list)",
        description="Idempotent by source_id: 201 when at least one record was created, 200 when every record "
        "already existed. A list is stored all or nothing. The body may be one object or a list of them.",
        request=PolymorphicProxySerializer(component_name="UsagePost", resource_type_field_name=None,
                                           serializers=[UsageInputSerializer, UsageInputSerializer(many=True)],
                                           many=False),
        responses={code: PolymorphicProxySerializer(
            component_name="UsageRecords", resource_type_field_name=None,
            serializers=[UsageOutputSerializer, UsageOutputSerializer(many=True)], many=False)
            for code in (200, 201)} | _ERRORS,
    )
    @action(detail=True, methods=["post"])
    def usage(self, request, *args, **kwargs):
        contract = self.get_object()
        many = isinstance(request.data, list)
        records = validated(UsageInputSerializer, request.data, many=many, prefix="records" if many else "")
        results = services.usage_records_post_batch(contract_id=contract.pk, records=records if many else [records],
                                                    by=request.user)
        code = status.HTTP_201_CREATED if any(created for _, created in results) else status.HTTP_200_OK
        body = UsageOutputSerializer([record for record, _ in results], many=True).data
        return Response(body if many else body[0], status=code)
