"""Delivering issued documents: e-mail to the customer's billing contacts with the PDF attached,
or a pending procurement-portal upload, or a note to print and post. Every attempt writes a
Delivery row (the delivery log). Invoices, credit notes (`credit_note_deliver`) and the notice
that a never-delivered invoice was cancelled (`invoice_void_notice_deliver`) go the same way.

Idempotent: a document already sent by e-mail, or already queued for its portal (the unique
constraints on PortalSubmission decide), is not delivered again. Skipped and failed attempts may
be retried and each retry writes its own row. The attached PDF is the stored one, checked
against its SHA-256 first: a mismatch is logged as an incident and the e-mail is not sent.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.template.loader import render_to_string

from billing.models import CreditNote, Delivery, Invoice, PortalSubmission
from customers.models import Customer
from customers.selectors import billing_emails
from otc.errors import InvalidTransition, ValidationFailed
from otc.money import format_amount
from otc.transactions import key_lock

from .portal import portal_submission_ensure

DELIVERED_UPLOADS = (PortalSubmission.Status.UPLOADED, PortalSubmission.Status.ACCEPTED,
                     PortalSubmission.Status.REJECTED, PortalSubmission.Status.RESUBMITTED)


_mail_connection: ContextVar[Any] = ContextVar("billing_mail_connection", default=None)


@contextmanager
def mail_connection() -> Iterator[Any]:
    """One connection to the mail backend for every e-mail sent inside (a documents task's chunk
    of invoices), instead of one SMTP connection, TLS handshake and login per e-mail. If it cannot
    be opened, each e-mail opens its own (and a failure is logged on its delivery row)."""
    connection = get_connection()
    try:
        connection.open()
    except Exception:  # noqa: BLE001 - each message then tries on its own and logs its failure
        yield None
        return
    token = _mail_connection.set(connection)
    try:
        yield connection
    finally:
        _mail_connection.reset(token)
        connection.close()


def _send_message(message: EmailMessage) -> None:
    """Send on the batch's connection; a connection the server dropped (many close after N
    messages) is reopened once."""
    connection = _mail_connection.get()
    if connection is None:
        message.send(fail_silently=False)
        return
    message.connection = connection
    try:
        message.send(fail_silently=False)
    except Exception:  # noqa: BLE001 - retried once on a fresh connection, then reported
        connection.close()
        connection.open()
        message.send(fail_silently=False)


def delivery_document_kwargs(document: Invoice | CreditNote) -> dict[str, Any]:
    """The Delivery row's link to its document: `invoice=` or `credit_note=`."""
    return {"invoice": document} if isinstance(document, Invoice) else {"credit_note": document}


def _portal(document: Invoice | CreditNote, customer: Customer) -> Delivery | None:
    """Queue the upload through the portal workflow (status row and event included), once."""
    submission, created = portal_submission_ensure(**(
        {"invoice_id": document.pk} if isinstance(document, Invoice) else {"credit_note_id": document.pk}))
    if not created:
        return None
    return Delivery.objects.create(
        **delivery_document_kwargs(document), channel=Delivery.Channel.PORTAL, status=Delivery.Status.SKIPPED,
        detail=f"Queued for upload to the customer's {customer.get_procurement_portal_display()} portal "
               f"by {submission.due_date:%Y-%m-%d}; no e-mail sent.",
    )


def _send(document: Invoice | CreditNote, customer: Customer, *, template: str, context: dict[str, Any],
          attachment: tuple[str, Any], what: str = "") -> Delivery:
    """E-mail `template` with the attachment (name, a function returning the verified bytes)."""
    from billing.integrity import DocumentIntegrityError

    recipients = billing_emails(customer.pk)
    log = delivery_document_kwargs(document)
    if not recipients:
        return Delivery.objects.create(**log, channel=Delivery.Channel.EMAIL, status=Delivery.Status.SKIPPED,
                                       detail=f"{customer.legal_name} has no billing contact with an e-mail address.")
    name, read = attachment
    try:
        content = read()
    except DocumentIntegrityError as exc:  # logged as an incident by the check; never sent
        return Delivery.objects.create(**log, channel=Delivery.Channel.EMAIL, status=Delivery.Status.FAILED,
                                       recipients=", ".join(recipients), detail=f"{what}Not sent: {exc}"[:2000])
    seller = context["seller"]
    message = EmailMessage(
        subject=render_to_string(f"billing/email/{template}_subject.txt", context).strip(),
        body=render_to_string(f"billing/email/{template}_body.txt", context),
        from_email=seller.get("email") or settings.DEFAULT_FROM_EMAIL, to=recipients,
    )
    message.attach(name, content, "application/pdf")
    try:
        _send_message(message)
    except Exception as exc:  # noqa: BLE001 - any transport error is logged on the delivery row
        return Delivery.objects.create(**log, channel=Delivery.Channel.EMAIL, status=Delivery.Status.FAILED,
                                       recipients=", ".join(recipients),
                                       detail=f"{what}{type(exc).__name__}: {exc}"[:2000])
    return Delivery.objects.create(**log, channel=Delivery.Channel.EMAIL, status=Delivery.Status.SENT,
                                   recipients=", ".join(recipients), detail=f"{what}Sent with {name} attached.")


