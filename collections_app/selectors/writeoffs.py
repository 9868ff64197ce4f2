"""Write-off reads: lists and details, the written-off exclusion that dunning and the worklist
read, and the allowance and AR balances the tests and the reserve compare with the ledger."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from django.db.models import Q, QuerySet, Sum

from billing.models import Invoice
from collections_app.models.writeoffs import (
    LIVE_STATUSES,
    WriteOff,
    WriteOffBatch,
    WriteOffLine,
    WriteOffStatus,
)
from ledger.models import Account, JournalLine

PENDING_STATUSES = (WriteOffStatus.SUBMITTED, WriteOffStatus.APPROVED)


# --- the exclusion other areas read (dunning, worklist) ----------------------------------------

def not_written_off_q(prefix: str = "") -> Q:
    """A filter on invoices (or, with prefix "invoice__", rows of one invoice) keeping those not
    written off: `Invoice.objects.filter(not_written_off_q())`."""
    return ~Q(**{f"{prefix}status": Invoice.Status.WRITTEN_OFF})


def written_off_invoice_ids(*, invoice_ids: Iterable[int]) -> set[int]:
    """The given invoices that are written off (posted and not recovered)."""
    return set(Invoice.objects.filter(pk__in=list(invoice_ids), status=Invoice.Status.WRITTEN_OFF)
               .values_list("pk", flat=True))


def pending_write_off_invoice_ids(*, invoice_ids: Iterable[int]) -> set[int]:
    """The given invoices in a write-off submitted or approved but not yet posted (not chased while
    finance decides)."""
    return set(WriteOffLine.objects.filter(invoice_id__in=list(invoice_ids), write_off__status__in=PENDING_STATUSES)
               .values_list("invoice_id", flat=True))


def excluded_from_collection(*, invoice_ids: Iterable[int]) -> set[int]:
    """Invoices dunning and the worklist leave out because of write-offs: written off, or pending."""
    ids = list(invoice_ids)
    return written_off_invoice_ids(invoice_ids=ids) | pending_write_off_invoice_ids(invoice_ids=ids)


def live_write_off_item_ids(*, open_item_ids: Iterable[int]) -> set[int]:
    """Open items already in a draft, submitted or approved write-off."""
    return set(WriteOffLine.objects.filter(open_item_id__in=list(open_item_ids), write_off__status__in=LIVE_STATUSES)
               .values_list("open_item_id", flat=True))


# --- pages and API ----------------------------------------------------------------------------

def write_offs_list(*, status: str = "", legal_entity_id: int | None = None, customer_id: int | None = None,
                    reason: str = "") -> QuerySet[WriteOff]:
    rows = WriteOff.objects.select_related("legal_entity", "customer", "requested_by", "batch")
    if status:
        rows = rows.filter(status=status)
    if legal_entity_id:
        rows = rows.filter(legal_entity_id=legal_entity_id)
    if customer_id:
        rows = rows.filter(customer_id=customer_id)
    if reason:
        rows = rows.filter(reason=reason)
    return rows.order_by("-requested_at", "-id")


def write_off_detail(write_off_id: int) -> WriteOff:
    return (WriteOff.objects.select_related("legal_entity", "customer", "requested_by", "decided_by", "posted_by",
                                            "journal_entry", "batch")
            .prefetch_related("lines__invoice", "approvals__approver", "attachments", "recoveries__journal_entry",
                              "recoveries__receipt")
            .get(pk=write_off_id))


def batches_list() -> QuerySet[WriteOffBatch]:
    return WriteOffBatch.objects.select_related("legal_entity", "proposed_by", "submitted_by", "decided_by")


def batch_totals(batch: WriteOffBatch) -> list[dict]:
    """Per currency: the number of write-offs and their total."""
    return [dict(row) for row in
            batch.write_offs.values("currency").annotate(total=Sum("amount"), count=Sum(1)).order_by("currency")]


# --- balances (ledger) --------------------------------------------------------------------------

def account_balance(*, legal_entity_id: int, role: str, currency: str | None = None) -> Decimal:
    """The ledger balance (debit +) of the entity's account with `role`, in functional currency
    or, with `currency`, in that currency's lines."""
    lines = JournalLine.objects.filter(account__legal_entity_id=legal_entity_id, account__role=role)
    from otc.aggregates import money_sum, money_value

    if currency:
        return money_value(lines.filter(currency=currency).aggregate(t=money_sum("amount"))["t"])
    return money_value(lines.aggregate(t=money_sum("functional_amount"))["t"])


ALLOWANCE = Account.Role.ALLOWANCE
