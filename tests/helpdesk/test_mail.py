"""E-mail: notifications carry the reference and a Message-ID; replies thread by the reference
or by In-Reply-To / References; the same message twice adds one comment; malformed mail and
forbidden or oversized attachments are refused with the reason and nothing stored; unknown
senders and replies to closed tickets are handled as the settings say; the webhook is signed."""

from __future__ import annotations

import hashlib
import hmac
import mailbox
import time
from email.message import EmailMessage

import pytest
from django.core import mail
from django.core.management import call_command
from django.urls import reverse

from helpdesk.models import Comment, MailMessage, Ticket, TicketLink
from helpdesk.services import InboundMail, mail_receive, ticket_comment, ticket_file, ticket_transition

pytestmark = pytest.mark.django_db


@pytest.fixture
def ticket(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        t = ticket_file(by=world.rep, category="payment_status", subject="Paid?", description="x",
                        invoice_id=world.invoice.pk)
    with django_capture_on_commit_callbacks(execute=True):
        ticket_comment(ticket_id=t.pk, by=world.agent, body="Which payment?")
    return t


def reply(ticket, **kw) -> InboundMail:
    values = {"message_id": "<r1@mail.kunde.example>", "sender": "Sam <sam@otc.example>",
              "subject": f"Re: [{ticket.reference}] Paid?", "body": "The one from March 20.\n\nOn Mon, X wrote:\n> Which?"}
    values.update(kw)
    return InboundMail(**values)


def test_notifications_record_their_message_ids(world, ticket):
    out = MailMessage.objects.filter(ticket=ticket, direction="out")
    assert out.count() >= 1
    sent = mail.outbox[-1]
    assert sent.to == ["sam@otc.example"] and f"[{ticket.reference}]" in sent.subject
    assert sent.extra_headers["Message-ID"].strip("<>") in set(out.values_list("message_id", flat=True))


def test_a_reply_threads_by_reference_once_and_quotes_are_stripped(world, ticket):
    first = mail_receive(mail=reply(ticket))
    again = mail_receive(mail=reply(ticket))
    assert (first.status, first.ticket, again.duplicate) == ("threaded", ticket.reference, True)
    comments = Comment.objects.filter(ticket=ticket, source="email")
    assert [c.body for c in comments] == ["The one from March 20."]


def test_a_reply_threads_by_in_reply_to_without_a_reference_in_the_subject(world, ticket):
    sent_id = MailMessage.objects.filter(ticket=ticket, direction="out").first().message_id
    outcome = mail_receive(mail=reply(ticket, subject="Re: your question", message_id="<r2@x>",
                                      in_reply_to=f"<{sent_id}>"))
    assert (outcome.status, outcome.ticket) == ("threaded", ticket.reference)
    outcome = mail_receive(mail=reply(ticket, subject="Fwd", message_id="<r3@x>", references=f"<a@b> <{sent_id}>"))
    assert outcome.ticket == ticket.reference


def test_malformed_mail_and_bad_attachments_are_refused_with_a_reason_and_nothing_stored(world, ticket, settings,
                                                                                          django_capture_on_commit_callbacks):
    from helpdesk.services import AttachmentIn

    before = Comment.objects.count()
    assert "no Message-ID" in mail_receive(mail=reply(ticket, message_id="")).reason
    assert "no valid sender" in mail_receive(mail=reply(ticket, message_id="<m2@x>", sender="nobody")).reason
    with django_capture_on_commit_callbacks(execute=True):
        exe = mail_receive(mail=reply(ticket, message_id="<m3@x>",
                                      attachments=[AttachmentIn("invoice.exe", b"MZ", "application/x-msdownload")]))
    assert exe.status == "refused" and "not accepted" in exe.reason
    assert mail.outbox[-1].to == ["sam@otc.example"] and "not accepted" in mail.outbox[-1].body  # told why
    settings.HELPDESK_ATTACHMENT_MAX_BYTES = 10
    big = mail_receive(mail=reply(ticket, message_id="<m4@x>",
                                  attachments=[AttachmentIn("scan.pdf", b"x" * 11, "application/pdf")]))
    assert big.status == "refused" and "limit" in big.reason
    assert Comment.objects.count() == before and ticket.attachments.count() == 0
    refused = MailMessage.objects.get(message_id="m3@x")
    assert (refused.status, refused.body) == ("refused", "")  # who and why, not the content


def test_unknown_senders_are_held_or_refused_as_configured(world, ticket, settings):
    held = mail_receive(mail=reply(ticket, sender="stranger@elsewhere.example"))
    assert held.status == "held" and MailMessage.objects.get(message_id="r1@mail.kunde.example").body
    settings.HELPDESK_UNKNOWN_SENDER = "refuse"
    refused = mail_receive(mail=reply(ticket, sender="stranger@elsewhere.example", message_id="<r9@x>"))
    assert refused.status == "refused" and "not a user" in refused.reason
    other = mail_receive(mail=reply(ticket, sender="sofia@otc.example", message_id="<r10@x>"))
    assert other.status == "refused" and "may not see" in other.reason
    assert not Comment.objects.filter(source="email").exists()


def test_replies_to_closed_tickets_open_a_follow_up_or_are_refused(world, ticket, settings):
    ticket_transition(ticket_id=ticket.pk, by=world.agent, to="closed")
    outcome = mail_receive(mail=reply(ticket))
    follow = Ticket.objects.get(reference=outcome.ticket)
    assert outcome.status == "new_ticket" and follow.pk != ticket.pk
    assert TicketLink.objects.filter(from_ticket=follow, to_ticket=ticket, kind="follow_up").exists()
    settings.HELPDESK_CLOSED_REPLY = "refuse"
    refused = mail_receive(mail=reply(ticket, message_id="<late@x>"))
    assert refused.status == "refused" and "closed" in refused.reason


def test_a_reply_reopens_a_resolved_ticket(world, ticket):
    ticket_transition(ticket_id=ticket.pk, by=world.agent, to="resolved")
    assert mail_receive(mail=reply(ticket)).status == "threaded"
    ticket.refresh_from_db()
    assert ticket.status == "open"


def _signed(key="test-signing-key", **fields):
    timestamp, token = str(int(time.time())), "tok123"
    signature = hmac.new(key.encode(), f"{timestamp}{token}".encode(), hashlib.sha256).hexdigest()
    return {"timestamp": timestamp, "token": token, "signature": signature, **fields}


def test_the_inbound_webhook_is_signed_and_idempotent(client, world, ticket):
    from django.core.files.uploadedfile import SimpleUploadedFile

    url = reverse("helpdesk:inbound_mail")
    fields = {"sender": "sam@otc.example", "subject": f"Re: [{ticket.reference}]", "body-plain": "Thanks",
              "Message-Id": "<hook1@x>"}
    assert client.post(url, {**_signed(key="wrong"), **fields}).status_code == 403
    assert client.post(url, {**_signed(), **fields, "timestamp": "1"}).status_code == 403  # stale
    assert not Comment.objects.filter(source="email").exists()
    ok = client.post(url, {**_signed(), **fields, "attachment-1": SimpleUploadedFile("r.pdf", b"%PDF", "application/pdf")})
    assert ok.status_code == 200 and ok.json()["status"] == "threaded"
    assert client.post(url, {**_signed(), **fields}).json()["duplicate"] is True
    assert Comment.objects.filter(source="email").count() == 1 and ticket.attachments.count() == 1
    bad = client.post(url, {**_signed(), **fields, "Message-Id": "<hook2@x>",
                            "attachment-1": SimpleUploadedFile("x.exe", b"MZ", "application/x-msdownload")})
    assert bad.status_code == 406 and "not accepted" in bad.json()["reason"]


def test_the_mbox_command_reads_a_mailbox_twice_safely(world, ticket, tmp_path):
    box = mailbox.mbox(str(tmp_path / "in.mbox"))
    for number, sender in ((1, "sam@otc.example"), (2, "stranger@elsewhere.example")):
        msg = EmailMessage()
        msg["From"], msg["Subject"] = sender, f"Re: [{ticket.reference}] Paid?"
        msg["Message-ID"] = f"<mbox{number}@x>"
        msg.set_content("Payment reference 4711")
        if number == 1:
            msg.add_attachment(b"%PDF-1.4", maintype="application", subtype="pdf", filename="remit.pdf")
        box.add(msg)
    box.flush()
    call_command("helpdesk_read_mbox", str(tmp_path / "in.mbox"))
    call_command("helpdesk_read_mbox", str(tmp_path / "in.mbox"))
    assert list(Comment.objects.filter(source="email").values_list("body", flat=True)) == ["Payment reference 4711"]
    assert ticket.attachments.get().file_name == "remit.pdf"
    assert MailMessage.objects.get(message_id="mbox2@x").status == "held"


def test_the_resolution_mail_rates_in_one_click(client, world, ticket, django_capture_on_commit_callbacks):
    import re

    with django_capture_on_commit_callbacks(execute=True):
        ticket_transition(ticket_id=ticket.pk, by=world.agent, to="resolved")
    resolved = mail.outbox[-1]
    assert resolved.to == ["sam@otc.example"] and "Resolved" in resolved.subject
    links = re.findall(r"http\S+/helpdesk/rate/(\S+)/", resolved.body)
    assert len(links) == 5
    response = client.get(reverse("helpdesk:rate", args=[links[3]]))  # the fourth: 4 of 5
    assert response.status_code == 200 and Ticket.objects.get(pk=ticket.pk).satisfaction == 4
    assert client.get(reverse("helpdesk:rate", args=[links[3][:-2] + "xx"])).status_code == 404
