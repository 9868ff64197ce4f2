"""Applying many receipts at once (the matcher's decisions for a whole statement): the same
rules as `receipt_apply`, set-based. One chunk is one transaction: the receipts locked in id
order, then the invoices (billing, id order), then the ledger; identification postings and
application postings each in one `journal_post_batch` per entity and date; applications,
receipts, history, status rows and events written in bulk. A chunk that fails any rule is
rolled back whole, and the caller retries its receipts one by one."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction

from billing.models import Invoice
from billing.services import invoices_record_payments
from ledger.models import JournalEntry, OpenItem
from ledger.services import journal_post_batch
from otc import dates
from otc.bulk import bulk_insert_rows, bulk_update_rows, history_insert
from otc.errors import InvalidTransition, ValidationFailed
from otc.services import ensure_transition, outbox_emit_many, record_status_changes
from receivables.models import Receipt, ReceiptApplication

from .postings import application_entry, identification_entry, item_application_entry, status_after
from .receipts import LIVE, payable_items


@dataclass(frozen=True)
class Decision:
    """Apply `allocations` [(invoice id, amount)] of one receipt; `on_account`: leave the rest as
    the customer's credit."""

    receipt_id: int
    allocations: tuple[tuple[int, Decimal], ...]
    rule: str = "auto"
    score: float | None = None
    reason: str = ""
    on_account: bool = False


@transaction.atomic
def receipts_apply_batch(*, decisions: list[Decision]) -> int:
    """Apply the matcher's decisions (by the system) all or nothing; returns how many receipts."""
    if not decisions:
        return 0
    receipts = {r.pk: r for r in Receipt.objects.select_for_update(of=("self",))
                .filter(pk__in=sorted({d.receipt_id for d in decisions})).order_by("pk")}
    # what the checks need of the invoices, as tuples; the invoices themselves are read once, locked,
    # by billing (`invoices_record_payments`), which returns them for the postings
    payable = {pk: (currency, entity_id, customer_id) for pk, currency, entity_id, customer_id in Invoice.objects.filter(
        pk__in={i for d in decisions for i, _ in d.allocations if i > 0}).values_list(
        "pk", "currency", "legal_entity_id", "customer_id")}
    item_amounts: dict[int, Decimal] = defaultdict(Decimal)
    for d in decisions:
        for i, amount in d.allocations:
            if i < 0:
                item_amounts[-i] += amount
    items: dict[int, OpenItem] | None = None if item_amounts else {}
    changes: dict[int, Decimal] = defaultdict(Decimal)
    owner: dict[int, int] = {}  # receipt id -> the customer its allocations belong to
    for decision in decisions:
        receipt = receipts.get(decision.receipt_id)
        if receipt is None or receipt.status not in LIVE:
            raise InvalidTransition(f"Receipt {decision.receipt_id} is no longer open.")
        total = sum((amount for _, amount in decision.allocations), Decimal(0))
        if total <= 0 or total > receipt.unapplied_amount:
            raise ValidationFailed(f"{receipt.number}: {total} does not fit the {receipt.unapplied_amount} left.")
        owners = set()
        for invoice_id, amount in decision.allocations:
            if invoice_id < 0:
                if items is None:
                    items = _items(receipts, decisions, item_amounts)
                item = items[-invoice_id]
                if amount <= 0:
                    raise ValidationFailed(f"{receipt.number}: {amount} is not positive.")
                owners.add(item.customer_id)
                continue
            invoice = payable.get(invoice_id)
            if invoice is None or invoice[:2] != (receipt.currency, receipt.legal_entity_id):
                raise ValidationFailed(f"{receipt.number}: invoice {invoice_id} is not payable by it.")
            if amount <= 0:
                raise ValidationFailed(f"{receipt.number}: {amount} is not positive.")
            owners.add(invoice[2])
            changes[invoice_id] += amount
        if len(owners) != 1 or (receipt.customer_id and receipt.customer_id not in owners):
            raise ValidationFailed(f"{receipt.number}: the invoices are not its customer's.")
        owner[receipt.pk] = owners.pop()
    assert items is not None  # None only with an allocation to an open item, which read them in the loop
    invoices: dict[int, Invoice] = {}
    if changes:
        invoices = {invoice.pk: invoice for invoice in
                    invoices_record_payments(changes=dict(changes), by=None, note="automatic cash application")}

    today, stamp = dates.today(), dates.now()
    unidentified = [receipts[d.receipt_id] for d in decisions if receipts[d.receipt_id].customer_id is None]
    _identify_all(unidentified, today, owner)
    groups: dict[tuple[int, dt.date], list[tuple[Receipt, int, Decimal]]] = defaultdict(list)
    for decision in decisions:
        receipt = receipts[decision.receipt_id]
        on = max(today, receipt.value_date)
        for invoice_id, amount in decision.allocations:
            groups[receipt.legal_entity_id, on].append((receipt, invoice_id, amount))
    rows: list[ReceiptApplication] = []
    by_receipt = {d.receipt_id: d for d in decisions}
    for (entity_id, on), group in sorted(groups.items(), key=lambda kv: (kv[0][0], kv[0][1])):
        entries = journal_post_batch(
            legal_entity_id=entity_id, kind=JournalEntry.Kind.APPLICATION, document_date=on, by=None,
            entries=[application_entry(receipt, owner[receipt.pk], invoices[i], amount) if i > 0
                     else item_application_entry(receipt, owner[receipt.pk], items[-i], amount)
                     for receipt, i, amount in group])
        for (receipt, invoice_id, amount), entry in zip(group, entries, strict=True):
            decision = by_receipt[receipt.pk]
            rows.append(ReceiptApplication(receipt=receipt, invoice_id=invoice_id if invoice_id > 0 else None,
                                           open_item_id=-invoice_id if invoice_id < 0 else None,
                                           amount=amount, journal_entry=entry,
                                           rule=decision.rule[:40], score=decision.score, reason=decision.reason[:2000],
                                           applied_at=stamp))
    bulk_insert_rows(rows)

    moved: dict[str, list[Receipt]] = defaultdict(list)
    for decision in decisions:
        receipt = receipts[decision.receipt_id]
        before = receipt.status
        receipt.amount_applied += sum((amount for _, amount in decision.allocations), Decimal(0))
        status = status_after(receipt)
        if decision.on_account and status == Receipt.Status.PARTIALLY_APPLIED:
            status = Receipt.Status.ON_ACCOUNT
        if status != before:
            ensure_transition(receipt, to=status)
        receipt.status = status
        receipt.match_status, receipt.match_score, receipt.updated_at = Receipt.Match.AUTO, decision.score, stamp
        if receipt.status != before:
            moved[before].append(receipt)
    changed = list(receipts.values())
    bulk_update_rows(changed, ["customer", "identify_entry", "open_item", "amount_applied", "status", "match_status",
                               "match_score", "updated_at"])
    history_insert(changed, created=False, by=None, reason="automatic cash application", at=stamp)
    for before, moved_receipts in moved.items():
        record_status_changes(moved_receipts, by=None, from_state=before, note="automatic cash application")
    applications: dict[int, list[dict]] = defaultdict(list)  # per receipt, in one pass (was a scan of all rows per receipt)
    for a in rows:
        applications[a.receipt_id].append({"invoice_id": a.invoice_id, "open_item_id": a.open_item_id,
                                           "amount": str(a.amount)})
    outbox_emit_many(topic="receipt.applied", subject_type="receipt", events=[(r.pk, {
        "id": r.pk, "number": r.number, "customer_id": r.customer_id, "applications": applications[r.pk],
    }) for r in changed])
    return len(decisions)


