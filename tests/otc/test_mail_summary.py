"""The demo's console e-mail backend prints one line per message (issue 16)."""

from __future__ import annotations

import io

from django.core.mail import EmailMessage

from otc.mail import SummaryEmailBackend


def test_one_line_per_message_with_recipients_subject_and_attachment_sizes():
    stream = io.StringIO()
    first = EmailMessage(subject="Invoice US-INV-2026-000001 from otc Inc.", body="x" * 5000,
                         to=["ap@acme.example", "cfo@acme.example"])
    first.attach("US-INV-2026-000001.pdf", b"%PDF" + b"0" * 49_996, "application/pdf")
    second = EmailMessage(subject="Contract C-1 approved", body="Approved.", to=["sales1@otc.example"])
    assert SummaryEmailBackend(stream=stream).send_messages([first, second]) == 2
    assert stream.getvalue().splitlines() == [
        "[email] to ap@acme.example, cfo@acme.example | Invoice US-INV-2026-000001 from otc Inc. | "
        "US-INV-2026-000001.pdf (48.8 KB)",
        "[email] to sales1@otc.example | Contract C-1 approved",
    ]
