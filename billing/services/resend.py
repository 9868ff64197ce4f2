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

from .delivery import _email_invoice
from .invoices import lock_invoices


@transaction.atomic(durable=True)
def invoice_send_again(*, invoice_id: int, by: User) -> Delivery:
    """E-mail an issued invoice (its stored PDF attached) to the billing contacts again."""
    if by is None or not by.has_perm("billing.issue_invoice"):
        raise PermissionDenied("Your role may not send invoices to customers.")
    invoice = lock_invoices([invoice_id]).first()
    if invoice is None:
        raise ValidationFailed(f"Invoice {invoice_id} does not exist.")
    if invoice.status in (Invoice.Status.DRAFT, Invoice.Status.VOID):
        raise InvalidTransition(f"{invoice} is {invoice.get_status_display().lower()}: only issued invoices are sent.")
    # Delivery rows are written once (issued-document integrity): the request goes into the row as it is made.
    return _email_invoice(invoice, Customer.objects.get(pk=invoice.customer_id),
                          what=f"Sent again at {by.get_full_name() or by.username}'s request. ")


__all__ = ["invoice_send_again"]
