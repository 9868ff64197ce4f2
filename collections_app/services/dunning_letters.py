"""A sent dunning letter's document and delivery: its PDF rendered once from what the letter
froze at the run (letterhead, sender and bank details of the issuing entity, the addressee, the
items and totals, in the entity's language) and stored with its SHA-256; then e-mailed to the
customer's billing contacts with that PDF attached (checked against the hash first), or left to
print and post. Each delivery attempt is written on the letter (status, recipients, detail) and
the e-mail goes through the project's mail backend (otc.mail in the demo).
"""

from __future__ import annotations

import hashlib
import logging
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string

from collections_app.dunning_texts import letter_words
from collections_app.models import DunningLetter, DunningPolicy
from customers.selectors import billing_emails
from otc import dates
from otc.errors import InvalidTransition, NotFound
from otc.money import format_amount

logger = logging.getLogger("otc.documents")


class LetterIntegrityError(Exception):
    """The stored PDF no longer matches its SHA-256 (or is gone): an incident, never served."""


def letter_context(letter: DunningLetter) -> dict[str, Any]:
    from billing.wording import bank_rows, postal_address

    policy = DunningPolicy.objects.filter(legal_entity_id=letter.legal_entity_id).first()
    comp = letter.totals.get("_compensation") or {}
    fmt = {"rate": f"{(policy.reference_rate if policy else Decimal(0)).normalize():f}",
           "margin": f"{(policy.interest_margin if policy else Decimal(8)).normalize():f}",
           "comp": f"{policy.fixed_compensation.normalize():f} {policy.compensation_currency}" if policy else "EUR 40"}
    items = list(letter.items.order_by("due_date", "id"))
    for item in items:  # amounts as printed, to the currency's minor unit
        cur = item.currency
        item.f_open, item.f_collectible = format_amount(item.open_amount, cur), format_amount(item.collectible, cur)
        not_claimed = item.open_amount - item.collectible
        item.f_not_claimed = format_amount(not_claimed, cur) if not_claimed else ""
        item.f_interest = format_amount(item.interest, cur)
        item.f_fee = format_amount(item.fee, comp.get("currency") or "EUR") if item.fee else ""
    totals = [{"currency": cur, "has_credits": Decimal(row.get("credits", "0")) > 0,
               **{k: (format_amount(Decimal(v), cur) if k != "invoices" else v) for k, v in row.items()}}
              for cur, row in sorted(letter.totals.items()) if not cur.startswith("_")]
    return {
        "letter": letter, "words": letter_words(letter.language, letter.template, **fmt),
        "sender": letter.sender, "sender_address": postal_address(letter.sender),
        "addressee": letter.addressee, "addressee_address": postal_address(letter.addressee),
        "bank_rows": [row for row in bank_rows(letter.sender, letter.sender.get("country", "")) if row[1]],
        "claimed": [i for i in items if i.included], "left_out": [i for i in items if not i.included],
        "totals": totals, "compensation": comp,
        "shows_fees": any(i.interest or i.fee for i in items),
    }


def letter_render_pdf(letter: DunningLetter) -> bytes:
    from weasyprint import HTML

    return HTML(string=render_to_string("collections_app/dunning/letter_pdf.html", letter_context(letter))).write_pdf()


@transaction.atomic
def dunning_letter_store_pdf(*, letter_id: int) -> DunningLetter:
    """Render and store a sent letter's PDF and SHA-256 once (idempotent)."""
    letter = DunningLetter.objects.select_for_update().filter(pk=letter_id).first()
    if letter is None:
        raise NotFound(f"Letter {letter_id} does not exist.")
    if letter.pdf_sha256:
        return letter
    if letter.status != DunningLetter.Status.SENT:
        raise InvalidTransition("Only a sent letter has a stored PDF; a draft is previewed, not stored.")
    content = letter_render_pdf(letter)
    letter.pdf.save(f"reminder-{letter.legal_entity_id}-{letter.customer_id}-{letter.letter_date:%Y%m%d}"
                    f"-L{letter.level}.pdf", ContentFile(content), save=False)
    letter.pdf_sha256 = hashlib.sha256(content).hexdigest()
    letter.save(update_fields=["pdf", "pdf_sha256"])
    return letter


