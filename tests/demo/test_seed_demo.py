import datetime as dt
from collections import defaultdict
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command
from django.db.models import F, Q, Sum

from billing.einvoice import credit_note_to_cxml, credit_note_to_ubl, invoice_to_cxml, invoice_to_ubl
from billing.models import BillingException, BillingRun, CreditNote, Invoice, InvoiceLine, PortalSubmission
from billing.periods import add_months
from contracts.models import Contract, ContractVersion, Finding
from customers.models import Contact, Customer
from demo.users import DEMO_PASSWORD, DEMO_USERS
from ledger.models import Account, JournalEntry, JournalLine, LegalEntity, OpenItem, Period
from ledger.selectors import ar_reconciliation
from otc import dates
from otc.countries import EU_COUNTRIES
from otc.models import User
from otc.roles import HUMAN_ROLES
from receivables.models import BankAccount, BankStatement, Receipt, ReceiptApplication, StatementImport

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


@pytest.mark.parametrize("day", [None, dt.date(2027, 3, 1), dt.date(2026, 12, 31)])
def test_seed_demo_builds_a_consistent_demo_and_is_idempotent(capsys, today, day, einvoice_validator):
    # given an empty database (seeded on any day: the first of a month, a year end), when the
    # demo is seeded twice
    if day:
        today(day)
    call_command("seed_demo", customers=60)
    counts = [m.objects.count() for m in (Invoice, CreditNote, PortalSubmission, BillingRun, JournalEntry)]
    call_command("seed_demo", customers=60)
    assert [m.objects.count() for m in (Invoice, CreditNote, PortalSubmission, BillingRun, JournalEntry)] == counts

    # then every role has a demo user who can log in with the documented password
    for username, *_rest, role in DEMO_USERS:
        user = User.objects.get(username=username)
        assert user.check_password(DEMO_PASSWORD)
        if role:
            assert user.groups.filter(name=role).exists()
    assert set(HUMAN_ROLES) <= set(Group.objects.values_list("name", flat=True))

    # the second run added nothing
    assert Customer.objects.count() == 60

    # the demo CRM client subscribes to webhooks, with the last week's events queued (once)
    from otc.models import WebhookDelivery, WebhookSubscription

    subscription = WebhookSubscription.objects.get(client__name="CRM (demo)")
    assert "invoice.*" in subscription.event_types and subscription.is_active
    assert WebhookDelivery.objects.filter(subscription=subscription, status="pending").exists()
    assert LegalEntity.objects.count() == 3
    assert set(LegalEntity.objects.values_list("functional_currency", flat=True)) == {"USD", "EUR", "GBP"}

    # every customer passes the same validation as the edit form, and has a billing contact
    for customer in Customer.objects.all():
        customer.full_clean()
    assert Contact.objects.filter(is_billing_contact=True).values("customer").distinct().count() == 60
    assert Customer.objects.filter(sales_owner__username="sales1").exists()
    assert Customer.history.filter(history_user__username="billing").count() >= 60

    # the books balance: every entry sums to zero and AR equals the sum of its open items per entity/currency
    # (receipts' unapplied cash is a subledger of its own: ar_reconciliation below checks both)
    assert JournalLine.objects.aggregate(total=Sum("functional_amount"))["total"] == 0
    ar = Account.objects.filter(role="ar")
    for row in OpenItem.objects.filter(account__in=ar).values("legal_entity", "currency").annotate(
            total=Sum("open_amount")):
        ledger = JournalLine.objects.filter(
            account__in=ar, entry__legal_entity=row["legal_entity"], currency=row["currency"]
        ).aggregate(total=Sum("amount"))["total"]
        assert ledger == row["total"]
    assert OpenItem.objects.filter(open_amount__gt=0).count() > 10
    # the months before the three billed ones (M-3..M-1) were closed before anything was posted:
    # documents dated in them went into the first open month, keeping their date
    this_month = dates.today().replace(day=1)
    m3, m2, m1 = (add_months(this_month, -k) for k in (3, 2, 1))
    closed = Period.objects.filter(status="closed")
    early = closed.filter(Q(year__lt=m3.year) | Q(year=m3.year, month__lt=m3.month))
    assert early.exists()
    assert not JournalLine.objects.filter(entry__period__in=early).exists()
    # contracts in every review state, from several sales reps, each with a stored assessment
    statuses = set(ContractVersion.objects.values_list("status", flat=True))
    assert {"draft", "submitted", "changes_requested", "approved", "active", "rejected", "terminated"} <= statuses
    assert Contract.objects.values("sales_owner").distinct().count() == 3
    assert not ContractVersion.objects.filter(assessments__isnull=True).exists()
    assert Finding.objects.exclude(severity="info").exists()
    active = Contract.objects.filter(status="active").select_related("current_version")
    assert active.exists() and all(c.current_version.status == "active" for c in active)

    rolled = [e for e in JournalEntry.objects.select_related("period") if e.document_date < e.period.start]
    assert rolled and all(e.entry_date == e.period.start for e in rolled)

    assert_billing(this_month, m3, m2, m1)
    assert_receivables(this_month, m2)
    if day is None:  # the documents do not depend on the day the demo was seeded: checked once
        assert_einvoices(einvoice_validator)
    assert_helpdesk()
    assert_aging(dates.today())
    assert_writeoffs()
    assert_reserve(dates.today())
    assert_collections(dates.today())
    out = capsys.readouterr().out
    assert "Receivables: statements imported by format" in out and "applied automatically" in out
    assert_collections_dunning()  # i10b


