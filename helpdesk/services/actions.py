"""One-click actions an agent takes from a ticket: each does the work in the owning app's
service and replies on the ticket with the result. Plus the customer data change request that a
billing specialist decides, and the follow-up of credit notes requested from tickets."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction

from billing.models import CreditNote, Invoice
from customers.models import Customer
from otc import dates
from otc.errors import InvalidTransition, PermissionDenied, ValidationFailed
from otc.models import User
from otc.money import money_text
from otc.services import ensure_transition

from ..models import DataChangeRequest, Ticket, TicketEvent
from ..selectors import payment_answer
from .tickets import AttachmentIn, add_comment, ensure_visible, event, lock_ticket, move, require_agent


def _ticket_with_invoice(ticket_id: int, by: User, what: str) -> tuple[Ticket, Invoice]:
    ticket = lock_ticket(ticket_id)
    ensure_visible(ticket, by)
    require_agent(by, what)
    if ticket.status == Ticket.Status.CLOSED:
        raise InvalidTransition(f"Ticket {ticket.reference} is closed.")
    if ticket.invoice_id is None:
        raise ValidationFailed("The ticket names no invoice.")
    invoice = Invoice.objects.select_related("customer").get(pk=ticket.invoice_id)
    if invoice.status == Invoice.Status.DRAFT:
        raise InvalidTransition(f"Invoice #{invoice.pk} is a draft: it has no number or PDF yet.")
    return ticket, invoice


def _reply(ticket: Ticket, by: User, body: str, action: str, attachments: list[AttachmentIn] | None = None) -> None:
    event(ticket, TicketEvent.Kind.ACTION, by=by, to_value=action)
    add_comment(ticket, by=by, body=body, internal=False, source="action", attachments=attachments)


@transaction.atomic(durable=True)
def action_send_invoice_copy(*, ticket_id: int, by: User) -> Ticket:
    """E-mail the invoice's stored PDF to the requester, attach it to the ticket, reply, resolve."""
    from billing.pdf import invoice_store_pdf

    ticket, invoice = _ticket_with_invoice(ticket_id, by, "send invoice copies")
    if not invoice.pdf_sha256:
        invoice = invoice_store_pdf(invoice_id=invoice.pk)
    with invoice.pdf.open("rb") as handle:
        content = handle.read()
    name = f"{invoice.number}.pdf"
    requester = ticket.requester
    if requester.email:
        message = EmailMessage(subject=f"[{ticket.reference}] Copy of invoice {invoice.number}",
                               body=f"Attached: invoice {invoice.number} "
                                    f"({money_text(invoice.gross_total, invoice.currency)}).",
                               to=[requester.email], from_email=settings.DEFAULT_FROM_EMAIL)
        message.attach(name, content, "application/pdf")
        transaction.on_commit(lambda: message.send(fail_silently=True))
    _reply(ticket, by, f"Here is a copy of invoice {invoice.number} (PDF attached"
                       f"{', also sent to ' + requester.email if requester.email else ''}).",
           "send_invoice_copy", [AttachmentIn(name, content, "application/pdf")])
    return move(ticket, Ticket.Status.RESOLVED, by=by, note="Invoice copy sent")


@transaction.atomic(durable=True)
def action_payment_status(*, ticket_id: int, by: User) -> Ticket:
    """Answer with the applications found in receivables and what is still due; resolve."""
    ticket, invoice = _ticket_with_invoice(ticket_id, by, "answer payment status")
    _reply(ticket, by, payment_answer(invoice), "payment_status")
    return move(ticket, Ticket.Status.RESOLVED, by=by, note="Payment status answered")


