"""Receivables: reads, reports and querysets for the cash application pages (workbench, receipt
page, imports, dashboard and customer panels). Each returns a queryset or plain data built in a
fixed number of queries, with aggregates computed in SQL."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import (
    Case,
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    Prefetch,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import Coalesce

from billing.models import Invoice
from customers.models import Customer
from customers.selectors import customers_visible_to
from ledger.models import OpenItem
from otc import dates
from otc.aggregates import MONEY_FIELD, money_sum, money_value
from otc.models import User

from .models import BankStatement, Receipt, ReceiptApplication, StatementImport

#: Receipts that still wait for a person: cash left to apply (or deliberately left on account).
WAITING = (Receipt.Status.UNAPPLIED, Receipt.Status.PARTIALLY_APPLIED, Receipt.Status.ON_ACCOUNT)
OPEN_INVOICE = (Invoice.Status.ISSUED, Invoice.Status.PARTIALLY_PAID)
LEFT = ExpressionWrapper(F("amount") - F("amount_applied") - F("amount_refunded"), output_field=MONEY_FIELD)
BALANCE_DUE = ExpressionWrapper(F("gross_total") - F("amount_credited") - F("amount_paid"), output_field=MONEY_FIELD)

#: Age buckets of unapplied cash by value date: (key, label, lowest age in days, highest or None).
AGE_BUCKETS = (("0-7", "0-7 days", 0, 7), ("8-30", "8-30 days", 8, 30), ("31-60", "31-60 days", 31, 60),
               ("61+", "over 60 days", 61, None))


def receipts_visible_to(user: User) -> QuerySet[Receipt]:
    """Receipts a user may see: finance roles see all; sales reps their customers' identified ones."""
    if user.has_perm("customers.view_all_customers"):
        return Receipt.objects.all()
    return Receipt.objects.filter(customer__in=customers_visible_to(user).values("pk"))


def unapplied_totals(receipts: QuerySet[Receipt]) -> list[dict[str, Any]]:
    """What the (filtered) waiting receipts leave to apply, per currency: [{currency, count, total}]."""
    return [dict(row) for row in receipts.order_by().values("currency")
            .annotate(count=Count("id"), total=money_sum("left")).order_by("currency")]


def workbench_receipts(*, user: User, bank_account_id: int | None = None, status: str = "",
                       identified: str = "", amount_min: Decimal | None = None, amount_max: Decimal | None = None,
                       value_from: dt.date | None = None, value_to: dt.date | None = None,
                       q: str = "") -> QuerySet[Receipt]:
    """Receipts waiting for cash application that the user may see, oldest value date first.
    Amount bounds compare the amount left to apply; `identified` is "yes" / "no" / ""."""
    rows = receipts_visible_to(user).filter(status__in=WAITING).annotate(left=LEFT).filter(left__gt=0)
    if bank_account_id:
        rows = rows.filter(bank_account_id=bank_account_id)
    if status:
        rows = rows.filter(status=status)
    if identified == "yes":
        rows = rows.filter(customer__isnull=False)
    elif identified == "no":
        rows = rows.filter(customer__isnull=True)
    if amount_min is not None:
        rows = rows.filter(left__gte=amount_min)
    if amount_max is not None:
        rows = rows.filter(left__lte=amount_max)
    if value_from:
        rows = rows.filter(value_date__gte=value_from)
    if value_to:
        rows = rows.filter(value_date__lte=value_to)
    if q := (q or "").strip():
        rows = rows.filter(Q(payer_name__icontains=q) | Q(remittance__icontains=q) | Q(number__icontains=q)
                           | Q(bank_reference__icontains=q) | Q(payer_account__icontains=q.replace(" ", ""))
                           | Q(customer__legal_name__icontains=q) | Q(customer__account_number__icontains=q))
    return rows.select_related("bank_account", "customer", "legal_entity").order_by("value_date", "id")


def suggested_customers(receipts: list[Receipt]) -> dict[int, Customer]:
    """The customers named by the receipts' stored suggestions, in one query."""
    ids = {s.get("customer_id") for r in receipts for s in (r.suggestions or []) if s.get("customer_id")}
    return Customer.objects.only("id", "legal_name", "display_name", "account_number").in_bulk(ids) if ids else {}


def receipt_for_page(*, user: User, pk: int) -> Receipt | None:
    """One visible receipt with what its page shows (bank account, customer, entries, statement)."""
    return (receipts_visible_to(user)
            .select_related("bank_account", "customer", "legal_entity", "journal_entry", "identify_entry", "open_item",
                            "statement__statement_import", "created_by")
            .filter(pk=pk).first())