def assert_einvoices(validator) -> None:
    # every document the demo issued, in every entity and buyer country, is an e-invoice a Peppol
    # access point accepts (OASIS XSD, EN 16931, Peppol BIS 3: no fatal rule), and neither it nor
    # its cXML prints a placeholder
    documents = [(i.number, invoice_to_ubl(i), invoice_to_cxml(i)) for i in Invoice.objects.exclude(number="")]
    documents += [(c.number, credit_note_to_ubl(c), credit_note_to_cxml(c))
                  for c in CreditNote.objects.exclude(number="").select_related("invoice")]
    assert len(documents) > 30
    refused = {number: [f"{e['id']}: {e['text'][:120]}" for e in validator.errors(ubl, fatal_only=True)]
               for number, ubl, _ in documents}
    assert {number: rules for number, rules in refused.items() if rules} == {}
    assert [number for number, ubl, cxml in documents if b"placeholder" in (ubl + cxml).lower()] == []
    countries = {i.bill_to["country"] for i in Invoice.objects.exclude(number="")}
    assert {"US", "DE"} <= countries and countries - EU_COUNTRIES - {"US"}  # and other non-EU buyers


def _period(entity: LegalEntity, month: dt.date) -> Period:
    return Period.objects.get(legal_entity=entity, year=month.year, month=month.month)


