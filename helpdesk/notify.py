"""E-mail notifications (after commit, through a Celery task): to the rep on replies and status
changes, to the assignee on new tickets and assignments, to the assignee and the team lead on
SLA warnings and breaches. Every mail carries the ticket reference in its subject and a
Message-ID recorded in MailMessage, so that replies thread back by reference or headers."""

from __future__ import annotations

import secrets
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMessage
from django.db import transaction
from django.urls import reverse

from otc.models import User

from . import conf
from .models import Comment, MailMessage, Ticket, TicketEvent

RATE_SALT = "helpdesk.rate"


def after_commit(kind: str, **kwargs: Any) -> None:
    from .tasks import notify_task

    transaction.on_commit(lambda: notify_task.delay(kind=kind, **kwargs))


def root_message_id(ticket: Ticket) -> str:
    return f"<{ticket.reference.lower()}@{conf.get('HELPDESK_MAIL_DOMAIN')}>"


def _url(path: str) -> str:
    return getattr(settings, "OTC_BASE_URL", "").rstrip("/") + path


def rating_url(ticket: Ticket, score: int) -> str:
    token = signing.dumps({"t": ticket.pk, "s": score}, salt=RATE_SALT)
    return _url(reverse("helpdesk:rate", args=[token]))


def _send(ticket: Ticket, recipients: list[User], subject: str, body: str, comment: Comment | None = None) -> None:
    emails = sorted({u.email for u in recipients if u and u.email and u.is_active})
    if not emails:
        return
    message_id = f"<{ticket.reference.lower()}.{secrets.token_hex(6)}@{conf.get('HELPDESK_MAIL_DOMAIN')}>"
    root = root_message_id(ticket)
    headers = {"Message-ID": message_id, "In-Reply-To": root, "References": root,
               "X-OTC-Ticket": ticket.reference}
    full_subject = f"[{ticket.reference}] {subject}"
    body = body + f"\n\nReply to this e-mail to answer (keep [{ticket.reference}] in the subject).\n" \
                  f"{_url(ticket.get_absolute_url())}\n"
    EmailMessage(subject=full_subject, body=body, to=emails, headers=headers,
                 from_email=settings.DEFAULT_FROM_EMAIL).send(fail_silently=True)
    MailMessage.objects.create(message_id=message_id.strip("<>"), direction=MailMessage.Direction.OUT,
                               status=MailMessage.Status.SENT, ticket=ticket, comment=comment,
                               recipients=", ".join(emails), subject=full_subject[:255])


def notify(kind: str, *, ticket_id: int, **kw: Any) -> None:
    ticket = Ticket.objects.select_related("requester", "assignee", "queue__team_lead", "customer").filter(
        pk=ticket_id).first()
    if ticket is None:
        return
    watchers = list(ticket.watchers.all())
    if kind == "filed":
        if ticket.assignee:
            _send(ticket, [ticket.assignee], f"New ticket: {ticket.subject}",
                  f"{ticket.requester} filed a {ticket.get_category_display().lower()} ticket"
                  f"{' about ' + ticket.customer.name if ticket.customer else ''} ({ticket.get_priority_display()}).\n\n"
                  f"{ticket.description}")
    elif kind == "assigned":
        _send(ticket, [ticket.assignee], f"Assigned to you: {ticket.subject}", ticket.description)
    elif kind == "reply":
        comment = Comment.objects.select_related("author").filter(pk=kw.get("comment_id")).first()
        if comment is None or comment.internal:
            return
        author = comment.author
        if author is not None and author.has_perm("helpdesk.work_tickets"):
            to = [ticket.requester, *watchers]
        else:
            to = [ticket.assignee, *watchers]
        to = [u for u in to if u is not None and (author is None or u.pk != author.pk)]
        _send(ticket, to, f"Re: {ticket.subject}", f"{author or 'The help desk'} wrote:\n\n{comment.body}", comment)
    elif kind == "status":
        to_state = kw.get("to_state", "")
        label = dict(Ticket.Status.choices).get(to_state, to_state)
        body = f"Your ticket is now: {label}."
        if to_state == Ticket.Status.RESOLVED:
            links = "\n".join(f"  {score} {'★' * score}: {rating_url(ticket, score)}" for score in range(1, 6))
            body += f"\n\nHow did we do? One click rates the answer:\n{links}"
        _send(ticket, [ticket.requester, *watchers], f"{label}: {ticket.subject}", body)
    elif kind == "sla":
        breach = kw.get("sla_kind") == TicketEvent.Kind.SLA_BREACH
        to = [ticket.assignee] + ([ticket.queue.team_lead] if breach else [])
        if not ticket.assignee and ticket.queue.team_lead:
            to.append(ticket.queue.team_lead)
        due = ticket.resolution_due or ticket.first_response_due
        _send(ticket, [u for u in to if u], ("SLA breached" if breach else "SLA due soon") + f": {ticket.subject}",
              f"Priority {ticket.get_priority_display()}, due {due:%Y-%m-%d %H:%M} UTC." if due else "SLA status changed.")
