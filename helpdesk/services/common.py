"""What every ticket service shares: the row lock, the visibility and agent checks, the event
row, and attachments (checked, then stored)."""

from __future__ import annotations

import datetime as dt
import hashlib
import mimetypes
from dataclasses import dataclass

from django.core.files.base import ContentFile

from otc import dates
from otc.errors import NotFound, PermissionDenied, ValidationFailed
from otc.models import User

from .. import conf
from ..models import (
    Attachment,
    Comment,
    Ticket,
    TicketEvent,
)
from ..selectors import can_see_ticket, is_agent


@dataclass(frozen=True)
class AttachmentIn:
    file_name: str
    content: bytes
    content_type: str = ""


def lock_ticket(ticket_id: int) -> Ticket:
    ticket = Ticket.objects.select_for_update(of=("self",)).filter(pk=ticket_id).first()
    if ticket is None:
        raise NotFound("No such ticket.")
    return ticket


def ensure_visible(ticket: Ticket, by: User) -> None:
    if not can_see_ticket(by, ticket):
        raise NotFound("No such ticket.")


def require_agent(by: User, what: str) -> None:
    if not is_agent(by):
        raise PermissionDenied(f"Only help-desk agents may {what}.")


def event(ticket: Ticket, kind: str, *, by: User | None, from_value: str = "", to_value: str = "", note: str = "",
          at: dt.datetime | None = None) -> TicketEvent:
    return TicketEvent.objects.create(ticket=ticket, kind=kind, by=by, from_value=from_value or "",
                                      to_value=to_value or "", note=note, at=at or dates.now())


def check_attachment(item: AttachmentIn) -> None:
    """Refuse a forbidden type or an oversized file with the reason (nothing is stored)."""
    name = (item.file_name or "").strip()
    if not name:
        raise ValidationFailed("An attachment has no file name.", fields={"attachments": ["name"]})
    extension = ("." + name.rsplit(".", 1)[-1].lower()) if "." in name else ""
    kind = (item.content_type or mimetypes.guess_type(name)[0] or "application/octet-stream").split(";")[0].lower()
    if extension not in conf.get("HELPDESK_ATTACHMENT_EXTENSIONS") or kind not in conf.get("HELPDESK_ATTACHMENT_TYPES"):
        raise ValidationFailed(f"Attachment {name}: files of type {kind} ({extension or 'no extension'}) are not "
                               "accepted.", fields={"attachments": ["type"]})
    limit = conf.get("HELPDESK_ATTACHMENT_MAX_BYTES")
    if len(item.content) > limit:
        raise ValidationFailed(f"Attachment {name} is {len(item.content) / 1048576:.1f} MB; the limit is "
                               f"{limit / 1048576:.0f} MB.", fields={"attachments": ["size"]})


def store_attachments(ticket: Ticket, comment: Comment | None, items: list[AttachmentIn], by: User | None) -> list[Attachment]:
    for item in items:
        check_attachment(item)
    stored = []
    for item in items:
        kind = (item.content_type or mimetypes.guess_type(item.file_name)[0] or "").split(";")[0].lower()
        row = Attachment(ticket=ticket, comment=comment, file_name=item.file_name[:200], content_type=kind,
                         size=len(item.content), sha256=hashlib.sha256(item.content).hexdigest(), uploaded_by=by)
        row.file.save(item.file_name, ContentFile(item.content), save=False)
        row.save()
        stored.append(row)
    return stored
