"""Feed a mailbox file (mbox) to the help desk's inbound mail handling, message by message:
for tests and small installs without a mail provider's webhook. Safe to run again on the same
file: a Message-ID already handled adds nothing."""

from __future__ import annotations

import email.policy
import mailbox
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from helpdesk.parsing import inbound_from_message
from helpdesk.services import mail_receive


class Command(BaseCommand):
    help = "Read inbound help-desk mail from an mbox file."

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path)

    def handle(self, *args, path: Path, **options):
        if not path.exists():
            raise CommandError(f"{path} does not exist.")
        box = mailbox.mbox(str(path), factory=lambda f: email.message_from_binary_file(f, policy=email.policy.default))
        counts: dict[str, int] = {}
        for message in box:
            outcome = mail_receive(mail=inbound_from_message(message))
            key = "duplicate" if outcome.duplicate else outcome.status
            counts[key] = counts.get(key, 0) + 1
            subject = str(message.get("Subject", ""))[:60]
            self.stdout.write(f"{key:<10} {outcome.ticket or '-':<10} {subject}"
                              + (f"  ({outcome.reason})" if outcome.reason else ""))
        self.stdout.write(self.style.SUCCESS(", ".join(f"{k}: {v}" for k, v in sorted(counts.items())) or "No messages."))