def invoice_email_send(invoice: Invoice, customer: Customer, *, what: str = "") -> Delivery:
    """E-mail the invoice with its stored PDF to the billing contacts now, logging a Delivery row
    (the caller decides whether it should: `invoice_deliver` once, `invoice_send_again` on request)."""
    from billing.integrity import verified_pdf
    from billing.pdf import invoice_store_pdf

    if not invoice.pdf_sha256 and billing_emails(customer.pk):
        invoice = invoice_store_pdf(invoice_id=invoice.pk)
    context = {"invoice": invoice, "seller": invoice.seller, "customer_name": invoice.bill_to.get("legal_name", ""),
               "gross_total": format_amount(invoice.gross_total, invoice.currency)}
    return _send(invoice, customer, template="invoice", context=context, what=what,
                 attachment=(f"{invoice.number}.pdf", lambda: verified_pdf(invoice)))


def _deliver(document: Invoice | CreditNote, customer: Customer, email) -> Delivery | None:
    if customer.procurement_portal != Customer.Portal.NONE:
        return _portal(document, customer)
    if customer.invoice_delivery == Customer.Delivery.POST:
        if document.deliveries.filter(channel=Delivery.Channel.POST).exists():
            return None
        kind = "invoices" if isinstance(document, Invoice) else "credit notes"
        return Delivery.objects.create(
            **delivery_document_kwargs(document), channel=Delivery.Channel.POST, status=Delivery.Status.SKIPPED,
            detail=f"{customer.legal_name} receives {kind} by post: print and mail the PDF.",
        )
    return email(document, customer)


def document_pdf_prepare(store, document: Invoice | CreditNote, customer: Customer, *, sha_field: str = "pdf_sha256",
                 **ids: int) -> None:
    """Render and store a document's PDF before delivering it, when an e-mail will carry it: the
    rendering takes no lock (`store` locks the row only to save), so it never runs under the
    delivery's lock or a transaction."""
    if (not getattr(document, sha_field) and customer.procurement_portal == Customer.Portal.NONE
            and customer.invoice_delivery != Customer.Delivery.POST and billing_emails(customer.pk)):
        store(**ids)


def invoice_deliver(*, invoice_id: int) -> Delivery | None:
    """Deliver an issued invoice once (rules in the module docstring). Returns the Delivery row
    written, or None when the invoice had already been delivered.

    No row lock is held while the PDF renders or the e-mail goes out: the PDF is stored first (its
    own short lock), then the delivery runs under this invoice's delivery key lock
    (`otc.transactions.key_lock`), which serialises concurrent retries of the same delivery and
    blocks nobody else; the delivery row is written after the send."""
    from billing.pdf import invoice_store_pdf

    invoice = Invoice.objects.filter(pk=invoice_id).first()
    if invoice is None:
        raise ValidationFailed(f"Invoice {invoice_id} does not exist.")
    if invoice.status == Invoice.Status.DRAFT:
        raise InvalidTransition(f"Draft invoice #{invoice.pk} cannot be delivered before it is issued.")
    customer = Customer.objects.get(pk=invoice.customer_id)
    if (invoice.status != Invoice.Status.VOID and not invoice.pdf_sha256  # stored: nothing to prepare, no query
            and not invoice.deliveries.filter(status=Delivery.Status.SENT).exists()):
        document_pdf_prepare(invoice_store_pdf, invoice, customer, invoice_id=invoice.pk)
    with transaction.atomic():
        key_lock(f"deliver:invoice:{invoice_id}")
        invoice = Invoice.objects.get(pk=invoice_id)
        if invoice.deliveries.filter(status=Delivery.Status.SENT).exists():
            return None
        if invoice.status == Invoice.Status.VOID:
            return Delivery.objects.create(invoice=invoice, channel=Delivery.Channel.EMAIL, status=Delivery.Status.SKIPPED,
                                           detail="The invoice is void; it is not delivered.")
        return _deliver(invoice, customer, invoice_email_send)


