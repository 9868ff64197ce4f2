"""Demo billing: three closed months of billing with payments still to come, credit notes in every
state and procurement-portal uploads in every state, all made through the billing, ledger and
customer services as the people of the demo would have made them, each on its own day.

The timeline (M is the month of "today"; every step pins otc.dates to its day):
- M-3, M-2, M-1: on the 1st the billing specialist starts the month's run (drafts and the
  exceptions list), and issues it the same day (issue date = the 1st). Invoices of customers on a
  procurement portal get their upload task; the specialist uploads them and the portals accept
  or reject them over the following days.
- During the months: one-off manual invoices (consulting and training days), voids with a reason
  (by the finance manager: the billing specialist may not void), credit notes requested by the
  billing specialist and decided by the finance manager or the controller (whoever's credit-note
  limit covers the amount; the requester never decides). Late in M-2 two customers go on hold
  and one is blocked, so the M-1 run holds their drafts (left on hold) and skips the blocked one.
- Period close: the controller closes M-3 on the 8th of M-2 and M-2 on the 8th of M-1, after
  everything dated in them is posted. M-1 stays OPEN: the demo is always seeded during month M,
  and M-1's close is the team's month-end work in progress (its reconciliations, accruals and the
  late credit notes still land in it). Months before M-3 are closed when the periods are created
  (demo/ledger.py), so opening balances dated in them roll forward into M-3.
- Today: an approved credit note from M-1 is issued (posted into M, which is open), others wait
  for approval or for issue, a portal customer's manual invoice waits for upload, and the
  current month's run is left as "Drafts ready" for the billing specialist to check and issue.
- Nothing is paid: receipts and cash application come later, so the invoices stay open items
  (except the one fully credited, which the credit note settles).

Documents: issuing queues the PDF and delivery after commit (Celery, in-process in the embedded
mode), exactly as in production; while seeding, the PDFs themselves are left to the first download
(`documents_on_first_download`, below: rendering them was most of the seed's time). Portal upload tasks
are also ensured here with `invoice_deliver` (idempotent), because the demo moves them along and
the queued delivery may not have run yet (a real broker, or a test transaction that never
commits). Likewise a run whose generation chunks have not run yet is generated in-process with
`billing_run_generate_chunk`, the service the chunk task calls.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal

from django.db import transaction
from django.db.models import F

from billing.models import BillingRun, CreditNote, Delivery, Invoice, PortalSubmission
from billing.periods import add_months
from billing.services import (
    billable_contract_ids,
    billing_run_generate_chunk,
    billing_run_issue,
    billing_run_start,
    credit_note_approve,
    credit_note_issue,
    credit_note_reject,
    credit_note_request,
    invoice_create_manual,
    invoice_deliver,
    invoice_issue,
    invoice_void,
    portal_submission_accept,
    portal_submission_mark_uploaded,
    portal_submission_reject,
    portal_submission_resubmit,
)
from contracts.models import ContractLine
from contracts.services.usage import IN_FORCE, usage_records_post
from customers.models import Customer
from customers.selectors import billing_emails
from customers.services import customer_update
from demo.contracts import on_day
from demo.users import seed_integration_user
from ledger.models import LegalEntity, Period
from ledger.services.periods import period_close
from otc import dates
from otc.models import User
from otc.money import quantize
from otc.services import approval_limit

PORTAL_REFERENCE_PREFIX = {"ariba": "AN", "coupa": "CP", "tungsten": "TN", "jaggaer": "JG", "other": "PR"}


class Timeline:
    """Steps at dates, run in date order (then in the order they were added), each on its day."""

    def __init__(self, today: dt.date) -> None:
        self.today = today
        self.steps: list[tuple[dt.date, int, Callable[[], object]]] = []

    def at(self, day: dt.date, step: Callable[[], object]) -> None:
        if day > self.today:
            raise ValueError(f"A demo step dated {day} is after today ({self.today}).")
        self.steps.append((day, len(self.steps), step))

    def run(self) -> None:
        for day, _, step in sorted(self.steps, key=lambda s: (s[0], s[1])):
            with on_day(day):
                step()


def _factor(currency: str) -> Decimal:
    return Decimal(150) if currency == "JPY" else Decimal(1)


def _approver(note: CreditNote, people: list[User]) -> User:
    """The first person (finance manager, then controller) whose credit-note limit covers the note."""
    for person in people:
        if note.requested_by_id != person.id and note.gross_total <= approval_limit(
                user=person, kind="credit_note", currency=note.currency, legal_entity_id=note.legal_entity_id):
            return person
    raise ValueError(f"No demo approver may approve {note} ({note.gross_total} {note.currency}).")


class DemoBilling:
    """The state the timeline's steps share (runs, chosen invoices, credit notes)."""

    def __init__(self, *, users: dict[str, User], today: dt.date, seed: int) -> None:
        self.r = random.Random(seed)
        self.today = today
        self.billing, self.manager, self.controller = users["billing"], users["manager"], users["controller"]
        self.crm = seed_integration_user()
        self.runs: dict[dt.date, BillingRun] = {}
        self.manual: dict[str, Invoice] = {}
        self.notes: dict[str, CreditNote] = {}
        self.used: set[int] = set()   # invoices already picked for a void or a credit note

    # --- runs -------------------------------------------------------------------------------------

    def post_usage(self, month: dt.date) -> None:
        """The CRM reports `month`'s usage of most usage lines in force (a few stay missing: the
        run lists them as `usage_missing` and bills the minimum commitment)."""
        lines = (ContractLine.objects.filter(kind=ContractLine.Kind.USAGE, version__contract__status__in=IN_FORCE,
                                             version_id=F("version__contract__current_version_id"))
                 .select_related("version").order_by("version__contract_id", "position"))
        r = random.Random(f"usage-{month:%Y-%m}")  # its own sequence: the other picks stay as they were
        for line in lines:
            if r.random() < 0.12:
                continue
            typical = (line.minimum_commitment or Decimal(500)) / (line.unit_price or Decimal(1))
            quantity = (typical * Decimal(r.randint(55, 170)) / 100).quantize(Decimal(1))
            with transaction.atomic():
                usage_records_post(contract_id=line.version.contract_id, by=self.crm, records=[{
                    "line_key": line.line_key, "period_start": month, "quantity": quantity,
                    "source_id": f"crm-usage-{line.line_key}-{month:%Y-%m}"}])

    def run_month(self, month: dt.date, issue: bool = True) -> None:
        self.post_usage(add_months(month, -1))
        run = billing_run_start(period_start=month, by=self.billing)
        run.refresh_from_db()
        if run.status == BillingRun.Status.GENERATING:  # the chunk tasks have not run (see the docstring)
            billing_run_generate_chunk(run_id=run.pk, contract_ids=billable_contract_ids(period_start=month))
        if issue:
            run = billing_run_issue(run_id=run.pk, by=self.billing, issue_date=month)
            self.deliver(Invoice.objects.filter(billing_run=run, status=Invoice.Status.ISSUED))
            month_end_finished(run.pk)
        run.refresh_from_db()
        self.runs[month] = run

    @staticmethod
    def deliver(invoices) -> None:
        """Ensure the portal upload tasks of issued invoices (idempotent; e-mail delivery is left to
        the queued task)."""
        for invoice_id in (invoices.exclude(customer__procurement_portal=Customer.Portal.NONE)
                           .order_by("pk").values_list("pk", flat=True)):
            invoice_deliver(invoice_id=invoice_id)

    def issued(self, month: dt.date, *, portal: bool | None = None, max_gross: Decimal | None = None,
               seats: bool = False) -> list[Invoice]:
        """The month's issued run invoices not yet picked for anything, in number order (`seats`:
        only those billing platform seats)."""
        invoices = (Invoice.objects.filter(billing_run=self.runs[month], status=Invoice.Status.ISSUED, gross_total__gt=0)
                    .exclude(pk__in=self.used).exclude(customer__status__in=["on_hold", "blocked"])
                    .select_related("customer", "contract__current_version").order_by("number"))
        if portal is not None:
            invoices = (invoices.exclude if portal else invoices.filter)(customer__procurement_portal=Customer.Portal.NONE)
        if seats:
            invoices = invoices.filter(lines__product__sku__startswith="PLAT-", lines__quantity__gte=5).distinct()
        if max_gross is not None:
            invoices = [i for i in invoices if i.gross_total <= max_gross * _factor(i.currency)]
        return list(invoices)

    def pick(self, month: dt.date, **filters) -> Invoice:
        candidates = self.issued(month, **filters)
        if not candidates:
            raise ValueError(f"No {month:%Y-%m} invoice left for the demo ({filters}).")
        invoice = self.r.choice(candidates)
        self.used.add(invoice.pk)
        return invoice

    # --- manual invoices ----------------------------------------------------------------------------

    def manual_invoice(self, key: str, *, like: Invoice, description: str, days: int, product: str | None = None,
                       on: dt.date) -> None:
        """A one-off invoice for the customer of `like` (same entity, PO), issued at once."""
        from contracts.models import Product

        price = Decimal("1800.00") * _factor(like.currency)
        line = {"description": description, "quantity": Decimal(days), "unit_price": price, "unit": "DAY",
                "service_start": on, "service_end": on}
        if product:
            line["product_id"] = Product.objects.get(sku=product).pk
        else:
            line.update(tax_category="services", revenue_account_code="4200")
        draft = invoice_create_manual(data={
            "legal_entity_id": like.legal_entity_id, "customer_id": like.customer_id, "po_number": like.po_number,
            "service_start": on, "service_end": on, "notes": "One-off charge agreed with the customer.",
        }, lines=[line], by=self.billing)
        self.manual[key] = invoice_issue(invoice_id=draft.pk, by=self.billing, issue_date=on)
        self.used.add(draft.pk)
        self.deliver(Invoice.objects.filter(pk=draft.pk))

    # --- credit notes -------------------------------------------------------------------------------

    def request(self, key: str, invoice: Invoice, reason: str, explanation: str, **shape) -> None:
        self.notes[key] = credit_note_request(invoice_id=invoice.pk, by=self.billing, reason=reason,
                                              explanation=explanation, **shape)

    def approve(self, key: str, note: str = "Checked against the contract and the ticket.") -> None:
        credit = self.notes[key]
        self.notes[key] = credit_note_approve(credit_note_id=credit.pk, by=_approver(credit, [self.manager, self.controller]),
                                              note=note)

    def reject(self, key: str, note: str) -> None:
        self.notes[key] = credit_note_reject(credit_note_id=self.notes[key].pk, by=self.manager, note=note)

    def issue(self, key: str) -> None:
        self.notes[key] = credit_note_issue(credit_note_id=self.notes[key].pk, by=self.billing)

    # --- portal uploads -----------------------------------------------------------------------------

    def submissions(self, month: dt.date) -> list[PortalSubmission]:
        return list(PortalSubmission.objects.filter(invoice__billing_run=self.runs[month]).order_by("invoice__number"))

    def reference(self, submission: PortalSubmission) -> str:
        return f"{PORTAL_REFERENCE_PREFIX.get(submission.portal, 'PR')}-{self.r.randint(10_000_000, 99_999_999)}"

    def upload(self, submission: PortalSubmission) -> None:
        portal_submission_mark_uploaded(submission_id=submission.pk, by=self.billing,
                                        portal_reference=self.reference(submission))

    def resubmit(self, submission: PortalSubmission) -> None:
        portal_submission_resubmit(submission_id=submission.pk, by=self.billing,
                                   portal_reference=self.reference(submission))

    def accept(self, submission: PortalSubmission) -> None:
        portal_submission_accept(submission_id=submission.pk, by=self.billing)

    def reject_upload(self, submission: PortalSubmission, reason: str) -> None:
        portal_submission_reject(submission_id=submission.pk, by=self.billing, reason=reason)

    # --- customers and periods -----------------------------------------------------------------------

    def change_status(self, month: dt.date, status: str, reason: str, *, avoid: set[int]) -> None:
        """Put the customer of one of the month's (non-portal) invoices on hold or block it."""
        monthly = [i for i in self.issued(month, portal=False) if i.customer_id not in avoid
                   and i.contract.current_version.billing_frequency == "monthly"]
        invoice = monthly[0]
        avoid.add(invoice.customer_id)
        customer_update(customer_id=invoice.customer_id, data={"status": status, "status_reason": reason},
                        by=self.manager, reason=reason)

    def close(self, month: dt.date) -> None:
        for entity in LegalEntity.objects.order_by("code"):
            period = Period.objects.get(legal_entity=entity, year=month.year, month=month.month)
            if period.status == Period.Status.OPEN:
                period_close(period_id=period.pk, by=self.controller, note="Month-end close: billing, credits and "
                             "portal uploads reconciled.")


