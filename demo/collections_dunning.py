"""Demo dunning, credit holds and an agency placement (issue 10, second half).

Each entity gets a dunning policy in its language (US01 English, DE01 German with statutory
interest and the EUR 40 compensation shown, GB01 English with a preview before sending) and a
credit-hold policy. The collector's month: three runs two weeks apart, the last dated just after
the latest imported bank statement (a run refuses to send past that), so reminders go out at each
level; GB01's last run waits in preview. The oldest overdue DE01 invoice is placed with a
collection agency, which recovered part of it (net of its 20% fee). The daily credit-hold check
then puts the customers past their entity's limits on hold.

Letters' e-mails are recorded in each letter's delivery log as sent to the customer's billing
contacts without building the messages, and each PDF is rendered and stored (with its SHA-256) on
its first download, as the billing demo does for invoices: WeasyPrint is most of a seed's time.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db.models import Max

from billing.models import Invoice
from collections_app.models import CreditHold, DunningLetter, DunningPolicy
from collections_app.selectors import dunning as dunning_selectors
from collections_app.services import agency as agency_services
from collections_app.services import credit_holds as hold_services
from collections_app.services import dunning as dunning_services
from collections_app.services.dunning_letters import dunning_letter_delivery_record
from customers.selectors import billing_emails
from ledger.models import Account, LegalEntity
from otc.models import User
from receivables.models import BankAccount, Receipt

LEVELS = {
    "US01": [
        {"number": 1, "days_after_due": 5, "template": "friendly", "channel": "email"},
        {"number": 2, "days_after_due": 20, "template": "firm", "channel": "email"},
        {"number": 3, "days_after_due": 45, "template": "final", "channel": "letter", "escalate": True},
    ],
    "DE01": [
        {"number": 1, "days_after_due": 7, "template": "friendly", "channel": "email"},
        {"number": 2, "days_after_due": 21, "template": "firm", "channel": "email", "charge_interest": True},
        {"number": 3, "days_after_due": 42, "template": "final", "channel": "letter", "escalate": True,
         "charge_fee": True, "charge_interest": True},
    ],
    "GB01": [
        {"number": 1, "days_after_due": 7, "template": "friendly", "channel": "email"},
        {"number": 2, "days_after_due": 30, "template": "firm", "channel": "email"},
        {"number": 3, "days_after_due": 60, "template": "final", "channel": "letter", "escalate": True},
    ],
}
POLICY = {
    "US01": {"language": "en", "sender_name": "Accounts Receivable", "statement_max_age_days": 5},
    "DE01": {"language": "de", "sender_name": "Forderungsmanagement", "statement_max_age_days": 5,
             "reference_rate": Decimal("2.27"), "interest_margin": Decimal("8"), "fixed_compensation": Decimal("40")},
    "GB01": {"language": "en", "sender_name": "Credit Control", "statement_max_age_days": 5,
             "preview_required": True},
}
HOLDS = {"US01": (90, Decimal("60000")), "DE01": (75, Decimal("50000")), "GB01": (90, Decimal("40000"))}


def _record_emails(letter_ids: list[int]) -> None:
    """The letters' e-mails as the delivery would log them, without building the messages."""
    for letter in DunningLetter.objects.filter(pk__in=letter_ids):
        recipients = billing_emails(letter.customer_id)
        if letter.channel == "letter":
            dunning_letter_delivery_record(letter, "posted", "Letter to print and post (PDF stored on first download).")
        elif recipients:
            dunning_letter_delivery_record(letter, "sent", "Sent with the reminder PDF attached.", recipients)
        else:
            dunning_letter_delivery_record(letter, "skipped", "No billing contact with an e-mail address: print and post.")


def _place_with_agency(entity: LegalEntity, users: dict[str, User], today: dt.date) -> dict:
    fees, _ = Account.objects.get_or_create(legal_entity=entity, code="6200", defaults={
        "name": "Collection agency fees", "type": Account.Type.EXPENSE})
    agency = agency_services.agency_save(
        legal_entity_id=entity.pk, name="Inkasso Nord GmbH", fee_percent=Decimal("20"), fee_account_id=fees.pk,
        by=users["collector"], contact_name="Frau Berger", email="fall@inkasso-nord.example", phone="+49 40 5550 2020")
    agency_services.agency_save(legal_entity_id=entity.pk, name="Kanzlei Recht & Partner", kind="legal",
                                fee_percent=Decimal("12.5"), fee_account_id=fees.pk, by=users["collector"],
                                contact_name="Dr. Wolf", email="forderung@recht-partner.example")
    waiting = Receipt.objects.filter(status__in=("unapplied", "partially_applied"), customer__isnull=False) \
        .values_list("customer_id", flat=True)
    invoice = (Invoice.objects.filter(legal_entity=entity, status=Invoice.Status.ISSUED, open_item__open_amount__gt=0,
                                      due_date__lt=today - dt.timedelta(days=30))
               .exclude(customer_id__in=waiting).exclude(credit_notes__isnull=False)  # credited stories stay unpaid
               .order_by("due_date", "id").first())
    if invoice is None:
        return {"placements": 0, "recovered": Decimal(0)}
    others = list(Invoice.objects.filter(customer=invoice.customer, legal_entity=entity, currency=invoice.currency,
                                         status=Invoice.Status.ISSUED, due_date__lt=today,
                                         open_item__open_amount__gt=0).values_list("pk", flat=True))
    placement = agency_services.placement_create(
        agency_id=agency.pk, customer_id=invoice.customer_id, invoice_ids=others, by=users["collector"],
        placed_on=today - dt.timedelta(days=20), note="Three reminders unanswered; phone number disconnected.")
    agency_services.placement_transition(placement_id=placement.pk, to="negotiating", by=users["collector"],
                                         note="Agency reached the managing director")
    recovered = (min(invoice.balance_due, invoice.open_item.open_amount) / 2).quantize(Decimal("0.01"))
    agency_services.recovery_record(placement_id=placement.pk, invoice_id=invoice.pk, amount=recovered,
                                    by=users["collector"], received_on=today - dt.timedelta(days=3))
    return {"placements": 1, "recovered": recovered}


