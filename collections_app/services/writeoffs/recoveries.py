"""Recoveries: cash arriving for a written-off invoice or item reopens it (reinstated, or bad-debt
recovery income) before receivables applies the cash."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from typing import Any

from billing.models import Invoice
from billing.services import invoices_record_write_offs, lock_invoices
from collections_app.models.writeoffs import (
    RecoveryMode,
    WriteOff,
    WriteOffLine,
    WriteOffRecovery,
    WriteOffStatus,
)
from ledger.models import Account, JournalEntry, OpenItem
from ledger.services import LineSpec, journal_post
from otc import dates
from otc.models import User
from otc.money import ZERO, quantize

from .chain import split_by_weight
from .rules import (
    RECOVERY,
    policy_for,
)

# --- recoveries (registry hook called by receivables' cash application) ------------------------

def _recover(line: WriteOffLine, amount: Decimal, *, receipt: Any, by: User | None, on: dt.date) -> WriteOffRecovery:
    write_off = line.write_off
    policy = policy_for(write_off.legal_entity_id)
    cur = write_off.currency
    mode = policy.recovery_mode
    tax = ZERO
    if line.tax_amount:
        left_tax = line.tax_amount - quantize(line.tax_amount * line.recovered_amount / line.amount, cur)
        tax = left_tax if amount == line.amount - line.recovered_amount else min(
            left_tax, quantize(amount * line.tax_amount / line.amount, cur))
    credit_role = write_off.debit_role if mode == RecoveryMode.REINSTATE else RECOVERY
    specs = [LineSpec(amount=amount, role=Account.Role.AR, customer_id=write_off.customer_id,
                      settle_item_id=line.open_item_id, description=f"{line.document_number} reinstated ({write_off})")]
    if amount - tax:
        specs.append(LineSpec(amount=-(amount - tax), role=credit_role,
                              description=f"Recovery on {write_off} ({RecoveryMode(mode).label.lower()})"))
    if tax:
        accounts = {int(k): Decimal(v) for k, v in (line.tax_accounts or {}).items()}
        for account_id, share in split_by_weight(tax, accounts, cur).items():
            specs.append(LineSpec(amount=-share, account_id=account_id, description=f"{write_off} VAT relief repaid"))
        if not accounts:  # posted before relief was kept per account: the tax-payable account
            specs.append(LineSpec(amount=-tax, role=Account.Role.TAX_PAYABLE,
                                  description=f"{write_off} VAT relief repaid"))
    entry = journal_post(
        legal_entity_id=write_off.legal_entity_id, kind=JournalEntry.Kind.RECOVERY, document_date=on, currency=cur,
        by=by, lines=specs, source=write_off, source_reference=str(write_off),
        memo=f"Recovery of {line.document_number} written off by {write_off}"
             + (f" (receipt {receipt.number})" if receipt is not None else ""))
    line.recovered_amount += amount
    line.save(update_fields=["recovered_amount"])
    WriteOff.objects.filter(pk=write_off.pk).update(recovered_amount=write_off.recovered_amount + amount,
                                                    updated_at=dates.now())
    write_off.recovered_amount += amount
    return WriteOffRecovery.objects.create(write_off=write_off, line=line, mode=mode, amount=amount, tax_amount=tax,
                                           receipt=receipt, journal_entry=entry, by=by)


def _reinstate_items(needs: dict[int, Decimal], *, receipt: Any, by: User | None) -> list[WriteOffRecovery]:
    """Reopen written-off items by what is needed (open item id -> amount), latest write-off first."""
    if not needs:
        return []
    # the lines locked (id order) so that two receipts recovering one item queue here
    locked = list(WriteOffLine.objects.select_for_update(of=("self",))
                  .filter(open_item_id__in=list(needs), write_off__status=WriteOffStatus.POSTED)
                  .order_by("pk").values_list("pk", flat=True))
    lines = list(WriteOffLine.objects.select_related("write_off").filter(pk__in=locked)
                 .order_by("-write_off_id", "pk"))
    on = max(dates.today(), receipt.value_date) if receipt is not None else dates.today()
    recoveries: list[WriteOffRecovery] = []
    invoice_changes: defaultdict[int, Decimal] = defaultdict(Decimal)
    for line in lines:
        need = needs.get(line.open_item_id, ZERO)
        left = line.amount - line.recovered_amount
        take = min(need, left)
        if take <= 0:
            continue
        recoveries.append(_recover(line, take, receipt=receipt, by=by, on=on))
        needs[line.open_item_id] = need - take
        if line.invoice_id:
            invoice_changes[line.invoice_id] -= take
    if invoice_changes:
        invoices_record_write_offs(changes=dict(invoice_changes), by=by,
                                   note=f"Recovery{' by receipt ' + receipt.number if receipt is not None else ''}")
    return recoveries


def writeoff_recover_for_receipt(*, receipt: Any, invoice_amounts: dict[int, Decimal],
                                 item_amounts: dict[int, Decimal], by: User | None) -> list[WriteOffRecovery]:
    """The receivables hook: for cash about to be applied beyond what is open on a written-off
    invoice or item, reinstate that much of the write-off first (inside the application's
    transaction, so a refused application undoes it too)."""
    needs: dict[int, Decimal] = {}
    if invoice_amounts:
        written = list(Invoice.objects.filter(pk__in=list(invoice_amounts), amount_written_off__gt=0)
                       .values_list("pk", flat=True))
        # locked now (id order) as receivables is about to: the written-off amount read is current
        for invoice in lock_invoices(written).filter(legal_entity_id=receipt.legal_entity_id,
                                                    currency=receipt.currency):
            beyond = invoice_amounts[invoice.pk] - max(invoice.balance_due, ZERO)
            if beyond > 0 and invoice.open_item_id:
                needs[invoice.open_item_id] = min(beyond, invoice.amount_written_off)
    if item_amounts:
        written_items = set(WriteOffLine.objects.filter(open_item_id__in=list(item_amounts), invoice=None,
                                                        write_off__status=WriteOffStatus.POSTED)
                            .values_list("open_item_id", flat=True))
        for item in OpenItem.objects.filter(pk__in=written_items, legal_entity_id=receipt.legal_entity_id,
                                            currency=receipt.currency):
            beyond = item_amounts[item.pk] - item.open_amount
            if beyond > 0:
                needs[item.pk] = beyond
    return _reinstate_items(needs, receipt=receipt, by=by)
