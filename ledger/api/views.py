"""/api/v1/: read-only legal entities, accounts, journal entries (with lines) and open items.
Every action needs its Django permission and, for token clients, the scope `ledger:read`.
Open items are scoped by `customers_visible_to`: a sales rep sees only their customers'."""

from __future__ import annotations

from django.db.models import Prefetch
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins
from rest_framework.filters import OrderingFilter

from customers.selectors import customers_visible_to
from otc.api.views import OtcGenericViewSet

from ..models import Account, JournalEntry, JournalLine, LegalEntity, OpenItem
from .filters import AccountFilter, JournalEntryFilter, OpenItemFilter
from .serializers import AccountSerializer, JournalEntrySerializer, LegalEntitySerializer, OpenItemSerializer

READ = "ledger:read"


class _ReadOnly(mixins.ListModelMixin, mixins.RetrieveModelMixin, OtcGenericViewSet):
    permission_name = ""
    filter_backends = [DjangoFilterBackend, OrderingFilter]

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls.action_perms = {"list": cls.permission_name, "retrieve": cls.permission_name}
        cls.action_scopes = {"list": READ, "retrieve": READ}


@extend_schema_view(list=extend_schema(summary="List legal entities"), retrieve=extend_schema(summary="Get a legal entity"))
class LegalEntityViewSet(_ReadOnly):
    """Also readable with `contracts:read`: a CRM submitting contracts names the entity."""

    permission_name = "ledger.view_legalentity"
    serializer_class = LegalEntitySerializer
    queryset = LegalEntity.objects.order_by("code")
    ordering_fields = ["code", "name"]


# after the class: _ReadOnly.__init_subclass__ sets the ledger scope, this widens it
LegalEntityViewSet.action_scopes = {"list": (READ, "contracts:read"), "retrieve": (READ, "contracts:read")}


@extend_schema_view(list=extend_schema(summary="List accounts (chart of accounts)"), retrieve=extend_schema(summary="Get an account"))
class AccountViewSet(_ReadOnly):
    permission_name = "ledger.view_account"
    serializer_class = AccountSerializer
    queryset = Account.objects.select_related("legal_entity").order_by("legal_entity__code", "code")
    filterset_class = AccountFilter
    ordering_fields = ["code", "name"]


@extend_schema_view(
    list=extend_schema(summary="List journal entries with their lines"),
    retrieve=extend_schema(summary="Get a journal entry with its lines"),
)
class JournalEntryViewSet(_ReadOnly):
    permission_name = "ledger.view_journalentry"
    serializer_class = JournalEntrySerializer
    queryset = (
        JournalEntry.objects.select_related("legal_entity", "period")
        .prefetch_related(Prefetch("lines", queryset=JournalLine.objects.select_related("account", "customer").order_by("id")))
        .order_by("-entry_date", "-id")
    )
    filterset_class = JournalEntryFilter
    ordering_fields = ["entry_date", "number", "posted_at"]


@extend_schema_view(
    list=extend_schema(summary="List open items (AR subledger)",
                       description="Filter by customer, legal_entity, currency, open=true, due_before (date)."),
    retrieve=extend_schema(summary="Get an open item"),
)
class OpenItemViewSet(_ReadOnly):
    permission_name = "ledger.view_openitem"
    serializer_class = OpenItemSerializer
    filterset_class = OpenItemFilter
    ordering_fields = ["due_date", "document_date", "open_amount"]

    def get_queryset(self):
        return (
            OpenItem.objects.filter(customer__in=customers_visible_to(self.request.user))
            .select_related("legal_entity", "account", "customer").order_by("due_date", "id")
        )