def receipt_applications(receipt: Receipt) -> list[ReceiptApplication]:
    return list(receipt.applications.select_related("invoice", "open_item", "journal_entry", "reversal_entry", "applied_by",
                                                    "reversed_by").order_by("applied_at", "id"))


@dataclass(frozen=True)
class OpenItemDocument:
    """An open item without an invoice (an opening balance) where a page shows an invoice: the
    suggestions name it by the negative open item id."""

    pk: int
    number: str
    customer_id: int
    currency: str
    balance_due: Decimal
    due_date: dt.date
    status: str = "issued"  # open while something is due (the pages read OPEN statuses)
    is_open_item: bool = True


def invoices_by_id(ids: set[int]) -> dict[int, Any]:
    """Invoices named by suggestions, with their current balance, in one query (and the open items
    without invoices, named by negative ids, in a second when there are any)."""
    if not ids:
        return {}
    found: dict[int, Any] = dict(Invoice.objects.only(
        "id", "number", "status", "currency", "gross_total", "amount_credited", "amount_paid", "amount_written_off",
        "customer_id", "due_date").in_bulk([i for i in ids if i > 0]))
    items = [-i for i in ids if i < 0]
    if items:
        for pk, number, customer_id, currency, open_amount, due in OpenItem.objects.filter(pk__in=items).values_list(
                "pk", "document_number", "customer_id", "currency", "open_amount", "due_date"):
            found[-pk] = OpenItemDocument(pk=pk, number=number, customer_id=customer_id, currency=currency,
                                          balance_due=open_amount, due_date=due,
                                          status="issued" if open_amount > 0 else "paid")
    return found


def open_invoices_for(*, receipt: Receipt, customer_id: int | None = None, number: str = "",
                      amount: Decimal | None = None, limit: int = 25) -> list[Invoice]:
    """Open invoices a receipt could pay: same legal entity and currency, something left to pay;
    narrowed by customer, part of the number, and an amount equal to the balance due or the total."""
    # written-off invoices too: cash for one is a recovery (collections reinstates it when applied)
    rows = (Invoice.objects.filter(legal_entity_id=receipt.legal_entity_id, currency=receipt.currency,
                                   status__in=(*OPEN_INVOICE, Invoice.Status.WRITTEN_OFF))
            .annotate(due=BALANCE_DUE).filter(due__gt=0))
    if customer_id:
        rows = rows.filter(customer_id=customer_id)
    if number := (number or "").strip():
        rows = rows.filter(number__icontains=number)
    if amount is not None:
        rows = rows.filter(Q(due=amount) | Q(gross_total=amount))
    found: list[Any] = list(rows.select_related("customer").order_by("due_date", "id")[:limit])
    # open items without invoices (opening balances): payable too, listed after the invoices
    items = OpenItem.objects.filter(legal_entity_id=receipt.legal_entity_id, currency=receipt.currency,
                                    account__role="ar", open_amount__gt=0).exclude(document_type="invoice")
    if customer_id:
        items = items.filter(customer_id=customer_id)
    if number:
        items = items.filter(document_number__icontains=number)
    if amount is not None:
        items = items.filter(Q(open_amount=amount) | Q(original_amount=amount))
    for item in items.select_related("customer").order_by("due_date", "id")[:max(0, limit - len(found))]:
        found.append(OpenItemRow(pk=-item.pk, number=item.document_number, customer=item.customer,
                                 due_date=item.due_date, gross_total=item.original_amount, due=item.open_amount,
                                 currency=item.currency))
    return found


@dataclass(frozen=True)
class OpenItemRow:
    """An open item without an invoice in the manual search; `pk` is the allocation id (negative)."""

    pk: int
    number: str
    customer: Customer
    due_date: dt.date
    gross_total: Decimal
    due: Decimal
    currency: str
    is_open_item: bool = True


def invoices_by_number(*, receipt: Receipt, numbers: list[str]) -> dict[str, Invoice]:
    """Invoice numbers typed in the split form resolved within the receipt's legal entity."""
    wanted = {n.strip().upper() for n in numbers if n.strip()}
    if not wanted:
        return {}
    rows = Invoice.objects.filter(legal_entity_id=receipt.legal_entity_id, number__in=wanted).only("id", "number")
    found: dict[str, Any] = {invoice.number.upper(): invoice for invoice in rows}
    # open items without invoices, typed by their document number: the allocation id is negative
    for pk, number in (OpenItem.objects.filter(legal_entity_id=receipt.legal_entity_id, document_number__in=wanted
                                               - set(found), account__role="ar", original_amount__gt=0)
                       .exclude(document_type="invoice").values_list("pk", "document_number")):
        found.setdefault(number.upper(), Document(pk=-pk, number=number))
    return found


