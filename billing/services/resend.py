"""Sending an issued invoice again (the invoice page's *Send again*): the customer lost it, or
a contact changed. Unlike `invoice_deliver` (once per invoice, idempotent for tasks), each call
e-mails the stored PDF to the customer's current billing contacts and logs its own Delivery row,
with who asked for it."""

from __future__ import annotations

from django.db import transaction

from billing.models import Delivery, Invoice
from customers.models import Customer
from otc.errors import InvalidTransition, PermissionDenied, ValidationFailed
from otc.models import User
from otc.transactions import key_lock

from .delivery import invoice_email_send


def invoice_send_again(*, invoice_id: int, by: User) -> Delivery:
    """E-mail an issued invoice (its stored PDF attached) to the billing contacts again. The PDF is
    stored first if missing; the e-mail goes out under the invoice's delivery key lock, with no row
    lock held (see `invoice_deliver`)."""
    from billing.pdf import invoice_store_pdf

    if by is None or not by.has_perm("billing.issue_invoice"):
        raise PermissionDenied("Your role may not send invoices to customers.")
    invoice = Invoice.objects.filter(pk=invoice_id).first()
    if invoice is None:
        raise ValidationFailed(f"Invoice {invoice_id} does not exist.")
    if invoice.status in (Invoice.Status.DRAFT, Invoice.Status.VOID):
        raise InvalidTransition(f"{invoice} is {invoice.get_status_display().lower()}: only issued invoices are sent.")
    if not invoice.pdf_sha256:
        invoice_store_pdf(invoice_id=invoice.pk)
    with transaction.atomic(durable=True):
        key_lock(f"deliver:invoice:{invoice_id}")
        invoice = Invoice.objects.get(pk=invoice_id)
        # Delivery rows are written once (issued-document integrity): the request goes into the row as it is made.
        return invoice_email_send(invoice, Customer.objects.get(pk=invoice.customer_id),
                              what=f"Sent again at {by.get_full_name() or by.username}'s request. ")


__all__ = ["invoice_send_again"]