def _run(entity: LegalEntity, on: dt.date, by: User, queued: list) -> Any:
    """A run and its chunk tasks, taken in-process here (the start enqueues them after its commit;
    inside a test's transaction nothing commits, so the chunks are found again)."""
    queued.clear()
    run = dunning_services.dunning_run_start(legal_entity_id=entity.pk, by=by, run_date=on)
    chunks = [ids for _run_id, batch in queued for ids in batch]
    if not chunks and run.status == run.Status.RUNNING:
        policy = DunningPolicy.objects.get(legal_entity=entity)
        first = min(level.days_after_due for level in policy.levels.all())
        chunks = [dunning_selectors.due_customer_ids(legal_entity_id=entity.pk, as_of=on, first_days=first)]
    for ids in chunks:
        dunning_services.dunning_run_chunk(run_id=run.pk, customer_ids=ids)
    run.refresh_from_db()
    return run


def seed_collections_dunning(*, users: dict[str, User], today: dt.date) -> dict:
    entities = {e.code: e for e in LegalEntity.objects.filter(code__in=LEVELS)}
    for code, entity in entities.items():
        dunning_services.dunning_policy_save(legal_entity_id=entity.pk, by=users["controller"], data=POLICY[code],
                                             levels=LEVELS[code])
        days, amount = HOLDS[code]
        hold_services.credit_hold_policy_save(legal_entity_id=entity.pk, by=users["controller"], overdue_days=days,
                                              overdue_amount=amount)
    placed = _place_with_agency(entities["DE01"], users, today) if "DE01" in entities else {"placements": 0}
    saved = dunning_services.dunning_letters_queue, dunning_services.dunning_chunks_queue
    queued: list[tuple[int, list[list[int]]]] = []
    dunning_services.dunning_letters_queue = lambda ids: None  # the e-mails are recorded below, once per sent letter
    dunning_services.dunning_chunks_queue = lambda run_id, chunks, background=False: queued.append((run_id, chunks))
    runs = []
    try:
        for entity in entities.values():
            last = (BankAccount.objects.filter(legal_entity=entity, is_active=True)
                    .annotate(last=Max("statements__statement_date")).values_list("last", flat=True))
            lasts = [d for d in last if d]
            if not lasts:
                continue
            final = min(today, min(lasts) + dt.timedelta(days=1))
            for back in (28, 14, 0):
                run = _run(entity, final - dt.timedelta(days=back), users["collector"], queued)
                if run.status == run.Status.PREVIEW and back:  # earlier previews were sent by the collector
                    dunning_services.dunning_run_send(run_id=run.pk, by=users["collector"])
                _record_emails(list(run.letters.filter(status="sent").values_list("pk", flat=True)))
                runs.append(run.pk)
    finally:
        dunning_services.dunning_letters_queue, dunning_services.dunning_chunks_queue = saved
    holds = hold_services.credit_holds_daily(as_of=today)
    if not CreditHold.objects.filter(status="active").exists() and "DE01" in entities:
        manager = users["manager"]
        worst = (Invoice.objects.filter(legal_entity=entities["DE01"], status=Invoice.Status.ISSUED)
                 .order_by("due_date").values_list("customer_id", flat=True).first())
        if worst:
            hold_services.credit_hold_place(legal_entity_id=entities["DE01"].pk, customer_id=worst, by=manager,
                                            reason="Payment behaviour worsening; limit review pending")
    levels = set(DunningLetter.objects.filter(status="sent").values_list("level", flat=True).distinct())
    return {"runs": len(runs), "levels_sent": sorted(levels), "letters": DunningLetter.objects.count(),
            "holds": CreditHold.objects.filter(status="active").count(), "holds_placed": holds["placed"], **placed,
            "policies": DunningPolicy.objects.count()}
