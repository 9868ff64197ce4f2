"""Delivering issued invoices: e-mail to the customer's billing contacts with the PDF attached,
or a pending procurement-portal upload. Every attempt writes a Delivery row (the delivery log).

Idempotent: an invoice already sent by e-mail, or already queued for its portal (the unique
constraint on PortalSubmission decides), is not delivered again. Skipped and failed attempts may
be retried and each retry writes its own row.
"""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string

from billing.models import Delivery, Invoice
from customers.models import Customer
from otc.errors import InvalidTransition, ValidationFailed
from otc.money import format_amount

from .invoices import lock_invoices
from .portal import portal_submission_ensure


def _portal(invoice: Invoice, customer: Customer) -> Delivery | None:
    """Queue the upload through the portal workflow (status row and event included), once."""
    submission, created = portal_submission_ensure(invoice_id=invoice.id)
    if not created:
        return None
    return Delivery.objects.create(
        invoice=invoice, channel=Delivery.Channel.PORTAL, status=Delivery.Status.SKIPPED,
        detail=f"Queued for upload to the customer's {customer.get_procurement_portal_display()} portal "
               f"by {submission.due_date:%Y-%m-%d}; no e-mail sent.",
    )


def _email(invoice: Invoice, customer: Customer) -> Delivery:
    from billing.pdf import invoice_store_pdf

    recipients = list(
        customer.contacts.filter(is_billing_contact=True).exclude(email="").order_by("id").values_list("email", flat=True)
    )
    if not recipients:
        return Delivery.objects.create(
            invoice=invoice, channel=Delivery.Channel.EMAIL, status=Delivery.Status.SKIPPED,
            detail=f"{customer.legal_name} has no billing contact with an e-mail address.",
        )
    if not invoice.pdf_sha256:
        invoice = invoice_store_pdf(invoice_id=invoice.pk)
    context = {"invoice": invoice, "seller": invoice.seller, "customer_name": invoice.bill_to.get("legal_name", ""),
               "gross_total": format_amount(invoice.gross_total, invoice.currency)}
    message = EmailMessage(
        subject=render_to_string("billing/email/invoice_subject.txt", context).strip(),
        body=render_to_string("billing/email/invoice_body.txt", context),
        from_email=invoice.seller.get("email") or settings.DEFAULT_FROM_EMAIL, to=recipients,
    )
    with invoice.pdf.open("rb") as handle:
        message.attach(f"{invoice.number}.pdf", handle.read(), "application/pdf")
    try:
        message.send(fail_silently=False)
    except Exception as exc:  # noqa: BLE001 - any transport error is logged on the delivery row
        return Delivery.objects.create(
            invoice=invoice, channel=Delivery.Channel.EMAIL, status=Delivery.Status.FAILED,
            recipients=", ".join(recipients), detail=f"{type(exc).__name__}: {exc}"[:2000],
        )
    return Delivery.objects.create(
        invoice=invoice, channel=Delivery.Channel.EMAIL, status=Delivery.Status.SENT,
        recipients=", ".join(recipients), detail=f"Sent with {invoice.number}.pdf attached.",
    )


@transaction.atomic
def invoice_deliver(*, invoice_id: int) -> Delivery | None:
    """Deliver an issued invoice once (rules in the module docstring). Returns the Delivery row
    written, or None when the invoice had already been delivered."""
    invoice = lock_invoices([invoice_id]).first()  # the lock serialises concurrent retries
    if invoice is None:
        raise ValidationFailed(f"Invoice {invoice_id} does not exist.")
    if invoice.status == Invoice.Status.DRAFT:
        raise InvalidTransition(f"Draft invoice #{invoice.pk} cannot be delivered before it is issued.")
    customer = Customer.objects.get(pk=invoice.customer_id)
    if invoice.deliveries.filter(status=Delivery.Status.SENT).exists():
        return None
    if invoice.status == Invoice.Status.VOID:
        return Delivery.objects.create(invoice=invoice, channel=Delivery.Channel.EMAIL, status=Delivery.Status.SKIPPED,
                                       detail="The invoice is void; it is not delivered.")
    if customer.procurement_portal != Customer.Portal.NONE:
        return _portal(invoice, customer)
    if customer.invoice_delivery == Customer.Delivery.POST:
        if invoice.deliveries.filter(channel=Delivery.Channel.POST).exists():
            return None
        return Delivery.objects.create(
            invoice=invoice, channel=Delivery.Channel.POST, status=Delivery.Status.SKIPPED,
            detail=f"{customer.legal_name} receives invoices by post: print and mail the PDF.",
        )
    return _email(invoice, customer)