def assert_billing(this_month: dt.date, m3: dt.date, m2: dt.date, m1: dt.date) -> None:
    billing, today = User.objects.get(username="billing"), dates.today()
    # three month-end runs issued on their first day, and this month's run left as drafts
    runs = BillingRun.objects.order_by("period_start")
    assert [(r.period_start, r.status) for r in runs] == [
        (m3, "issued"), (m2, "issued"), (m1, "issued"), (this_month, "generated")]
    for run in runs[:3]:
        issued = Invoice.objects.filter(billing_run=run).exclude(status="draft")
        assert run.invoices_issued == issued.count() > 0
        assert set(issued.values_list("issue_date", flat=True)) == {run.period_start}
        # posted into the run's own month (open when billed), not rolled forward
        assert not issued.filter(gross_total__gt=0).exclude(
            journal_entry__entry_date=run.period_start, journal_entry__period__month=run.period_start.month).exists()
    assert Invoice.objects.filter(billing_run=runs[3], status="draft").count() == runs[3].invoices_created > 0
    # every record is dated on the business day it happened, not at the seed's clock time (issue 16):
    # runs started on their 1st, voids and portal uploads on their days, history rows likewise
    for run in runs[:3]:
        assert run.started_at.date() == run.finished_at.date() == run.period_start
        assert set(Invoice.objects.filter(billing_run=run).exclude(status="draft")
                   .values_list("issued_at__date", flat=True)) == {run.period_start}
    assert all(v.voided_at.date() < today and v.history.latest().history_date.date() == v.voided_at.date()
               for v in Invoice.objects.filter(status="void"))
    uploads = PortalSubmission.objects.exclude(uploaded_at=None)
    assert uploads.exists() and all(s.created_at.date() <= s.uploaded_at.date() < today for s in uploads)
    # the PDFs of the seeded documents are rendered on their first download, not while seeding; only
    # a voided invoice that reached the customer has its PDF (stamped VOID on the cancelling copy), and
    # the invoices the help desk sent as copies from tickets (the action attaches the PDF)
    from helpdesk.models import Ticket

    sent_as_copies = Ticket.objects.filter(category="invoice_copy").values("invoice")
    assert not Invoice.objects.exclude(pdf_sha256="").exclude(status="void").exclude(pk__in=sent_as_copies).exists()
    assert all(v.void_pdf_sha256 for v in Invoice.objects.filter(status="void").exclude(pdf_sha256=""))
    # the latest issued run left the drafts of customers on hold on hold, and listed its exceptions
    held = Invoice.objects.filter(billing_run=runs[2], status="draft", on_hold=True)
    assert held.exists() and set(held.values_list("customer__status", flat=True)) == {"on_hold"}
    assert {"customer_on_hold", "customer_blocked"} <= set(
        BillingException.objects.filter(run=runs[2]).values_list("code", flat=True))
    # the CRM integration reported most of last month's usage before each run; the rest is listed
    from contracts.models import UsageRecord

    usage = UsageRecord.objects.filter(period_start=add_months(runs[2].period_start, -1))
    assert usage.exists() and set(usage.values_list("source_id", flat=True)) == {
        f"crm-usage-{key}-{add_months(runs[2].period_start, -1):%Y-%m}" for key in usage.values_list("line_key", flat=True)}
    billed_usage = InvoiceLine.objects.filter(invoice__billing_run=runs[2], contract_line_key__in=usage.values("line_key"))
    assert billed_usage.exists()
    # manual one-off invoices by the billing specialist; voids with reasons; payments only through
    # receipts (demo/receivables.py), never of a credited invoice
    manual = Invoice.objects.filter(contract__isnull=True).exclude(status="draft")
    assert manual.count() >= 4 and set(manual.values_list("created_by", flat=True)) == {billing.pk}
    voided = Invoice.objects.filter(status="void")
    assert voided.count() >= 3 and not voided.filter(void_reason="").exists()
    # each void is cancelled once: by a credit note when the invoice had reached the customer, else
    # by the reversal of its entry
    assert not voided.filter(void_credit_note__isnull=True, void_entry__isnull=True, gross_total__gt=0).exists()
    assert not voided.filter(void_credit_note__isnull=False, void_entry__isnull=False).exists()
    assert not Invoice.objects.filter(amount_paid__gt=0, credit_notes__isnull=False).exists()

    # the books: every entry balances, and AR control equals the open items
    per_entry: dict[int, Decimal] = defaultdict(Decimal)
    for entry_id, amount in JournalLine.objects.values_list("entry_id", "functional_amount"):
        per_entry[entry_id] += amount  # in Python: SQLite sums decimals in floating point
    assert per_entry and not any(per_entry.values())
    reconciliation = ar_reconciliation()
    assert reconciliation and all(row["difference"] == 0 for row in reconciliation)
    assert OpenItem.objects.filter(document_type="invoice", open_amount__gt=0).count() > 20

    # credit notes in every state, requested by the billing specialist and decided by someone else
    # (those the help-desk agent requested from tickets are checked in assert_helpdesk; the credit
    # notes cancelling voided invoices are the voiding manager's, checked above)
    # (the collector's dispute credit notes are checked in assert_collections)
    from collections_app.models import Dispute
    from helpdesk.models import Ticket

    notes = (CreditNote.objects.exclude(pk__in=Ticket.objects.exclude(credit_note=None).values("credit_note"))
             .exclude(reason="cancellation", invoice__status="void")
             .exclude(pk__in=Dispute.objects.exclude(credit_note=None).values("credit_note")))
    assert {"requested", "approved", "rejected", "issued"} == set(notes.values_list("status", flat=True))
    assert set(notes.values_list("requested_by", flat=True)) == {billing.pk}
    assert not notes.exclude(decided_by=None).filter(decided_by=billing).exists()
    issued_notes = notes.filter(status="issued")
    whole = [n for n in issued_notes if n.gross_total == n.invoice.gross_total]
    partial = [n for n in issued_notes if any(1 < ln.quantity < ln.invoice_line.quantity for ln in n.lines.all())]
    by_amount = [n for n in issued_notes if n not in whole and n not in partial]
    assert len(whole) == len(partial) == len(by_amount) == 1 and whole[0].invoice.status == "paid"
    assert partial[0].invoice.status == by_amount[0].invoice.status == "issued"
    # a credit note issued today posts into this month, which is open
    todays = issued_notes.get(issue_date=today)
    assert todays.journal_entry.period.status == "open" and todays.journal_entry.entry_date == today

    # portal uploads in every state; some pending ones overdue, one not yet due
    uploads = PortalSubmission.objects.all()
    assert set(uploads.values_list("status", flat=True)) == {"pending", "uploaded", "accepted", "rejected", "resubmitted"}
    assert uploads.filter(status="pending", due_date__lt=today).exists()
    assert uploads.filter(status="pending", due_date__gte=today).exists()

    # M-3 and M-2 closed after billing; M-1 (its close still in progress) and this month open
    for entity in LegalEntity.objects.all():
        assert [_period(entity, m).status for m in (m3, m2, m1, this_month)] == ["closed", "closed", "open", "open"]
    billed_and_closed = Period.objects.filter(Q(year=m3.year, month=m3.month) | Q(year=m2.year, month=m2.month))
    assert JournalLine.objects.filter(entry__period__in=billed_and_closed).exists()