def invoice_was_delivered(invoice: Invoice) -> bool:
    """Whether the invoice reached the customer: e-mailed, uploaded to their portal (whatever the
    portal decided since), or handed to the post."""
    return (invoice.deliveries.filter(status=Delivery.Status.SENT).exists()
            or invoice.deliveries.filter(channel=Delivery.Channel.POST).exists()
            or PortalSubmission.objects.filter(invoice=invoice, status__in=DELIVERED_UPLOADS).exists())


# --- credit notes --------------------------------------------------------------------------------

def credit_note_email_send(note: CreditNote, customer: Customer) -> Delivery:
    """E-mail an issued credit note to the billing contacts with its PDF (stored first if missing)."""
    from billing.integrity import verified_pdf
    from billing.services.credit_notes import credit_note_store_pdf

    if not note.pdf_sha256 and billing_emails(customer.pk):
        note = credit_note_store_pdf(credit_note_id=note.pk)
    invoice = note.invoice
    context = {"note": note, "invoice": invoice, "seller": invoice.seller,
               "customer_name": invoice.bill_to.get("legal_name", ""),
               "gross_total": format_amount(note.gross_total, note.currency)}
    return _send(note, customer, template="credit_note", context=context,
                 attachment=(f"{note.number}.pdf", lambda: verified_pdf(note)))


def credit_note_deliver(*, credit_note_id: int) -> Delivery | None:
    """Deliver an issued credit note once, by the customer's channel (portal upload task, post,
    else e-mail to the billing contacts with the PDF). None when already delivered. Like
    `invoice_deliver`: PDF stored first, then sent under the note's delivery key lock, no row lock."""
    from billing.services.credit_notes import credit_note_store_pdf

    note = CreditNote.objects.select_related("invoice").filter(pk=credit_note_id).first()
    if note is None:
        raise ValidationFailed(f"Credit note {credit_note_id} does not exist.")
    if note.status != CreditNote.Status.ISSUED:
        raise InvalidTransition(f"{note} is not issued; only issued credit notes are delivered.")
    customer = Customer.objects.get(pk=note.customer_id)
    if not note.deliveries.filter(status=Delivery.Status.SENT).exists():
        document_pdf_prepare(credit_note_store_pdf, note, customer, credit_note_id=note.pk)
    with transaction.atomic():
        key_lock(f"deliver:credit_note:{credit_note_id}")
        note = CreditNote.objects.select_related("invoice").get(pk=credit_note_id)
        if note.deliveries.filter(status=Delivery.Status.SENT).exists():
            return None
        return _deliver(note, customer, credit_note_email_send)


# --- the cancellation notice of a never-delivered void invoice ---------------------------------------

def invoice_void_notice_deliver(*, invoice_id: int) -> Delivery | None:
    """Tell the customer that a void invoice they never received is cancelled and not owed, with
    its VOID copy, by e-mail (once). Only for a void invoice cancelled without a credit note.
    The VOID copy is stored first; the e-mail goes out under the notice's key lock, no row lock."""
    from billing.integrity import verified_pdf
    from billing.pdf import invoice_store_void_pdf

    invoice = Invoice.objects.filter(pk=invoice_id).first()
    if invoice is None:
        raise ValidationFailed(f"Invoice {invoice_id} does not exist.")
    if invoice.status != Invoice.Status.VOID or invoice.void_credit_note_id:
        raise InvalidTransition(f"Invoice {invoice} has no cancellation notice to deliver.")
    customer = Customer.objects.get(pk=invoice.customer_id)
    if not invoice.void_pdf_sha256 and billing_emails(customer.pk):
        invoice_store_void_pdf(invoice_id=invoice.pk)
    with transaction.atomic():
        key_lock(f"deliver:void_notice:{invoice_id}")
        invoice = Invoice.objects.get(pk=invoice_id)
        if invoice.deliveries.filter(status=Delivery.Status.SENT, detail__startswith="Cancellation notice").exists():
            return None
        context = {"invoice": invoice, "seller": invoice.seller, "customer_name": invoice.bill_to.get("legal_name", ""),
                   "gross_total": format_amount(invoice.gross_total, invoice.currency)}
        return _send(invoice, customer, template="void_notice", context=context, what="Cancellation notice: ",
                     attachment=(f"{invoice.number}-VOID.pdf",
                                 lambda: verified_pdf(invoice, file_field="void_pdf", sha_field="void_pdf_sha256")))