def seed_billing(*, users: dict[str, User], today: dt.date, seed: int = 17) -> dict[str, dict[str, int]]:
    """The demo's billing (see the module docstring). Returns counts by status per document."""
    demo = DemoBilling(users=users, today=today, seed=seed)
    m3, m2, m1 = (add_months(today.replace(day=1), -k) for k in (3, 2, 1))
    plan = Timeline(today)

    def day(month: dt.date, n: int) -> dt.date:
        return month + dt.timedelta(days=n - 1)

    def recent(n: int) -> dt.date:
        """n days ago, but never before the 3rd of M-1 (after its run and first uploads)."""
        return max(day(m1, 3), today - dt.timedelta(days=n))

    # Month-end runs on the 1st, issued the same day; portal uploads on the 2nd.
    for month in (m3, m2, m1):
        plan.at(month, lambda m=month: demo.run_month(m))
    for month in (m3, m2):
        plan.at(day(month, 2), lambda m=month: [demo.upload(s) for s in demo.submissions(m)])

    # M-3: the portals accept all but one upload, which is corrected and accepted after all.
    plan.at(day(m3, 5), lambda: demo.reject_upload(demo.submissions(m3)[0], "PO number not found in the portal: "
                                                   "the customer's buyer had not yet released the purchase order."))
    plan.at(day(m3, 6), lambda: [demo.accept(s) for s in demo.submissions(m3)[1:]])
    plan.at(day(m3, 8), lambda: demo.resubmit(demo.submissions(m3)[0]))
    plan.at(day(m3, 12), lambda: demo.accept(demo.submissions(m3)[0]))
    plan.at(day(m3, 6), lambda: invoice_void(
        invoice_id=demo.pick(m3, portal=False).pk, by=demo.manager,
        reason="Billed to the customer's former legal entity; sales is confirming the new contracting party "
               "before the month is billed again."))
    # Two manual invoices for the same consulting day: the second is a duplicate, credited in full.
    plan.at(day(m3, 9), lambda: demo.manual_invoice(
        "consulting", like=demo.pick(m3, portal=False, max_gross=Decimal(60_000)), on=day(m3, 9), days=1,
        description="Consulting day: data migration workshop"))
    plan.at(day(m3, 16), lambda: demo.manual_invoice(
        "duplicate", like=demo.manual["consulting"], on=day(m3, 16), days=1,
        description="Consulting day: data migration workshop"))
    plan.at(day(m3, 18), lambda: demo.request(
        "whole", demo.manual["duplicate"], CreditNote.Reason.DUPLICATE,
        f"Duplicate of invoice {demo.manual['consulting'].number}: the workshop was invoiced twice."))
    plan.at(day(m3, 19), lambda: demo.approve("whole"))
    plan.at(day(m3, 20), lambda: demo.issue("whole"))

    # M-2: all uploads accepted; a training invoice, then cancelled; seats credited; holds.
    plan.at(day(m2, 6), lambda: [demo.accept(s) for s in demo.submissions(m2)])
    plan.at(day(m2, 8), lambda: demo.close(m3))
    plan.at(day(m2, 10), lambda: demo.manual_invoice(
        "training", like=demo.pick(m2, portal=False, max_gross=Decimal(60_000)), on=day(m2, 10), days=2,
        product="TRAINING", description="Training days: administrator course (2 days)"))
    plan.at(day(m2, 20), lambda: invoice_void(
        invoice_id=demo.manual["training"].pk, by=demo.manager,
        reason="The customer cancelled the course before it took place; nothing is owed."))

    def credit_seats() -> None:
        invoice = demo.pick(m2, max_gross=Decimal(20_000), seats=True)
        line = invoice.lines.filter(product__sku__startswith="PLAT-").order_by("position").first()
        seats = max(Decimal(1), (line.quantity / 5).to_integral_value())
        demo.request("lines", invoice, CreditNote.Reason.BILLING_ERROR,
                     f"The customer reduced the seats by {seats:f} from the start of the month (signed order form "
                     "received before the run); the contract amendment follows.",
                     lines=[{"invoice_line_id": line.pk, "quantity": seats}])

    plan.at(day(m2, 12), credit_seats)
    plan.at(day(m2, 13), lambda: demo.approve("lines"))
    plan.at(day(m2, 14), lambda: demo.issue("lines"))
    changed: set[int] = set()
    plan.at(day(m2, 22), lambda: demo.change_status(m2, "on_hold", "Payment overdue more than 60 days", avoid=changed))
    plan.at(day(m2, 23), lambda: demo.change_status(m2, "on_hold", "Credit review pending", avoid=changed))
    plan.at(day(m2, 25), lambda: demo.change_status(m2, "blocked", "Insolvency proceedings opened", avoid=changed))

    # M-1: the run holds and skips; a void; M-2 closed; a consulting day; credits decided.
    plan.at(day(m1, 6), lambda: invoice_void(
        invoice_id=demo.pick(m1, portal=False).pk, by=demo.manager,
        reason="Duplicate: the customer prepaid this month under the legacy system (migration overlap)."))
    plan.at(day(m1, 8), lambda: demo.close(m2))
    plan.at(day(m1, 12), lambda: demo.manual_invoice(
        "consulting2", like=demo.pick(m1, portal=False, max_gross=Decimal(60_000)), on=day(m1, 12), days=1,
        description="Consulting day: API integration review"))

    def credit_amount(key: str, share: str, reason: str, explanation: str) -> None:
        invoice = demo.pick(m1, max_gross=Decimal(20_000))
        amount = quantize(invoice.net_total * Decimal(share), invoice.currency)
        demo.request(key, invoice, reason, explanation, amount=amount)

    plan.at(day(m1, 15), lambda: credit_amount(
        "amount", "0.10", CreditNote.Reason.SERVICE_CREDIT,
        "Service credit of 10% under the SLA for the platform outage on the 9th (4h 20m below the 99.9% target)."))
    plan.at(day(m1, 16), lambda: demo.approve("amount"))
    plan.at(day(m1, 20), lambda: credit_amount(
        "rejected", "0.15", CreditNote.Reason.PRICING_DISPUTE,
        "Customer says the 15% introductory discount should still apply."))
    plan.at(day(m1, 21), lambda: demo.reject(
        "rejected", "The introductory discount applied to the first year only (contract clause 4.2); "
                    "the price billed is right. Sales informed."))

    # M-1's portal uploads: most uploaded on the 2nd and accepted; of the first three, one rejected
    # then resubmitted (awaiting the portal), one rejected (awaiting correction), one uploaded only
    # lately (awaiting the portal); the last three still pending, overdue since early M-1.
    def m1_uploads(step: str) -> None:
        subs = demo.submissions(m1)
        routine = subs[3:max(3, len(subs) - 3)]
        if step == "routine upload":
            for s in routine:
                demo.upload(s)
        elif step == "routine accept":
            for s in routine:
                demo.accept(s)
        elif step == "upload":
            for s in subs[:3]:
                demo.upload(s)
        elif step == "reject":
            demo.reject_upload(subs[0], "Invoice total does not match the open purchase order amount.")
            demo.reject_upload(subs[1], "The portal requires the contract number in the invoice header.")
        elif step == "resubmit":
            demo.resubmit(subs[0])

    plan.at(day(m1, 2), lambda: m1_uploads("routine upload"))
    plan.at(day(m1, 6), lambda: m1_uploads("routine accept"))
    plan.at(recent(6), lambda: m1_uploads("upload"))
    plan.at(recent(4), lambda: m1_uploads("reject"))
    plan.at(recent(1), lambda: m1_uploads("resubmit"))

    # Awaiting decision and awaiting issue, requested in the last days.
    plan.at(recent(3), lambda: credit_amount(
        "approved", "0.05", CreditNote.Reason.GOODWILL,
        "Goodwill credit agreed by the account executive after the delayed onboarding."))
    plan.at(recent(1), lambda: demo.approve("approved"))
    plan.at(recent(2), lambda: credit_amount(
        "requested", "0.08", CreditNote.Reason.SERVICE_CREDIT,
        "Service credit requested for the API latency incident reported in ticket HD-1042."))

    # Today: the service credit approved in M-1 is issued (posted into this month, which is
    # open); another request arrives; a portal customer's training invoice waits for upload; the
    # current month's run is left as drafts.
    plan.at(today, lambda: demo.issue("amount"))
    plan.at(today, lambda: credit_amount(
        "requested2", "0.12", CreditNote.Reason.BILLING_ERROR,
        "Customer reports 12% of the seats were deactivated before the period started (ticket HD-1057)."))
    plan.at(today, lambda: demo.manual_invoice(
        "portal_training", like=demo.pick(m1, portal=True), on=today, days=1, product="TRAINING",
        description="Training day: finance team onboarding"))
    plan.at(today, lambda: demo.run_month(today.replace(day=1), issue=False))

    plan.run()
    return {
        "runs": dict(Counter(BillingRun.objects.values_list("status", flat=True))),
        "invoices": dict(Counter(Invoice.objects.values_list("status", flat=True))),
        "credit_notes": dict(Counter(CreditNote.objects.values_list("status", flat=True))),
        "portal_uploads": dict(Counter(PortalSubmission.objects.values_list("status", flat=True))),
    }


