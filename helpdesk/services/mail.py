"""Inbound e-mail: a reply to a ticket notification threads onto the ticket.

Order of checks: malformed mail (no Message-ID or sender) and forbidden or oversized attachments
are refused with the reason and nothing of them stored; the same Message-ID twice is recognised
and adds nothing; the ticket is found by In-Reply-To / References (Message-IDs we sent or
received) and else by the reference in the subject; an unknown sender or a message without a
ticket is held for an agent or refused (HELPDESK_UNKNOWN_SENDER); a reply to a closed ticket opens
a linked follow-up or is refused (HELPDESK_CLOSED_REPLY). Every outcome is a MailMessage row, and
a refused sender is told why by e-mail: nothing is silently lost.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import re
from dataclasses import dataclass, field

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction

from otc import dates
from otc.errors import DomainError
from otc.models import User

from .. import conf
from ..models import MailMessage, Ticket, TicketLink
from ..selectors import can_see_ticket
from .tickets import AttachmentIn, add_comment, check_attachment, event, file_ticket, lock_ticket

REFERENCE = re.compile(r"\bHD-\d{6}\b", re.IGNORECASE)
MSGID = re.compile(r"<([^<>\s]+)>")


@dataclass
class InboundMail:
    message_id: str
    sender: str
    subject: str = ""
    body: str = ""
    in_reply_to: str = ""
    references: str = ""
    attachments: list[AttachmentIn] = field(default_factory=list)


@dataclass(frozen=True)
class Outcome:
    status: str
    reason: str = ""
    ticket: str = ""
    duplicate: bool = False


def _clean_id(raw: str) -> str:
    raw = (raw or "").strip()
    found = MSGID.findall(raw)
    return (found[0] if found else raw.strip("<> ")).strip()


def _refuse(mail: InboundMail, message_id: str, address: str, reason: str) -> Outcome:
    """Record the refusal (who, subject, why: no body, no attachments) and tell the sender."""
    key = message_id or f"refused-{dates.now().timestamp()}"
    try:
        with transaction.atomic():
            MailMessage.objects.create(message_id=key[:255], direction=MailMessage.Direction.IN,
                                       status=MailMessage.Status.REFUSED, sender=address[:255],
                                       subject=(mail.subject or "")[:255], reason=reason)
    except IntegrityError:
        return Outcome(MailMessage.Status.REFUSED, reason, duplicate=True)
    if address:
        notice = EmailMessage(subject=f"Not delivered: {mail.subject or '(no subject)'}"[:200],
                              body=f"Your e-mail to the help desk was not added to a ticket.\n\nReason: {reason}\n",
                              to=[address], from_email=settings.DEFAULT_FROM_EMAIL)
        transaction.on_commit(lambda: notice.send(fail_silently=True))
    return Outcome(MailMessage.Status.REFUSED, reason)


def _hold(mail: InboundMail, message_id: str, address: str, reason: str, ticket: Ticket | None) -> Outcome:
    MailMessage.objects.create(message_id=message_id, direction=MailMessage.Direction.IN,
                               status=MailMessage.Status.HELD, ticket=ticket, sender=address[:255],
                               subject=(mail.subject or "")[:255], body=mail.body, reason=reason)
    return Outcome(MailMessage.Status.HELD, reason, ticket.reference if ticket else "")


def _find_ticket(mail: InboundMail) -> Ticket | None:
    ids = [_clean_id(x) for x in MSGID.findall(f"{mail.in_reply_to} {mail.references}")]
    if not ids and mail.in_reply_to.strip():
        ids = [_clean_id(mail.in_reply_to)]
    if ids:
        known = (MailMessage.objects.filter(message_id__in=ids, ticket__isnull=False).select_related("ticket")
                 .order_by("-id").first())
        if known is not None:
            return known.ticket
        for raw in ids:  # our root id: <hd-000123@domain>
            match = REFERENCE.search(raw)
            if match:
                found = Ticket.objects.filter(reference=match.group(0).upper()).first()
                if found is not None:
                    return found
    match = REFERENCE.search(mail.subject or "")
    if match:
        return Ticket.objects.filter(reference=match.group(0).upper()).first()
    return None


@transaction.atomic(durable=True)
def mail_receive(*, mail: InboundMail) -> Outcome:
    """Handle one inbound message (rules in the module docstring)."""
    message_id = _clean_id(mail.message_id)[:255]
    address = email.utils.parseaddr(mail.sender or "")[1].strip().lower()
    if not message_id:
        return _refuse(mail, "", address, "The message has no Message-ID header.")
    if not address or "@" not in address:
        return _refuse(mail, message_id, "", "The message has no valid sender address.")
    existing = MailMessage.objects.filter(message_id=message_id).first()
    if existing is not None:
        return Outcome(existing.status, existing.reason, existing.ticket.reference if existing.ticket else "",
                       duplicate=True)
    if not (mail.body or "").strip() and not mail.attachments:
        return _refuse(mail, message_id, address, "The message is empty.")
    for item in mail.attachments:
        try:
            check_attachment(item)
        except DomainError as exc:
            return _refuse(mail, message_id, address, exc.message)
    ticket = _find_ticket(mail)
    sender = User.objects.filter(email__iexact=address, is_active=True).order_by("id").first()
    if sender is None:
        reason = f"{address} is not a user of the help desk."
        if conf.get("HELPDESK_UNKNOWN_SENDER") == "refuse":
            return _refuse(mail, message_id, address, reason)
        return _hold(mail, message_id, address, reason, ticket)
    if ticket is None:
        return _hold(mail, message_id, address, "No ticket reference in the subject or headers.", None)
    if not can_see_ticket(sender, ticket):
        return _refuse(mail, message_id, address, f"{address} may not see ticket {ticket.reference}.")
    ticket = lock_ticket(ticket.pk)
    body = _strip_quoted(mail.body)
    window = dt.timedelta(days=conf.get("HELPDESK_REOPEN_DAYS"))
    expired = ticket.status == Ticket.Status.RESOLVED and ticket.resolved_at and dates.now() - ticket.resolved_at > window
    if ticket.status == Ticket.Status.CLOSED or expired:
        if conf.get("HELPDESK_CLOSED_REPLY") == "refuse" or not sender.has_perm("helpdesk.file_ticket"):
            return _refuse(mail, message_id, address, f"Ticket {ticket.reference} is closed; file a new ticket.")
        follow = file_ticket(
            by=sender, requester=sender, category=ticket.category, subject=f"Follow-up: {ticket.subject}"[:200],
            description=body or "(see attachments)", customer_id=ticket.customer_id, invoice_id=ticket.invoice_id,
            contract_id=ticket.contract_id, receipt_id=ticket.receipt_id, amount=None, details={},
            self_service_shown=False, channel="email", attachments=mail.attachments)
        TicketLink.objects.create(from_ticket=follow, to_ticket=ticket, kind=TicketLink.Kind.FOLLOW_UP, by=sender)
        event(follow, "linked", by=sender, to_value=ticket.reference, note="follow_up")
        MailMessage.objects.create(message_id=message_id, direction=MailMessage.Direction.IN,
                                   status=MailMessage.Status.NEW_TICKET, ticket=follow, sender=address,
                                   subject=(mail.subject or "")[:255],
                                   reason=f"{ticket.reference} was closed: follow-up {follow.reference} opened.")
        return Outcome(MailMessage.Status.NEW_TICKET, f"{ticket.reference} was closed", follow.reference)
    try:
        with transaction.atomic():
            comment = add_comment(ticket, by=sender, body=body, internal=False, source="email",
                                  attachments=mail.attachments)
    except DomainError as exc:
        return _refuse(mail, message_id, address, exc.message)
    MailMessage.objects.create(message_id=message_id, direction=MailMessage.Direction.IN,
                               status=MailMessage.Status.THREADED, ticket=ticket, comment=comment, sender=address,
                               subject=(mail.subject or "")[:255])
    return Outcome(MailMessage.Status.THREADED, "", ticket.reference)


QUOTE_MARKERS = (re.compile(r"^On .+ wrote:\s*$"), re.compile(r"^-+\s*Original Message\s*-+$", re.IGNORECASE))


def _strip_quoted(body: str) -> str:
    """The new part of a reply: stop at the quoted original ("On ... wrote:", "> ...")."""
    kept = []
    for line in (body or "").splitlines():
        if line.startswith(">") or any(m.match(line.strip()) for m in QUOTE_MARKERS):
            break
        kept.append(line)
    return "\n".join(kept).strip() or (body or "").strip()