def test_demo_logins_lists_every_role(capsys):
    call_command("demo_logins")
    out = capsys.readouterr().out
    for role in HUMAN_ROLES:
        assert role in out


def assert_receivables(this_month: dt.date, m2: dt.date) -> None:
    cashapp, today = User.objects.get(username="cashapp"), dates.today()
    # the controller opened the three bank accounts printed on the invoices
    assert sorted(BankAccount.objects.values_list("legal_entity__code", "currency")) == [
        ("DE01", "EUR"), ("GB01", "GBP"), ("US01", "USD")]
    # the specialist imported statements in each format, on days from M-2 to today
    imports = StatementImport.objects.all()
    assert {"bai2", "camt053", "mt940", "csv"} <= set(imports.values_list("format", flat=True))
    assert set(imports.values_list("imported_by", flat=True)) == {cashapp.pk}
    days = set(BankStatement.objects.values_list("statement_date", flat=True))
    assert min(days) >= m2 and max(days) == today and any(d < this_month for d in days)
    assert imports.filter(debits_skipped__gt=0).exists()  # returns and bank fees are money out
    # receipts in every working state
    receipts = Receipt.objects.all()
    statuses = set(receipts.values_list("status", flat=True))
    assert {"applied", "partially_applied", "unapplied", "reversed", "on_account"} <= statuses
    # some applied automatically by the matcher, some by the specialist, some waiting with suggestions
    applications = ReceiptApplication.objects.all()
    assert applications.filter(applied_by__isnull=True).exists()
    assert applications.filter(applied_by=cashapp).exists()
    waiting = receipts.filter(status="unapplied", match_status="suggested").exclude(suggestions=[])
    assert waiting.exists()
    assert receipts.filter(status="unapplied", customer__isnull=True).exists()  # unknown payers in suspense
    # returned payments: reversed by the specialist with the reason, their applications reversed
    returned = receipts.filter(status="reversed")
    assert returned.exists() and not returned.filter(reversal_reason="").exists()
    assert not applications.filter(receipt__in=returned, reversed_at__isnull=True).exists()
    # manual cheques: one partly applied, one a prepayment on account
    assert receipts.filter(source="manual", status="partially_applied").exists()
    assert receipts.filter(source="manual", status="on_account").exists()
    # invoices paid and partially paid, never past their balance; plenty left open for collections
    invoices = Invoice.objects.exclude(status__in=["draft", "void"])
    assert invoices.filter(status="paid", amount_paid__gt=0).exists()
    assert invoices.filter(status="partially_paid").exists()
    assert not invoices.filter(amount_paid__gt=F("gross_total") - F("amount_credited")).exists()
    assert invoices.filter(status="issued", gross_total__gt=0).count() >= invoices.filter(status="paid").count() // 3
    for receipt in receipts:
        live = sum((a.amount for a in receipt.applications.all() if a.reversed_at is None), Decimal(0))
        assert live == receipt.amount_applied <= receipt.amount
    # and the books reconcile: AR and unapplied cash equal their open items
    reconciliation = ar_reconciliation()
    assert reconciliation and all(row["difference"] == 0 for row in reconciliation)