@contextmanager
def documents_on_first_download() -> Iterator[None]:
    """While seeding, issued invoices and credit notes get no PDF: each is rendered and stored,
    with its SHA-256, on its first download (the download views and the API already do this for
    a document whose PDF is missing), from the same issue-time snapshots, so it reads exactly as
    it would have. Rendering ~150 PDFs was nine tenths of the seed's time (WeasyPrint's font
    subsetting). The invoice e-mails of the past months are recorded in each invoice's delivery log
    as sent to its billing contacts, as they would have been; no message is built (the demo's
    e-mails of those months went nowhere anyway). Portal uploads, and everything after the seed
    (issuing from the run page, "send again"), go through the real services and render PDFs."""
    from billing import pdf, tasks
    from billing.services import credit_notes, delivery, invoices
    from receivables import statements

    def record_email(document, customer: Customer, *, what: str = "") -> Delivery:
        """An invoice's or credit note's e-mail as billing would log it, without building the message."""
        recipients, log = billing_emails(customer.pk), delivery.delivery_document_kwargs(document)
        if not recipients:
            return Delivery.objects.create(
                **log, channel=Delivery.Channel.EMAIL, status=Delivery.Status.SKIPPED,
                detail=f"{customer.legal_name} has no billing contact with an e-mail address.")
        return Delivery.objects.create(
            **log, channel=Delivery.Channel.EMAIL, status=Delivery.Status.SENT,
            recipients=", ".join(recipients), detail=f"{what}Sent with {document.number}.pdf attached.")

    real_queue = invoices.documents_queue

    def queue_without_pdfs(invoice_ids: list[int]) -> None:
        """The month-end documents task (`billing.tasks.invoices_publish_task`, in-process here)
        delivers each invoice and checks its run, but renders and stores no PDF: its batch renders
        nothing and `invoice_store_pdf` stores nothing, for the task's own call only (the help
        desk's copies and the agency's placement pack still render theirs)."""
        saved_pdf = (pdf.invoices_render_pdfs, pdf.invoice_store_pdf)
        pdf.invoices_render_pdfs = lambda unrendered: {}
        pdf.invoice_store_pdf = lambda **kwargs: None
        try:
            real_queue(invoice_ids)
        finally:
            pdf.invoices_render_pdfs, pdf.invoice_store_pdf = saved_pdf

    def statement_unrendered(statement) -> bytes:
        """The collector's statement e-mail (demo/collections.py) goes through
        `receivables.statements.statement_email` as in production (its delivery record, Message-ID and
        timeline event), but its PDF attachment is not drawn: the message goes to the in-memory mail
        backend and nothing keeps it, and drawing it with WeasyPrint was about a twentieth of the
        seed. The statement page and its PDF download render it from the books when opened."""
        return b""

    saved = (delivery.invoice_email_send, delivery.credit_note_email_send, credit_notes.credit_note_store_pdf,
             delivery.document_pdf_prepare, tasks.invoice_store_pdf_task, invoices.documents_queue,
             statements.statement_render_pdf)
    statements.statement_render_pdf = statement_unrendered
    delivery.invoice_email_send = record_email
    delivery.credit_note_email_send = record_email
    credit_notes.credit_note_store_pdf = lambda **kwargs: None
    delivery.document_pdf_prepare = lambda *args, **kwargs: None
    tasks.invoice_store_pdf_task = lambda **kwargs: None
    invoices.documents_queue = queue_without_pdfs
    try:
        yield
    finally:
        (delivery.invoice_email_send, delivery.credit_note_email_send, credit_notes.credit_note_store_pdf,
         delivery.document_pdf_prepare, tasks.invoice_store_pdf_task, invoices.documents_queue,
         statements.statement_render_pdf) = saved


def month_end_finished(run_id: int) -> None:
    """A seeded run's month-end is finished once every invoice it issued has a delivery outcome
    (e-mailed, queued for its portal or to post): `billing_run_documents_check` also waits for every
    PDF, which the demo leaves to the first download (`documents_on_first_download`), so the run
    page would otherwise poll a past month-end forever. Stamped at the run's own day, once."""
    from billing.selectors import run_documents_progress

    progress = run_documents_progress(run_id=run_id)
    if progress["issued"] and progress["done"] == progress["issued"]:
        BillingRun.objects.filter(pk=run_id, documents_done_at=None).update(documents_done_at=dates.now())