def _identify_all(receipts: list[Receipt], today, owner: dict[int, int]) -> None:
    """Suspense to unapplied cash for receipts the matcher identified (one batch per entity)."""
    by_entity: dict[int, list[Receipt]] = defaultdict(list)
    for receipt in receipts:
        by_entity[receipt.legal_entity_id].append(receipt)
    for entity_id, group in sorted(by_entity.items()):
        entries = journal_post_batch(
            legal_entity_id=entity_id, kind=JournalEntry.Kind.RECEIPT, document_date=today, by=None,
            entries=[identification_entry(r, owner[r.pk], f"Receipt {r.number} identified by the matcher")
                     for r in group])
        for receipt, entry in zip(group, entries, strict=True):
            receipt.customer_id, receipt.identify_entry, receipt.open_item = (
                owner[receipt.pk], entry, entry.opened_items[0])


def _items(receipts: dict[int, Receipt], decisions: list[Decision],
           amounts: dict[int, Decimal]) -> dict[int, OpenItem]:
    """The open items without invoices the batch pays, checked per receipt (entity, currency, amount)."""
    items: dict[int, OpenItem] = {}
    for decision in decisions:
        mine = {-i: a for i, a in decision.allocations if i < 0}
        if mine:
            checked = payable_items(receipts[decision.receipt_id], {i: amounts[i] for i in mine})
            items.update(checked)
    return items
