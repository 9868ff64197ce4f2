"""RFC 5322 messages (a mailbox file, a raw MIME post) to InboundMail."""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage

from .services import AttachmentIn, InboundMail


def inbound_from_message(message: EmailMessage) -> InboundMail:
    body = ""
    attachments: list[AttachmentIn] = []
    for part in message.walk() if message.is_multipart() else [message]:
        if part.is_multipart():
            continue
        filename = part.get_filename()
        disposition = (part.get_content_disposition() or "").lower()
        if filename or disposition == "attachment":
            payload = part.get_payload(decode=True) or b""
            attachments.append(AttachmentIn(filename or "attachment", payload, part.get_content_type()))
        elif part.get_content_type() == "text/plain" and not body:
            try:
                body = part.get_content()
            except (LookupError, UnicodeDecodeError):
                body = (part.get_payload(decode=True) or b"").decode("utf-8", "replace")
    return InboundMail(
        message_id=str(message.get("Message-ID", "") or ""), sender=str(message.get("From", "") or ""),
        subject=str(message.get("Subject", "") or ""), body=body,
        in_reply_to=str(message.get("In-Reply-To", "") or ""), references=str(message.get("References", "") or ""),
        attachments=attachments,
    )


def inbound_from_bytes(raw: bytes) -> InboundMail:
    return inbound_from_message(email.message_from_bytes(raw, policy=email.policy.default))
