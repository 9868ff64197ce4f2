"""The dunning run: one letter per customer at its highest due level, only the collectible
amount dunned, every left-out invoice with its reason, refusals, idempotency, preview, letters."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from collections_app.models import DunningLetter, DunningLetterItem, DunningRun, DunningSkip
from collections_app.services.dunning import (
    dunning_daily,
    dunning_exclusion_set,
    dunning_letter_cancel,
    dunning_policy_save,
    dunning_run_send,
    dunning_run_start,
)
from ledger.services import LineSpec, OpenItemSpec, journal_post
from otc.errors import InvalidTransition, PermissionDenied, ValidationFailed
from tests.factories.collections import DisputeFactory, PromiseItemFactory
from tests.factories.collections_dunning import (
    LEVELS,
    bank_statement,
    customer,
    eu_entity,
    invoice,
    policy_for,
)
from tests.factories.otc import user_with_role

pytestmark = pytest.mark.django_db
D = Decimal
RUN_DAY = dt.date(2026, 5, 20)


@pytest.fixture
def published(monkeypatch):
    """Letters handed to the documents queue (PDFs and e-mails are tested on their own below)."""
    sent: list[int] = []
    monkeypatch.setattr("collections_app.services.dunning.dunning_letters_queue", lambda ids: sent.extend(ids))
    return sent


def run(entity, capture, *, on=RUN_DAY, by=None) -> DunningRun:
    with capture(execute=True):
        made = dunning_run_start(legal_entity_id=entity.pk, by=by, run_date=on)
    made.refresh_from_db()
    return made


@pytest.fixture
def book():
    entity = eu_entity()
    policy_for(entity)
    bank_statement(entity, RUN_DAY - dt.timedelta(days=1))
    return entity


def test_one_letter_per_customer_at_its_highest_level_listing_every_overdue_invoice(
        book, published, django_capture_on_commit_callbacks):
    # given a customer with one invoice 50 days overdue (level 3) and one 20 days overdue (level 1)
    cust = customer()
    old = invoice(book, cust, "1000.00", issue=dt.date(2026, 3, 1))    # due 2026-03-31: 50 days
    recent = invoice(book, cust, "500.00")                             # due 2026-04-30: 20 days
    # when the run goes
    result = run(book, django_capture_on_commit_callbacks)
    # then one letter at level 3 lists both invoices, each at its own level
    letter = DunningLetter.objects.get()
    assert (result.status, result.letters_created, result.letters_sent) == ("done", 1, 1)
    assert (letter.customer_id, letter.level, letter.status, letter.channel, letter.template) == (
        cust.pk, 3, "sent", "letter", "final")
    items = {i.invoice_id: i for i in letter.items.all()}
    assert {pk: (i.level, i.days_overdue, i.collectible, i.included) for pk, i in items.items()} == {
        old.pk: (3, 50, D("1190.00"), True), recent.pk: (1, 20, D("595.00"), True)}
    # interest (reference 2.5% + 8 points, 50 days on 1,190.00 = 17.12) and EUR 40 are shown on
    # the level-3 invoice only; nothing was posted for them
    assert (items[old.pk].interest, items[old.pk].fee) == (D("17.12"), D("40"))
    assert (items[recent.pk].interest, items[recent.pk].fee) == (D("0"), D("0"))
    assert letter.totals["EUR"]["to_pay"] == "1785.0000"
    assert letter.totals["_compensation"] == {"currency": "EUR", "amount": "40.0000"}
    assert published == [letter.pk]


def test_a_disputed_invoice_is_not_dunned_and_the_letter_says_why(book, published, django_capture_on_commit_callbacks):
    cust = customer()
    disputed = invoice(book, cust, "1000.00", issue=dt.date(2026, 3, 1))
    partly = invoice(book, cust, "500.00", issue=dt.date(2026, 3, 1))
    DisputeFactory(invoice=disputed, amount=D("1190.00"))
    DisputeFactory(invoice=partly, amount=D("95.00"), status="in_progress")
    only_disputed = customer("Streit AG")
    DisputeFactory(invoice=invoice(book, only_disputed, "100.00", issue=dt.date(2026, 3, 1)), amount=D("119.00"))

    run(book, django_capture_on_commit_callbacks)

    letter = DunningLetter.objects.get()  # nobody reminds the customer whose only invoice is disputed
    assert letter.customer_id == cust.pk
    items = {i.invoice_id: i for i in letter.items.all()}
    assert (items[disputed.pk].included, items[disputed.pk].excluded_reason, items[disputed.pk].collectible) == (
        False, "disputed", D("0"))
    assert (items[partly.pk].included, items[partly.pk].disputed, items[partly.pk].collectible) == (
        True, D("95.00"), D("500.00"))
    assert letter.totals["EUR"]["to_pay"] == "500.0000"


def test_promised_invoices_are_left_out_while_the_promise_is_valid(book, published, django_capture_on_commit_callbacks):
    cust = customer()
    promised = invoice(book, cust, "1000.00", issue=dt.date(2026, 3, 1))
    other = invoice(book, cust, "200.00", issue=dt.date(2026, 3, 1))
    PromiseItemFactory(invoice=promised, amount=D("1190.00"), promise__customer=cust, promise__legal_entity=book,
                       promise__promised_date=RUN_DAY + dt.timedelta(days=5))
    run(book, django_capture_on_commit_callbacks)
    items = {i.invoice_id: i for i in DunningLetterItem.objects.all()}
    assert (items[promised.pk].included, items[promised.pk].excluded_reason) == (False, "under a promise to pay")
    assert (items[other.pk].included, items[other.pk].collectible) == (True, D("238.00"))


def test_unapplied_cash_is_shown_and_taken_off_and_a_covered_customer_is_not_reminded(
        book, published, django_capture_on_commit_callbacks):
    cust, covered = customer(), customer("Gedeckt GmbH")
    invoice(book, cust, "1000.00", issue=dt.date(2026, 3, 1))
    invoice(book, covered, "100.00", issue=dt.date(2026, 3, 1))
    for who, amount in ((cust, D("190.00")), (covered, D("500.00"))):
        journal_post(legal_entity_id=book.pk, kind="receipt", document_date=dt.date(2026, 5, 1), by=None, lines=[
            LineSpec(amount=amount, role="cash"),
            LineSpec(amount=-amount, role="unapplied_cash", customer_id=who.pk,
                     open_item=OpenItemSpec("receipt", f"RC-{who.pk}", dt.date(2026, 5, 1), None))])

    result = run(book, django_capture_on_commit_callbacks)

    letter = DunningLetter.objects.get()
    assert letter.customer_id == cust.pk
    assert (letter.totals["EUR"]["collectible"], letter.totals["EUR"]["credits"], letter.totals["EUR"]["to_pay"]) == (
        "1190.0000", "190.0000", "1000.0000")
    skip = DunningSkip.objects.get(run=result)
    assert (skip.customer_id, skip.code) == (covered.pk, "covered")


def test_rerun_sends_nothing_twice_and_the_next_level_goes_when_it_is_reached(
        book, published, django_capture_on_commit_callbacks):
    cust = customer()
    invoice(book, cust, "1000.00")  # due 2026-04-30
    first = run(book, django_capture_on_commit_callbacks, on=dt.date(2026, 5, 8))        # 8 days: level 1
    again = run(book, django_capture_on_commit_callbacks, on=dt.date(2026, 5, 8))        # same day
    next_day = run(book, django_capture_on_commit_callbacks, on=dt.date(2026, 5, 9))     # still level 1
    later = run(book, django_capture_on_commit_callbacks, on=dt.date(2026, 5, 22))       # 22 days: level 2
    assert [r.letters_created for r in (first, again, next_day, later)] == [1, 0, 0, 1]
    assert list(DunningLetter.objects.order_by("letter_date").values_list("level", flat=True)) == [1, 2]
    assert len(published) == 2
    # and the unique constraint decides if anything tried to write the same letter again
    letter = DunningLetter.objects.get(level=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        DunningLetter.objects.create(run=again, legal_entity=book, customer=cust, level=1, letter_date=letter.letter_date,
                                     status="sent", channel="email", template="friendly", language="de")


def test_daily_job_runs_every_entity_with_a_policy_and_is_idempotent(book, published, django_capture_on_commit_callbacks):
    invoice(book, customer(), "1000.00")
    other = eu_entity("DE02")  # no policy: not run
    invoice(other, customer("Andere GmbH"), "10.00")
    with django_capture_on_commit_callbacks(execute=True):
        first = dunning_daily(run_date=dt.date(2026, 5, 8))
    with django_capture_on_commit_callbacks(execute=True):
        second = dunning_daily(run_date=dt.date(2026, 5, 8))
    assert len(first) == len(second) == 1
    assert DunningLetter.objects.count() == 1


def test_run_refuses_to_send_while_a_bank_statement_is_stale(book, published, django_capture_on_commit_callbacks):
    invoice(book, customer(), "1000.00")
    stale_account = bank_statement(book, dt.date(2026, 5, 1), account=None)
    from receivables.models import BankAccount

    second = BankAccount.objects.create(legal_entity=book, name="USD account", account_number="DE00USD1",
                                        currency="USD", gl_account=stale_account.gl_account)
    bank_statement(book, dt.date(2026, 5, 10), account=second)

    result = run(book, django_capture_on_commit_callbacks)

    assert result.status == "refused"
    assert "USD account: last statement dated 2026-05-10, older than 3 day(s) before 2026-05-20" in result.refusal
    assert DunningLetter.objects.count() == 0 and published == []


def test_a_customer_with_receipts_waiting_unapplied_is_not_reminded(book, published, django_capture_on_commit_callbacks):
    from receivables.models import Receipt

    cust, other = customer(), customer("Andere GmbH")
    invoice(book, cust, "1000.00")
    invoice(book, other, "1000.00")
    account = bank_statement(book, RUN_DAY)
    Receipt.objects.create(legal_entity=book, bank_account=account, number="RC-1", value_date=RUN_DAY,
                           amount=D("1190.00"), currency="EUR", customer=cust, status="unapplied")

    result = run(book, django_capture_on_commit_callbacks)

    assert list(DunningLetter.objects.values_list("customer_id", flat=True)) == [other.pk]
    skip = DunningSkip.objects.get(run=result)
    assert (skip.customer_id, skip.code) == (cust.pk, "unapplied_receipts")
    assert "wait unapplied" in skip.reason


def test_key_accounts_flagged_customers_and_held_invoices_are_left_out(book, published,
                                                                       django_capture_on_commit_callbacks):
    key, flagged, cust = customer("Key AG"), customer("Flag AG"), customer()
    for who in (key, flagged):
        invoice(book, who, "100.00")
    held = invoice(book, cust, "100.00")
    kept = invoice(book, cust, "300.00")
    policy_for(book, levels=LEVELS) .key_accounts.add(key)
    collector = user_with_role("Collector")
    dunning_exclusion_set(customer_id=flagged.pk, by=collector, reason="CFO asked: bankruptcy filing pending")
    dunning_exclusion_set(customer_id=cust.pk, invoice_id=held.pk, by=collector, reason="Waiting for PO")

    result = run(book, django_capture_on_commit_callbacks)

    skips = dict(DunningSkip.objects.filter(run=result).values_list("customer_id", "reason"))
    assert skips == {key.pk: "key account: excluded by the entity's dunning policy",
                     flagged.pk: "excluded from dunning: CFO asked: bankruptcy filing pending"}
    items = {i.invoice_id: i for i in DunningLetterItem.objects.all()}
    assert (items[held.pk].included, items[held.pk].excluded_reason) == (False, "held from dunning: Waiting for PO")
    assert items[kept.pk].included


def test_who_may_run_and_set_policies(book):
    with pytest.raises(PermissionDenied):
        dunning_run_start(legal_entity_id=book.pk, by=user_with_role("Sales Rep"), run_date=RUN_DAY)
    with pytest.raises(PermissionDenied):
        dunning_policy_save(legal_entity_id=book.pk, by=user_with_role("Collector"), data={}, levels=LEVELS)
    assert DunningRun.objects.count() == 0


def test_policy_levels_must_be_numbered_and_rising(book):
    controller = user_with_role("Controller")
    with pytest.raises(ValidationFailed, match="more days after the due date"):
        dunning_policy_save(legal_entity_id=book.pk, by=controller, data={}, levels=[
            {"number": 1, "days_after_due": 10}, {"number": 2, "days_after_due": 10}])
    with pytest.raises(ValidationFailed, match="level 2 is missing"):
        dunning_policy_save(legal_entity_id=book.pk, by=controller, data={}, levels=[
            {"number": 1, "days_after_due": 10}, {"number": 3, "days_after_due": 20}])
    assert book.dunning_policy.levels.count() == 3  # unchanged


def test_preview_then_send_stores_the_pdf_and_emails_it_in_the_entity_language(
        book, django_capture_on_commit_callbacks, mailoutbox):
    policy_for(book, preview_required=True)
    cust = customer()
    dropped = customer("Nicht AG")
    invoice(book, cust, "1000.00")
    invoice(book, dropped, "1000.00")
    collector = user_with_role("Collector")

    previewed = run(book, django_capture_on_commit_callbacks, by=collector)
    assert previewed.status == "preview"
    assert set(DunningLetter.objects.values_list("status", flat=True)) == {"draft"}
    assert mailoutbox == []
    dunning_letter_cancel(letter_id=DunningLetter.objects.get(customer=dropped).pk, by=collector)

    with django_capture_on_commit_callbacks(execute=True):
        dunning_run_send(run_id=previewed.pk, by=collector)

    letter = DunningLetter.objects.get(customer=cust)
    assert (letter.status, letter.delivery_status, letter.recipients) == ("sent", "sent", "ap@kunde.example")
    assert len(letter.pdf_sha256) == 64
    from collections_app.services.dunning_letters import verified_letter_pdf

    assert verified_letter_pdf(letter).startswith(b"%PDF")
    [mail] = mailoutbox
    assert mail.subject.startswith("Zahlungserinnerung: 1 überfällige Rechnung(en), 1.190,00 EUR fällig - otc DE01 GmbH") \
        or mail.subject.startswith("Zahlungserinnerung: 1 überfällige Rechnung(en), 1,190.00 EUR")
    assert "DE89370400440532013000" in mail.body and "Forderungsmanagement" in mail.body
    assert mail.attachments[0][2] == "application/pdf"
    with pytest.raises(InvalidTransition):
        dunning_run_send(run_id=previewed.pk, by=collector)
    with pytest.raises(InvalidTransition):
        dunning_letter_cancel(letter_id=letter.pk, by=collector)


def test_each_letter_carries_its_own_entity_letterhead_and_bank(published, django_capture_on_commit_callbacks):
    de, fr = eu_entity("DE01"), eu_entity("FR01", legal_name="otc France SAS", iban="FR7630006000011234567890189",
                                          country="FR", tax_id="FR40303265045", city="Paris")
    policy_for(de)
    policy_for(fr, language="fr", sender_name="Service recouvrement")
    cust = customer()
    invoice(de, cust, "100.00")
    invoice(fr, cust, "100.00")
    run(de, django_capture_on_commit_callbacks)
    run(fr, django_capture_on_commit_callbacks)
    letters = {letter.legal_entity_id: letter for letter in DunningLetter.objects.all()}
    assert (letters[de.pk].sender["legal_name"], letters[de.pk].sender["iban"], letters[de.pk].language) == (
        "otc DE01 GmbH", "DE89370400440532013000", "de")
    assert (letters[fr.pk].sender["legal_name"], letters[fr.pk].sender["iban"], letters[fr.pk].language) == (
        "otc France SAS", "FR7630006000011234567890189", "fr")
    from collections_app.services.dunning_letters import letter_context

    assert letter_context(letters[fr.pk])["words"]["title"] == "Rappel de paiement"


@pytest.mark.postgres
def test_a_sent_letter_is_immutable_in_the_database(book, published, django_capture_on_commit_callbacks):
    invoice(book, customer(), "1000.00")
    run(book, django_capture_on_commit_callbacks)
    letter = DunningLetter.objects.get()
    with pytest.raises(Exception, match="immutable"), transaction.atomic():
        DunningLetter.objects.filter(pk=letter.pk).update(level=2)
    with pytest.raises(Exception, match="immutable"), transaction.atomic():
        DunningLetterItem.objects.filter(letter=letter).update(collectible=D("1"))
    with pytest.raises(Exception, match="immutable"), transaction.atomic():
        DunningLetterItem.objects.filter(letter=letter).delete()


def test_an_invoice_in_a_write_off_awaiting_approval_is_not_dunned(book, published, django_capture_on_commit_callbacks):
    from collections_app.services.writeoffs import writeoff_request

    cust = customer()
    pending = invoice(book, cust, "1000.00", issue=dt.date(2026, 3, 1))
    chased = invoice(book, cust, "500.00", issue=dt.date(2026, 3, 1))
    writeoff_request(invoice_ids=[pending.pk], reason="bankruptcy", explanation="Insolvency filed",
                     by=user_with_role("Collector"))

    run(book, django_capture_on_commit_callbacks)

    items = {i.invoice_id: i for i in DunningLetter.objects.get().items.all()}
    assert (items[pending.pk].included, items[pending.pk].excluded_reason) == (False, "in a write-off awaiting approval")
    assert items[chased.pk].included