@dataclass(frozen=True)
class Document:
    pk: int  # the allocation id: an invoice's id, or minus an open item's
    number: str


def statement_imports() -> QuerySet[StatementImport]:
    """Past imports, newest first, with their statements and bank accounts (two queries)."""
    return StatementImport.objects.select_related("imported_by").prefetch_related(
        Prefetch("bank_statements", queryset=BankStatement.objects.select_related("bank_account").order_by("id")))


def unapplied_cash_by_age(*, user: User, today: dt.date | None = None) -> list[dict[str, Any]]:
    """Per currency: count and total of cash left to apply in each age bucket (by value date) and
    overall; one SQL aggregate query."""
    today = today or dates.today()
    whens = []
    for key, _label, low, high in AGE_BUCKETS:
        condition = Q(value_date__lte=today - dt.timedelta(days=low))
        if high is not None:
            condition &= Q(value_date__gte=today - dt.timedelta(days=high))
        whens.append(When(condition, then=Value(key)))
    rows = (receipts_visible_to(user).filter(status__in=WAITING).annotate(left=LEFT).filter(left__gt=0)
            .annotate(bucket=Case(*whens, default=Value("0-7")))
            .values("currency", "bucket").annotate(count=Count("id"), total=money_sum("left"))
            .order_by("currency", "bucket"))
    table: dict[str, dict[str, Any]] = {}
    for row in rows:
        entry = table.setdefault(row["currency"], {
            "currency": row["currency"], "count": 0, "total": Decimal(0),
            "buckets": {key: {"key": key, "label": label, "count": 0, "total": Decimal(0)}
                        for key, label, _low, _high in AGE_BUCKETS}})
        bucket = entry["buckets"][row["bucket"]]
        bucket["count"], bucket["total"] = row["count"], money_value(row["total"])
        entry["count"] += row["count"]
        entry["total"] = money_value(entry["total"] + bucket["total"])
    return [{**entry, "buckets": list(entry["buckets"].values())} for entry in table.values()]


def customer_cash(*, customer_id: int, history: int = 10) -> dict[str, Any]:
    """For the customer page: cash left to apply per currency (SQL aggregate), the receipts
    holding it, and the latest receipts with what each paid (a fixed number of queries)."""
    waiting = Receipt.objects.filter(customer_id=customer_id, status__in=WAITING).annotate(left=LEFT).filter(left__gt=0)
    totals = list(waiting.values("currency").annotate(count=Count("id"), total=money_sum("left")).order_by("currency"))
    for row in totals:
        row["total"] = money_value(row["total"])
    live_apps = ReceiptApplication.objects.filter(reversed_at__isnull=True).select_related("invoice", "open_item").order_by("id")
    recent = list(Receipt.objects.filter(customer_id=customer_id)
                  .annotate(left=Coalesce(LEFT, Value(Decimal(0)), output_field=DecimalField()))
                  .prefetch_related(Prefetch("applications", queryset=live_apps, to_attr="live_applications"))
                  .order_by("-value_date", "-id")[:history])
    return {"unapplied": totals, "waiting": list(waiting.order_by("value_date", "id")[:history]), "recent": recent}


__all__ = [
    "AGE_BUCKETS", "WAITING", "customer_cash", "invoices_by_id", "invoices_by_number", "open_invoices_for",
    "receipt_applications", "receipt_for_page", "unapplied_totals", "statement_imports", "suggested_customers",
    "unapplied_cash_by_age", "workbench_receipts",
]


def import_receipts(imports) -> QuerySet[Receipt]:
    """The receipts the statement imports recorded (what the files brought in)."""
    return Receipt.objects.filter(statement__statement_import__in=imports)


def imports_with_received(imports: list) -> list:
    """The imports, each with `received`: [{currency, amount}] of the receipts it recorded, one query."""
    sums: dict[int, list[dict[str, Any]]] = {}
    for row in (import_receipts([run.pk for run in imports]).order_by("statement__statement_import_id", "currency")
                .values("statement__statement_import_id", "currency").annotate(amount=money_sum("amount"))):
        sums.setdefault(row["statement__statement_import_id"], []).append(
            {"currency": row["currency"], "amount": money_value(row["amount"])})
    for run in imports:
        run.received = sums.get(run.pk, [])
    return imports