def assert_helpdesk() -> None:
    """A month of tickets by the three reps in every category and state, SLAs met and breached, a
    credit request that became an issued credit note, a data change applied to the customer."""
    from helpdesk.models import Category, DataChangeRequest, Ticket

    tickets = Ticket.objects.all()
    assert set(tickets.values_list("category", flat=True)) == set(Category.values)
    assert set(tickets.values_list("status", flat=True)) == set(Ticket.Status.values)
    assert set(tickets.values_list("requester__username", flat=True)) == {"sales1", "sales2", "sales3"}
    assert tickets.filter(sla_resolution_met=True).exists() and tickets.filter(sla_state="breached").exists()
    credited = tickets.get(category="credit_request", credit_note__status="issued")
    assert credited.status in ("resolved", "closed") and credited.credit_note.number
    assert credited.credit_note.requested_by.username == "helpdesk"
    assert credited.credit_note.decided_by.username == "manager"
    applied = DataChangeRequest.objects.get(status="applied")
    assert applied.customer.history.filter(history_change_reason__contains=applied.ticket.reference).exists()
    assert tickets.exclude(satisfaction=None).exists()
def assert_aging(today: dt.date) -> None:
    """A year of month-end snapshots per entity (the books' closed months frozen), Driftwood
    Logistics sliding into over 90, and last month's report pack."""
    from receivables.models import AgingSnapshot, AgingSnapshotLine, ArReportPack

    published = AgingSnapshot.objects.filter(status="complete")
    for entity in LegalEntity.objects.all():
        month_ends = {s.as_of for s in published.filter(legal_entity=entity)
                      if (s.as_of + dt.timedelta(days=1)).day == 1}
        assert len(month_ends) == 12, entity.code
        assert published.filter(legal_entity=entity, frozen_at__isnull=False).count() == 2
    slide = list(AgingSnapshotLine.objects.filter(customer__legal_name="Driftwood Logistics Inc.", kind="debit",
                                                  snapshot__status="complete", amount=Decimal("38400.00"))
                 .order_by("snapshot__as_of").values_list("bucket", flat=True))
    assert slide == sorted(slide) and slide[0] == 0 and slide[-1] >= 4
    assert ArReportPack.objects.filter(month=today.replace(day=1) - dt.timedelta(days=1)).exists()