def verified_letter_pdf(letter: DunningLetter) -> bytes:
    try:
        with letter.pdf.open("rb") as handle:
            content = handle.read()
    except (OSError, ValueError) as exc:
        logger.error("DOCUMENT INTEGRITY ALERT: dunning letter %s PDF cannot be read (%s)", letter.pk, exc)
        raise LetterIntegrityError(f"The stored PDF of dunning letter {letter.pk} cannot be read.") from exc
    found = hashlib.sha256(content).hexdigest()
    if not letter.pdf_sha256 or found != letter.pdf_sha256:
        logger.error("DOCUMENT INTEGRITY ALERT: dunning letter %s PDF has SHA-256 %s, expected %s",
                     letter.pk, found, letter.pdf_sha256)
        raise LetterIntegrityError(f"The stored PDF of dunning letter {letter.pk} does not match its SHA-256.")
    return content


def dunning_letter_delivery_record(letter: DunningLetter, status: str, detail: str,
                                   recipients: list[str] | None = None) -> DunningLetter:
    """Write how a sent letter went out (sent, posted, skipped, failed), to whom and when."""
    letter.delivery_status, letter.delivery_detail = status, detail[:2000]
    letter.recipients, letter.delivered_at = ", ".join(recipients or []), dates.now()
    letter.save(update_fields=["delivery_status", "delivery_detail", "recipients", "delivered_at"])
    return letter


@transaction.atomic
def dunning_letter_deliver(*, letter_id: int) -> DunningLetter:
    """E-mail (or leave to print and post) a sent letter once; a failed attempt may be retried."""
    letter = DunningLetter.objects.select_for_update().select_related("legal_entity").filter(pk=letter_id).first()
    if letter is None:
        raise NotFound(f"Letter {letter_id} does not exist.")
    if letter.status != DunningLetter.Status.SENT or letter.delivery_status in ("sent", "posted"):
        return letter
    if not letter.pdf_sha256:
        letter = dunning_letter_store_pdf(letter_id=letter_id)
    assert letter.pdf.name is not None  # the column is NOT NULL: a loaded or just-saved file holds a str
    name = f"{letter.pdf.name.rsplit('/', 1)[-1]}"
    if letter.channel == "letter":
        return dunning_letter_delivery_record(letter, "posted", f"Letter to print and post: {name}.")
    recipients = billing_emails(letter.customer_id)
    if not recipients:
        return dunning_letter_delivery_record(letter, "skipped", "The customer has no billing contact with an e-mail address: print and post.")
    try:
        content = verified_letter_pdf(letter)
    except LetterIntegrityError as exc:
        return dunning_letter_delivery_record(letter, "failed", f"Not sent: {exc}", recipients)
    context = letter_context(letter)
    sums = ", ".join(f"{t['to_pay']} {t['currency']}" for t in context["totals"])
    count = len(context["claimed"])
    subject = context["words"]["subject"].format(title=context["words"]["title"], count=count, amount=sums,
                                                 entity=letter.sender.get("legal_name", ""))
    message = EmailMessage(subject=subject,
                           body=render_to_string("collections_app/dunning/letter_email.txt", context),
                           from_email=letter.sender.get("sender_email") or settings.DEFAULT_FROM_EMAIL, to=recipients)
    message.attach(name, content, "application/pdf")
    try:
        message.send(fail_silently=False)
    except Exception as exc:  # noqa: BLE001 - any transport error is written on the letter
        return dunning_letter_delivery_record(letter, "failed", f"{type(exc).__name__}: {exc}", recipients)
    return dunning_letter_delivery_record(letter, "sent", f"Sent with {name} attached.", recipients)


def dunning_letters_publish(*, letter_ids: list[int]) -> int:
    """Store the PDFs and deliver a batch of sent letters (each in its own transaction)."""
    done = 0
    for pk in letter_ids:
        dunning_letter_deliver(letter_id=pk)
        done += 1
    return done