@transaction.atomic(durable=True)
def action_credit_request(*, ticket_id: int, by: User, reason: str, explanation: str = "",
                          amount: Decimal | None = None) -> CreditNote:
    """Request a credit note in billing, prefilled from the ticket (its amount, or the whole
    invoice); the ticket follows the approval and is resolved when the note is issued or rejected."""
    from billing.services import credit_note_request

    ticket, invoice = _ticket_with_invoice(ticket_id, by, "request credit notes")
    if ticket.credit_note_id:
        note = CreditNote.objects.get(pk=ticket.credit_note_id)
        if note.status != CreditNote.Status.REJECTED:
            raise InvalidTransition(f"A credit note ({note.get_status_display().lower()}) was already requested from "
                                    f"{ticket.reference}.")
    if not by.has_perm("billing.request_creditnote"):
        raise PermissionDenied("Your role may not request credit notes.")
    note = credit_note_request(
        invoice_id=invoice.pk, by=by, reason=reason,
        explanation=(explanation or "").strip() or f"{ticket.reference}: {ticket.subject}\n\n{ticket.description}",
        amount=amount if amount is not None else ticket.amount,
    )
    ticket.credit_note = note
    ticket.save(update_fields=["credit_note", "updated_at"])
    _reply(ticket, by, f"Credit note requested against invoice {invoice.number}: "
                       f"{money_text(note.gross_total, note.currency)} ({note.get_reason_display()}). It awaits "
                       "approval; this ticket closes when it is issued or rejected.", "credit_request")
    if ticket.status == Ticket.Status.NEW:
        move(ticket, Ticket.Status.OPEN, by=by)
    return note


def tickets_follow_credit_notes() -> int:
    """Tickets whose credit note was issued or rejected are resolved with a reply telling the rep."""
    ids = list(Ticket.objects.filter(status__in=Ticket.ACTIVE, credit_note__status__in=(
        CreditNote.Status.ISSUED, CreditNote.Status.REJECTED)).values_list("pk", flat=True).order_by("pk"))
    for pk in ids:
        with transaction.atomic():
            ticket = lock_ticket(pk)
            if ticket.status not in Ticket.ACTIVE or ticket.credit_note_id is None:
                continue
            note = CreditNote.objects.select_related("decided_by").get(pk=ticket.credit_note_id)
            actor = note.issued_by if note.status == CreditNote.Status.ISSUED else note.decided_by
            if note.status == CreditNote.Status.ISSUED:
                text = (f"Credit note {note.number} was issued on {note.issue_date:%Y-%m-%d} for "
                        f"{money_text(note.gross_total, note.currency)}.")
            else:
                text = f"The credit note request was rejected: {note.decision_note or 'no reason given'}."
            comment_by = ticket.assignee or actor
            event(ticket, TicketEvent.Kind.ACTION, by=actor, to_value=f"credit_note_{note.status}")
            if comment_by is not None and comment_by.has_perm("helpdesk.work_tickets"):
                add_comment(ticket, by=comment_by, body=text, internal=False, source="action")
            move(ticket, Ticket.Status.RESOLVED, by=actor, note=text[:200])
    return len(ids)


@transaction.atomic(durable=True)
def action_portal_resend(*, ticket_id: int, by: User) -> Ticket:
    """Put the invoice (back) on the billing team's portal-upload worklist and reply with its state."""
    from billing.services.portal import portal_submission_ensure

    ticket, invoice = _ticket_with_invoice(ticket_id, by, "resend invoices to portals")
    submission, created = portal_submission_ensure(invoice_id=invoice.pk)
    if created:
        text = (f"Invoice {invoice.number} is queued for upload to the customer's {submission.portal} portal by "
                f"{submission.due_date:%Y-%m-%d}.")
    elif submission.status in ("rejected",):
        text = (f"The portal rejected invoice {invoice.number}: {submission.rejection_reason}. It is on the billing "
                "team's portal worklist for resubmission.")
    else:
        text = f"Invoice {invoice.number} on the {submission.portal} portal: {submission.get_status_display().lower()}."
    _reply(ticket, by, text, "portal_resend")
    return ticket


# --- customer data change ---------------------------------------------------------------------

def _lock_request(request_id: int) -> DataChangeRequest:
    row = DataChangeRequest.objects.select_for_update(of=("self",)).filter(pk=request_id).first()
    if row is None:
        raise ValidationFailed("No such data change request.")
    return row