def assert_collections_dunning() -> None:
    """Dunning (i10b): reminders at each level sent, one customer per letter and level and day, no
    disputed or placed invoice claimed, a customer on credit hold, an agency placement with a
    recovery posted net of the fee (balanced), and the books still reconcile."""
    from collections_app.models import (
        CreditHold,
        DunningLetter,
        DunningLetterItem,
        Placement,
        PlacementItem,
        Recovery,
    )

    sent = DunningLetter.objects.filter(status="sent")
    assert set(sent.values_list("level", flat=True)) == {1, 2, 3}
    assert set(sent.values_list("legal_entity__code", flat=True)) == {"US01", "DE01", "GB01"}
    assert all(letter.sender["legal_name"] == letter.legal_entity.legal_name for letter in sent.select_related("legal_entity"))
    assert set(sent.filter(legal_entity__code="DE01").values_list("language", flat=True)) == {"de"}
    assert set(sent.values_list("delivery_status", flat=True)) <= {"sent", "posted", "skipped"}
    placed = PlacementItem.objects.filter(active=True).values_list("invoice_id", flat=True)
    claimed = DunningLetterItem.objects.filter(included=True)
    assert not claimed.filter(invoice_id__in=placed).exists()
    # what was disputed (or promised) when the letter was written was never claimed
    assert not claimed.filter(collectible__gt=F("open_amount") - F("disputed") - F("promised")).exists()
    assert not DunningLetterItem.objects.filter(included=False, excluded_reason="").exists()
    assert CreditHold.objects.filter(status="active").exists()
    placement = Placement.objects.get()
    recovery = Recovery.objects.get(placement=placement)
    assert recovery.gross == recovery.fee + recovery.net and recovery.fee == (recovery.gross * placement.agency.fee_percent / 100).quantize(Decimal("0.01"))
    lines = JournalLine.objects.filter(entry=recovery.journal_entry)
    assert sum(line.functional_amount for line in lines) == 0
    for entity in LegalEntity.objects.all():
        assert all(row["difference"] == 0 for row in ar_reconciliation(legal_entity_id=entity.pk))

# --- write-offs (issue 11) ---------------------------------------------------------------------

def assert_writeoffs() -> None:
    from collections_app.models import WriteOff, WriteOffBatch, WriteOffRecovery

    # approved and posted, rejected with its reason, one awaiting approval, an opening item written off
    statuses = set(WriteOff.objects.values_list("status", flat=True))
    assert {"posted", "rejected", "submitted"} <= statuses
    assert WriteOff.objects.filter(status="rejected").exclude(decision_note="").exists()
    assert WriteOff.objects.filter(status="posted", lines__invoice__isnull=True, reason="limitation").exists()
    assert WriteOff.objects.filter(status="posted", reason="bankruptcy", attachments__isnull=False).exists()
    for write_off in WriteOff.objects.filter(status="posted").select_related("journal_entry"):
        lines = write_off.journal_entry.lines.all()
        assert sum(line.functional_amount for line in lines) == 0
        assert -sum(line.amount for line in lines if line.account.role == "ar") == write_off.amount
        assert write_off.approvals.count() >= 1 and not write_off.approvals.filter(approver=write_off.requested_by)
    # invoices written off and still written off show so; none of them is open
    written = Invoice.objects.filter(write_off_lines__write_off__status="posted").distinct()
    assert written.exists()
    for invoice in written:
        assert invoice.balance_due == 0 and invoice.status in ("written_off", "paid")
    # a recovery: cash applied to a written-off invoice reinstated it and paid it
    recovery = WriteOffRecovery.objects.select_related("receipt", "line__invoice").get()
    assert recovery.receipt.status == "applied" and recovery.line.invoice.status == "paid"
    # a small-balance batch approved at once and posted, each of its write-offs a small balance
    batch = WriteOffBatch.objects.get(status="posted")
    assert batch.write_offs.exists() and set(batch.write_offs.values_list("reason", "status")) == {
        ("small_balance", "posted")}
    assert all(row["difference"] == 0 for row in ar_reconciliation())

