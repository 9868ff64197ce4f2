"""The demo's console e-mail backend: one line per message instead of the whole MIME text.

Django's console backend prints every message in full, base64 PDF attachments included (an
invoice run prints tens of thousands of lines). In the embedded demo a person wants to see that
an e-mail went out, to whom, about what and with which attachments; this prints exactly that:

    [email] to ap@acme.example | Invoice US01-2026-000123 from otc Inc. | US01-2026-000123.pdf (48.1 KB), US01-2026-000123.xml (9.3 KB)
"""

from __future__ import annotations

import sys
import threading
from email.mime.base import MIMEBase

from django.core.mail.backends.base import BaseEmailBackend


def _size(size: int) -> str:
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / (1024 * 1024):.1f} MB"


def summary_line(message) -> str:
    """One line: recipients, subject and attachments with their sizes."""
    recipients = ", ".join(message.recipients()) or "(no recipient)"
    attachments = []
    for attachment in message.attachments:
        if isinstance(attachment, MIMEBase):
            name = attachment.get_filename() or "attachment"
            payload = attachment.get_payload(decode=True) or b""
        else:
            name, content = attachment[0], attachment[1]
            payload = content.encode() if isinstance(content, str) else (content or b"")
        attachments.append(f"{name} ({_size(len(payload))})")
    line = f"[email] to {recipients} | {message.subject}"
    if attachments:
        line += " | " + ", ".join(attachments)
    return line


class SummaryEmailBackend(BaseEmailBackend):
    """Writes one summary line per message to stdout (or `stream`)."""

    def __init__(self, *args, stream=None, **kwargs):
        self.stream = stream or sys.stdout
        self._lock = threading.RLock()
        super().__init__(*args, **kwargs)

    def send_messages(self, email_messages):
        if not email_messages:
            return 0
        sent = 0
        with self._lock:
            for message in email_messages:
                self.stream.write(summary_line(message) + "\n")
                sent += 1
            self.stream.flush()
        return sent
