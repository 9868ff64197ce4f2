"""The matching engine's view of the database: a `Book` (receivables.matching.types) answering
from open invoices, learned payer aliases and customer names, with per-batch caches so a statement
of thousands of receipts asks each question once."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal

from django.db.models import F

from billing.models import Invoice
from ledger.models import LegalEntity
from otc import dates
from receivables.matching import NumberKey, OpenInvoice, normalize_payer
from receivables.models import PayerAlias

OPEN = (Invoice.Status.ISSUED, Invoice.Status.PARTIALLY_PAID)
YEARS_BACK = 2  # "INV 123" without a year: this year's and the two before


def payer_key(name: str) -> str:
    """A payer name as remembered in aliases (the engine's normalisation)."""
    return normalize_payer(name or "")


def _open_invoices():
    return (Invoice.objects.filter(status__in=OPEN)
            .annotate(open_amount=F("gross_total") - F("amount_credited") - F("amount_paid"))
            .filter(open_amount__gt=0))


def _row(invoice: Invoice) -> OpenInvoice:
    return OpenInvoice(
        id=invoice.pk, number=invoice.number, customer_id=invoice.customer_id, legal_entity_id=invoice.legal_entity_id,
        currency=invoice.currency, open_amount=Decimal(invoice.gross_total - invoice.amount_credited - invoice.amount_paid),
        gross_total=invoice.gross_total, due_date=invoice.due_date, issue_date=invoice.issue_date)


FIELDS = ("id", "number", "customer_id", "legal_entity_id", "currency", "gross_total", "amount_credited",
          "amount_paid", "due_date", "issue_date")


class DbBook:
    """A `Book` over the database. One instance per batch: names and aliases are cached."""

    def __init__(self, today: dt.date | None = None) -> None:
        self.today = today or dates.today()
        self._prefixes = dict(LegalEntity.objects.values_list("pk", "invoice_prefix"))
        self._names: dict[int, list[tuple[int, str]]] = {}
        self._aliases: dict[tuple[str, str], list[int]] | None = None

    def invoices_by_numbers(self, legal_entity_id: int, currency: str, candidates: list[NumberKey]) -> list[OpenInvoice]:
        prefix = self._prefixes.get(legal_entity_id, "")
        numbers = set()
        for key in candidates:
            years = [key.year] if key.year else range(self.today.year - YEARS_BACK, self.today.year + 1)
            numbers.update(f"{prefix}-{year}-{key.sequence:06d}" for year in years)
        if not numbers:
            return []
        rows = (_open_invoices().filter(legal_entity_id=legal_entity_id, number__in=numbers)
                .only(*FIELDS).order_by("due_date", "pk"))
        return [_row(invoice) for invoice in rows if invoice.currency == currency]

    def open_invoices(self, customer_id: int, legal_entity_id: int, currency: str, limit: int = 200) -> list[OpenInvoice]:
        rows = (_open_invoices().filter(customer_id=customer_id, legal_entity_id=legal_entity_id, currency=currency)
                .only(*FIELDS).order_by("due_date", "pk")[:limit])
        return [_row(invoice) for invoice in rows]

    def _alias(self, kind: str, value: str) -> list[int]:
        if self._aliases is None:
            self._aliases = defaultdict(list)
            for k, v, customer_id in PayerAlias.objects.values_list("kind", "value", "customer_id").order_by("pk"):
                if customer_id not in self._aliases[k, v]:
                    self._aliases[k, v].append(customer_id)
        return list(self._aliases.get((kind, value), []))

    def customers_by_account(self, payer_account: str) -> list[int]:
        return self._alias(PayerAlias.Kind.ACCOUNT, payer_account) if payer_account else []

    def customers_by_alias(self, normalized_payer: str) -> list[int]:
        return self._alias(PayerAlias.Kind.NAME, normalized_payer) if normalized_payer else []

    def customer_names(self, legal_entity_id: int) -> list[tuple[int, str]]:
        if legal_entity_id not in self._names:
            self._names[legal_entity_id] = list(
                Invoice.objects.filter(legal_entity_id=legal_entity_id).exclude(status=Invoice.Status.DRAFT)
                .values_list("customer_id", "customer__legal_name").distinct().order_by("customer_id"))
        return self._names[legal_entity_id]

    def currency_mismatch(self, customer_id: int, legal_entity_id: int, currency: str) -> bool:
        rows = _open_invoices().filter(customer_id=customer_id, legal_entity_id=legal_entity_id)
        return rows.exists() and not rows.filter(currency=currency).exists()