def assert_reserve(today: dt.date) -> None:
    """Roll rates derived from the twelve month-end snapshots; last month's reserve of every entity
    prepared by the manager, approved and posted by the Controller, recomputing to the cent; the
    agency-placed Driftwood Logistics reserved specifically, not in the matrix."""
    from collections_app.models import ReserveRun
    from collections_app.services.reserve import reserve_run_recompute

    last_month_end = today.replace(day=1) - dt.timedelta(days=1)
    runs = ReserveRun.objects.filter(as_of=last_month_end, status="posted").select_related("legal_entity")
    assert {r.legal_entity.code for r in runs} == set(LegalEntity.objects.values_list("code", flat=True))
    for run in runs:
        assert (run.prepared_by.username, run.approved_by.username, run.posted_by.username) == (
            "manager", "controller", "controller")
        assert run.policy.method == "roll_rate" and len(run.derivation["rows"]) >= 10
        # the true-up brought the allowance to the requirement (write-offs posted later may move it since)
        assert run.ledger_balance + run.adjustment == run.required_total
        if run.adjustment:
            assert run.journal_entry.lines.get(account__role="allowance").amount == -run.adjustment
        assert reserve_run_recompute(run_id=run.id).total == run.required_total
    us = runs.get(legal_entity__code="US01")
    assert us.required_total > 0 and us.journal_entry.kind == "reserve"
    [specific] = us.lines.filter(kind="specific")
    assert specific.customer.legal_name == "Driftwood Logistics Inc." and specific.allowance > 0
    assert runs.get(legal_entity__code="DE01").policy.overlay_factor == Decimal("1.25")

def assert_collections(today: dt.date) -> None:
    """The collector's month (demo/collections.py): every customer assigned by the rules, contacts
    logged with outcomes and next actions, a dispute resolved by an issued credit note and one
    rejected, promises kept and broken, a payment plan with its first instalment kept, and a
    worklist that ranks what is left."""
    from collections_app.models import Activity, CollectorAssignment, Dispute, PromiseToPay
    from collections_app.selectors.worklist import worklist

    cole = User.objects.get(username="collector")
    assert CollectorAssignment.objects.filter(collector=cole).count() == Customer.objects.count()
    activities = Activity.objects.all()
    assert {"call", "email", "meeting"} <= set(activities.values_list("kind", flat=True))
    assert set(activities.values_list("by", flat=True)) == {cole.pk}
    assert activities.filter(at__date__lt=today - dt.timedelta(days=20)).exists()
    credited = Dispute.objects.get(status="resolved_credit")
    assert credited.credit_note.status == "issued" and credited.credit_note.requested_by == cole
    assert credited.credit_note.decided_by.username == "manager" and credited.credit_note.gross_total == credited.amount
    assert Dispute.objects.filter(status="rejected").exclude(resolution_note="").exists()
    assert Dispute.objects.filter(status__in=["open", "in_progress"]).exists()
    promises = PromiseToPay.objects.all()
    assert promises.filter(status="kept", plan_reference="").exists()
    assert promises.filter(status="broken").exists()
    plan = list(promises.exclude(plan_reference="").order_by("instalment").values_list("status", flat=True))
    assert plan == ["kept", "open", "open"]
    rows = worklist(user=cole)
    assert rows and rows == sorted(rows, key=lambda r: (-r.score, -r.overdue, r.name))
    assert any(r.promises_broken for r in rows) and all(r.reasons for r in rows)


def test_seed_demo_refuses_a_demo_too_small_to_build_before_writing_anything():
    with pytest.raises(CommandError, match="--customers must be at least 20"):
        call_command("seed_demo", customers=10)
    assert not User.objects.exists() and not Customer.objects.exists()
