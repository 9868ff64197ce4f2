"""Voiding an issued invoice that nothing was paid or credited against."""

from __future__ import annotations

from django.db import transaction

from billing.models import Invoice
from ledger.models import OpenItem
from ledger.services import (
    journal_reverse,
)
from otc import dates
from otc.errors import InvalidTransition, ValidationFailed
from otc.history import history_stamp
from otc.models import User
from otc.services import (
    ensure_transition,
    outbox_emit,
    record_status_change,
)

from .invoices import lock_invoices, require_perm


@transaction.atomic
def invoice_void(*, invoice_id: int, by: User, reason: str) -> Invoice:
    """Void an issued invoice that nothing has been paid or credited against, keeping its number
    and recording who voided it, when and why:

    - delivered to the customer (e-mailed, uploaded to their portal or posted): a credit note for
      the full amount cancels it (numbered in its series and posted: it settles the open item),
      and is delivered to the customer like any credit note (e-mail with the PDF, portal upload);
    - never delivered: the exact reversal of its journal entry closes the open item, and the
      customer's billing contacts get a cancellation notice with the VOID copy.

    Either way the invoice is served from then on as its VOID copy (billing.pdf)."""
    from .credit_notes import credit_note_cancel_invoice
    from .delivery import invoice_was_delivered

    require_perm(by, "billing.void_invoice", "void invoices")
    if not (reason or "").strip():
        raise ValidationFailed("Say why the invoice is voided.", fields={"reason": ["required"]})
    reason = reason.strip()
    invoice = lock_invoices([invoice_id]).select_related("legal_entity").first()
    if invoice is None:
        raise ValidationFailed(f"Invoice {invoice_id} does not exist.")
    ensure_transition(invoice, to=Invoice.Status.VOID)
    if invoice.amount_paid or invoice.amount_credited:
        raise InvalidTransition(
            f"Invoice {invoice.number} has payments or credits applied; issue a credit note instead of voiding it."
        )
    if invoice.open_item_id:
        item = OpenItem.objects.select_for_update(of=("self",)).get(pk=invoice.open_item_id)
        if item.open_amount != item.original_amount:
            raise InvalidTransition(
                f"Invoice {invoice.number} is partly settled in the ledger; unapply the receipt or credit first."
            )
    before, on = invoice.status, max(dates.today(), invoice.issue_date or dates.today())
    delivered = invoice_was_delivered(invoice)
    fields = ["status", "voided_by", "voided_at", "void_reason", "updated_at"]
    if delivered and invoice.gross_total:
        invoice.void_credit_note = credit_note_cancel_invoice(invoice=invoice, by=by, reason=reason, on=on)
        fields.append("void_credit_note")
    elif invoice.journal_entry_id:
        invoice.void_entry = journal_reverse(
            entry_id=invoice.journal_entry_id, by=by, memo=f"Void of invoice {invoice.number}: {reason}"[:255],
            document_date=on,
        )
        fields.append("void_entry")
    stamp = dates.now()
    invoice.status, invoice.voided_by, invoice.voided_at, invoice.void_reason = Invoice.Status.VOID, by, stamp, reason
    invoice.updated_at = stamp
    # The history row names the person and the (possibly pinned) business time, not "system".
    history_stamp(invoice, by=by, at=stamp)
    invoice.save(update_fields=fields)
    record_status_change(invoice, by=by, from_state=before, note=reason)
    outbox_emit(topic="invoice.voided", subject_type="invoice", subject_id=invoice.pk, payload={
        "id": invoice.pk, "number": invoice.number, "reason": reason,
        "cancelled_by_credit_note": invoice.void_credit_note.number if invoice.void_credit_note else None})
    invoice_id, notify = invoice.pk, not delivered
    transaction.on_commit(lambda: _queue_void_documents(invoice_id, notify))
    return invoice


def _queue_void_documents(invoice_id: int, notify_customer: bool) -> None:
    from billing.tasks import invoice_void_publish_task

    invoice_void_publish_task.delay(invoice_id=invoice_id, notify_customer=notify_customer)
