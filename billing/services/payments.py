"""Cash and write-offs moving issued invoices' paid and written-off amounts and their status
(called by receivables and collections inside their postings' transactions)."""

from __future__ import annotations

from decimal import Decimal

from billing.models import Invoice
from otc import dates
from otc.bulk import bulk_update_rows, history_insert
from otc.errors import InvalidTransition, ValidationFailed
from otc.models import User
from otc.money import (
    money_text,
)
from otc.services import (
    outbox_emit_many,
    record_status_changes,
)

from .invoices import lock_invoices


def payment_status(invoice: Invoice) -> str:
    """The status an issued invoice's amounts call for: paid when nothing is left due, partially
    paid when some cash was applied, else issued."""
    if invoice.balance_due <= 0:
        return Invoice.Status.WRITTEN_OFF if invoice.amount_written_off > 0 else Invoice.Status.PAID
    return Invoice.Status.PARTIALLY_PAID if invoice.amount_paid > 0 else Invoice.Status.ISSUED


def invoices_record_payments(*, changes: dict[int, Decimal], by: User | None, note: str = "") -> list[Invoice]:
    """Add (or, for a reversed application, subtract) cash applied to invoices, inside the
    caller's transaction (the application's posting): locks the invoices in id order, refuses
    paying past the balance due or below zero, moves the status and records each move."""
    invoices = list(lock_invoices(list(changes)))
    if len(invoices) != len(set(changes)):
        raise ValidationFailed("An invoice to apply cash to does not exist.")
    for invoice in invoices:
        delta = changes[invoice.pk]
        if invoice.status not in SETTLEABLE:
            raise InvalidTransition(f"Invoice {invoice} is {invoice.get_status_display().lower()}: "
                                    "cash is applied only to issued invoices.")
        paid = invoice.amount_paid + delta
        if paid < 0:
            raise ValidationFailed(f"Invoice {invoice.number}: only {money_text(invoice.amount_paid, invoice.currency)} "
                                   f"is applied; {money_text(-delta, invoice.currency)} cannot be taken back.")
        if paid + invoice.amount_credited + invoice.amount_written_off > invoice.gross_total:
            raise ValidationFailed(
                f"Invoice {invoice.number} has {money_text(invoice.balance_due, invoice.currency)} left to pay; "
                f"{money_text(delta, invoice.currency)} would pay it past its balance.", fields={"amount": ["over the balance due"]})
        invoice.amount_paid = paid
    changed = _settle(invoices, field="amount_paid", by=by, reason=note or "payment", note=note)
    emit_paid([i for i in changed if i.status == Invoice.Status.PAID])
    return invoices


#: Statuses whose paid and written-off amounts still move (cash, reversals, write-offs, recoveries).
SETTLEABLE = (Invoice.Status.ISSUED, Invoice.Status.PARTIALLY_PAID, Invoice.Status.PAID, Invoice.Status.WRITTEN_OFF)


def _settle(invoices: list[Invoice], *, field: str, by: User | None, reason: str, note: str) -> list[Invoice]:
    """After `field` (paid or written off) moved on the locked invoices: each one's status follows
    (`payment_status`, within the status map), then the rows, their history and the status changes
    are written. Returns the invoices whose status changed."""
    changed, stamp = [], dates.now()
    was: dict[int, str] = {}  # invoice id -> its status before, for those that moved
    for invoice in invoices:
        before = invoice.status
        invoice.updated_at, invoice.status = stamp, payment_status(invoice)
        if invoice.status != before:
            if invoice.status not in Invoice.TRANSITIONS[before]:
                raise InvalidTransition(f"Invoice {invoice.number} cannot move from {before} to {invoice.status}.")
            was[invoice.pk] = before
            changed.append(invoice)
    bulk_update_rows(invoices, [field, "status", "updated_at"])
    history_insert(invoices, created=False, by=by, reason=reason, at=stamp)
    for before in set(was.values()):
        record_status_changes([i for i in changed if was[i.pk] == before], by=by, from_state=before, note=note)
    return changed


def invoices_record_write_offs(*, changes: dict[int, Decimal], by: User | None, note: str = "") -> list[Invoice]:
    """Add (a posted write-off) or subtract (a write-off reinstated or recovered) amounts written
    off, inside the caller's transaction (the write-off's posting): locks the invoices in id order,
    refuses writing off past the balance due or taking back more than was written off, moves the
    status (written off when nothing is left due) and records each move. Collections calls it
    through a registry hook (billing never imports collections_app)."""
    invoices = list(lock_invoices(list(changes)))
    if len(invoices) != len(set(changes)):
        raise ValidationFailed("An invoice to write off does not exist.")
    for invoice in invoices:
        delta = changes[invoice.pk]
        if invoice.status not in SETTLEABLE:
            raise InvalidTransition(f"Invoice {invoice} is {invoice.get_status_display().lower()}: "
                                    "only issued invoices are written off.")
        written = invoice.amount_written_off + delta
        if written < 0:
            raise ValidationFailed(f"Invoice {invoice.number}: only {money_text(invoice.amount_written_off, invoice.currency)}"
                                   f" is written off; {money_text(-delta, invoice.currency)} cannot be reinstated.")
        if delta > 0 and delta > invoice.balance_due:
            raise ValidationFailed(f"Invoice {invoice.number} has {money_text(invoice.balance_due, invoice.currency)} "
                                   f"left to pay; {money_text(delta, invoice.currency)} cannot be written off.",
                                   fields={"amount": ["over the balance due"]})
        invoice.amount_written_off = written
    _settle(invoices, field="amount_written_off", by=by, reason=note or "write-off", note=note)
    return invoices


def emit_paid(invoices: list[Invoice]) -> None:
    """`invoice.paid` for invoices that just reached nothing left to pay (cash or credit)."""
    outbox_emit_many(topic="invoice.paid", subject_type="invoice", events=[(i.pk, {
        "id": i.pk, "number": i.number, "customer_id": i.customer_id, "currency": i.currency,
        "gross_total": str(i.gross_total), "amount_paid": str(i.amount_paid), "amount_credited": str(i.amount_credited),
    }) for i in invoices])