def data_change_approve(*, request_id: int, by: User, note: str = "") -> DataChangeRequest:
    """A billing specialist approves: the customer master changes through customers' own service
    (validation, permission, history with the reason), then the request and the ticket close.
    Two transactions (customer_update is an entry point of its own); applying twice sets the same
    values, so a retry after a failure in between is harmless."""
    from customers.services import customer_update

    if not by.has_perm("helpdesk.decide_datachange"):
        raise PermissionDenied("Only a billing specialist approves customer data changes.")
    row = DataChangeRequest.objects.select_related("ticket", "customer").filter(pk=request_id).first()
    if row is None:
        raise ValidationFailed("No such data change request.")
    ensure_transition(row, to=DataChangeRequest.Status.APPLIED)
    if row.requested_by_id == by.pk:
        raise PermissionDenied("You asked for this change; another person must approve it.")
    customer = row.customer
    changes = dict(row.changes)
    reason = f"Data change request #{row.pk} ({row.ticket.reference})"
    previous = {k: getattr(customer, k) for k in changes if k != "billing_email"}
    fields = {k: v for k, v in changes.items() if k != "billing_email"}
    if "billing_email" in changes:
        previous["billing_email"] = _set_billing_email(customer, changes["billing_email"], by, reason)
    if fields:
        customer_update(customer_id=customer.pk, data=fields, by=by, reason=reason)
    with transaction.atomic(durable=True):
        row = _lock_request(request_id)
        ensure_transition(row, to=DataChangeRequest.Status.APPLIED)
        row.status, row.decided_by, row.decided_at = DataChangeRequest.Status.APPLIED, by, dates.now()
        row.decision_note, row.previous = (note or "").strip(), previous
        row.save(update_fields=["status", "decided_by", "decided_at", "decision_note", "previous"])
        ticket = lock_ticket(row.ticket_id)
        summary = ", ".join(f"{k.replace('_', ' ')} → {v}" for k, v in changes.items())
        _close_with(ticket, by, f"{by} approved the change and updated the customer master: {summary}.")
    return row


def _set_billing_email(customer: Customer, email: str, by: User, reason: str) -> str:
    """The billing contact's e-mail changes (or a billing contact is added); returns the old one."""
    from customers.services import contact_create, contact_update

    billing = customer.contacts.filter(is_billing_contact=True).order_by("id").first()
    if billing is None:
        contact_create(customer_id=customer.pk, by=by,
                       data={"name": "Accounts payable", "email": email, "is_billing_contact": True})
        return ""
    contact_update(contact_id=billing.pk, data={"email": email}, by=by, reason=reason)
    return billing.email


def _close_with(ticket: Ticket, by: User, text: str) -> None:
    event(ticket, TicketEvent.Kind.ACTION, by=by, to_value="data_change")
    author = ticket.assignee if ticket.assignee and ticket.assignee.has_perm("helpdesk.work_tickets") else None
    if author is not None:
        add_comment(ticket, by=author, body=text, internal=False, source="action")
    if ticket.status in Ticket.ACTIVE:
        move(ticket, Ticket.Status.RESOLVED, by=by, note=text[:200])


@transaction.atomic(durable=True)
def data_change_reject(*, request_id: int, by: User, note: str) -> DataChangeRequest:
    if not by.has_perm("helpdesk.decide_datachange"):
        raise PermissionDenied("Only a billing specialist decides customer data changes.")
    if not (note or "").strip():
        raise ValidationFailed("Say why the change is rejected.", fields={"note": ["required"]})
    row = _lock_request(request_id)
    ensure_transition(row, to=DataChangeRequest.Status.REJECTED)
    row.status, row.decided_by, row.decided_at, row.decision_note = (
        DataChangeRequest.Status.REJECTED, by, dates.now(), note.strip())
    row.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
    _close_with(lock_ticket(row.ticket_id), by, f"The data change was rejected: {note.strip()}")
    return row

