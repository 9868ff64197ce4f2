"""Billing: thin, idempotent Celery tasks calling services.

Invoice documents (PDF and delivery) come first in this module; billing-run tasks follow below."""

from __future__ import annotations

import logging
import time

from celery import shared_task

from otc.errors import DomainError

logger = logging.getLogger(__name__)

# Document work (PDFs, delivery) survives a killed worker and retries transient failures (a
# storage or database hiccup) with backoff; a domain refusal (e.g. a draft) is not retried.
DOCUMENT_TASK = {"acks_late": True, "reject_on_worker_lost": True, "autoretry_for": (Exception,),
                 "dont_autoretry_for": (DomainError,), "retry_backoff": True, "max_retries": 5}


@shared_task(name="billing.invoice_store_pdf", **DOCUMENT_TASK)
def invoice_store_pdf_task(*, invoice_id: int) -> str:
    """Render and store an issued invoice's PDF once; returns its SHA-256."""
    from billing.pdf import invoice_store_pdf

    return invoice_store_pdf(invoice_id=invoice_id).pdf_sha256


@shared_task(name="billing.invoice_deliver", **DOCUMENT_TASK)
def invoice_deliver_task(*, invoice_id: int) -> str:
    """Deliver an issued invoice (e-mail or portal upload task) once; returns the outcome."""
    from billing.services.delivery import invoice_deliver

    delivery = invoice_deliver(invoice_id=invoice_id)
    return "already delivered" if delivery is None else f"{delivery.channel} {delivery.status}"


@shared_task(name="billing.invoice_publish", acks_late=True, reject_on_worker_lost=True)
def invoice_publish_task(*, invoice_id: int) -> str:
    """After issue: store the PDF, then deliver it. Each step is idempotent, so a retry after a
    crash repeats nothing that was done."""
    invoice_store_pdf_task(invoice_id=invoice_id)
    return invoice_deliver_task(invoice_id=invoice_id)


@shared_task(name="billing.invoices_publish", acks_late=True, reject_on_worker_lost=True)
def invoices_publish_task(*, invoice_ids: list[int]) -> int:
    """Publish the invoices of one issued chunk: PDFs rendered BATCH_SIZE at a time
    (`billing.pdf.invoices_render_pdfs`, ReportLab; an invoice a batch could not give is rendered
    alone), stored, then delivered, the chunk's e-mails on one connection to the mail backend;
    then check whether the run's documents are all done. One invoice's failure does not stop
    the others: it is raised after the chunk (the task fails and says so). A redelivered task
    re-publishes nothing that was done (each step is idempotent). Returns how many."""
    from billing.models import Invoice
    from billing.pdf import BATCH_SIZE, invoice_store_pdf, invoices_render_pdfs
    from billing.services.delivery import invoice_deliver, mail_connection
    from billing.services.run import billing_run_documents_check

    failures: list[Exception] = []
    cpu, wall, batched = time.process_time(), time.perf_counter(), 0
    with mail_connection():  # one SMTP connection for the chunk's e-mails
        for start in range(0, len(invoice_ids), BATCH_SIZE):
            ids = invoice_ids[start:start + BATCH_SIZE]
            unrendered = list(Invoice.objects.filter(pk__in=ids, pdf_sha256="").exclude(status=Invoice.Status.DRAFT)
                              .select_related("legal_entity", "customer").order_by("pk"))
            pdfs = invoices_render_pdfs(unrendered)  # no lock held while rendering
            batched += len(pdfs)
            for invoice_id in ids:
                try:
                    invoice_store_pdf(invoice_id=invoice_id, content=pdfs.pop(invoice_id, None))
                    invoice_deliver(invoice_id=invoice_id)
                except Exception as exc:  # noqa: BLE001 - the others go on; raised below
                    logger.exception("Invoice %s was not published.", invoice_id)
                    failures.append(exc)
    run_ids = set(Invoice.objects.filter(pk__in=invoice_ids[:1]).exclude(billing_run=None)
                  .values_list("billing_run_id", flat=True))
    for run_id in run_ids:  # the run finishes when its last invoice is rendered and delivered
        billing_run_documents_check(run_id)
    # CPU of this process (the benchmark reads it; with the solo pool it is this task's alone)
    logger.info("documents chunk: %s invoices, %s PDFs from batches, %.3f s CPU, %.3f s, %s failed", len(invoice_ids),
                batched, time.process_time() - cpu, time.perf_counter() - wall, len(failures))
    if failures:
        raise failures[0]
    return len(invoice_ids)


# --- credit notes and voids -------------------------------------------------------------------

@shared_task(name="billing.credit_note_publish", **DOCUMENT_TASK)
def credit_note_publish_task(*, credit_note_id: int) -> str:
    """After a credit note is issued: render and store its PDF once, then deliver it once (e-mail
    with the PDF, portal upload task or post, by the customer's channel). Idempotent steps."""
    from billing.services.credit_notes import credit_note_store_pdf
    from billing.services.delivery import credit_note_deliver

    credit_note_store_pdf(credit_note_id=credit_note_id)
    delivery = credit_note_deliver(credit_note_id=credit_note_id)
    return "already delivered" if delivery is None else f"{delivery.channel} {delivery.status}"


@shared_task(name="billing.invoice_void_publish", **DOCUMENT_TASK)
def invoice_void_publish_task(*, invoice_id: int, notify_customer: bool) -> str:
    """After a void: store the VOID copy once; for an invoice that never reached the customer,
    e-mail the cancellation notice with it (a delivered one is cancelled by its credit note, which
    `credit_note_publish_task` delivers)."""
    from billing.pdf import invoice_store_void_pdf
    from billing.services.delivery import invoice_void_notice_deliver

    invoice_store_void_pdf(invoice_id=invoice_id)
    if not notify_customer:
        return "void copy stored"
    delivery = invoice_void_notice_deliver(invoice_id=invoice_id)
    return "already notified" if delivery is None else f"{delivery.channel} {delivery.status}"


@shared_task(name="billing.notify_credit_note_awaiting_approval", acks_late=True, autoretry_for=(OSError,),
             retry_backoff=True, max_retries=5)
def notify_credit_note_awaiting_approval(*, credit_note_id: int) -> int:
    """E-mail the people who may approve a requested credit note (once)."""
    from billing.services.notifications import send_credit_note_awaiting_approval

    return send_credit_note_awaiting_approval(credit_note_id)


# --- billing runs ---------------------------------------------------------------------------------

@shared_task(name="billing.run_generate_chunk", acks_late=True, reject_on_worker_lost=True)
def billing_run_generate_chunk_task(run_id: int, contract_ids: list[int]) -> dict:
    """Generate one chunk of a run's drafts. Idempotent: a redelivered chunk skips the contracts
    it already billed or recorded (billing.services.run)."""
    from billing.services.run import billing_run_generate_chunk

    return billing_run_generate_chunk(run_id=run_id, contract_ids=contract_ids)


@shared_task(name="billing.run_monthly", acks_late=True, reject_on_worker_lost=True)
def billing_run_monthly() -> int:
    """Beat, on the first day of each month: start the run of the current month, which bills the
    periods starting this month in advance and those that ended last month in arrears (with last
    month's usage and milestones; see billing/periods.py). Drafts only: a billing specialist
    checks the exceptions and issues. A second delivery the same month returns the existing run."""
    from billing.models import BillingRun
    from billing.periods import month_start
    from billing.services.monthly import billing_run_monthly_start
    from otc import dates

    period = month_start(dates.today())
    # A run a specialist already started for every entity this month is the month's run; otherwise
    # the scheduled run, claimed by a unique constraint (two deliveries at once make one run).
    existing = BillingRun.objects.filter(period_start=period, legal_entity__isnull=True).order_by("pk").first()
    if existing is not None:
        return existing.pk
    return billing_run_monthly_start(period_start=period).pk


@shared_task(name="billing.run_issue", acks_late=True, reject_on_worker_lost=True)
def billing_run_issue_task(*, run_id: int, by_id: int | None = None) -> int:
    """Issue a run's drafts in the background (the run page's *Issue drafts*); the page polls the
    run's counters. Idempotent: `billing_run_issue` issues only what is still a draft and not on
    hold, chunk by chunk, so a redelivered task after a crash repeats nothing that committed.
    Returns the run's number of issued invoices."""
    from billing.services.run import billing_run_issue
    from otc.models import User

    by = User.objects.filter(pk=by_id).first() if by_id is not None else None
    if by_id is not None and by is None:
        raise ValueError(f"User {by_id} no longer exists; the run was not issued.")
    return billing_run_issue(run_id=run_id, by=by).invoices_issued


@shared_task(name="billing.run_issue_chunk", **DOCUMENT_TASK)
def billing_run_issue_chunk_task(*, run_id: int, legal_entity_id: int, chunks: list[list[int]],
                                 by_id: int | None = None, issue_date: str | None = None) -> int:
    """Issue one chunk of one legal entity's drafts, in parallel with the others (see
    `billing_run_issue`). Idempotent: a redelivered or retried task (a killed worker, a database
    error: retried with backoff) posts the drafts it numbered with the same numbers and issues
    only what is still a draft; a domain refusal is listed on the run, not retried."""
    import datetime as dt

    from billing.services.run import billing_run_issue_chunk
    from otc.models import User

    by = User.objects.filter(pk=by_id).first() if by_id is not None else None
    if by_id is not None and by is None:
        raise ValueError(f"User {by_id} no longer exists; nothing was issued.")
    return billing_run_issue_chunk(run_id=run_id, legal_entity_id=legal_entity_id, chunks=chunks, by=by,
                                   issue_date=dt.date.fromisoformat(issue_date) if issue_date else None)


@shared_task(name="billing.overdue_events", acks_late=True)
def billing_overdue_events() -> int:
    """Daily: announce newly overdue invoices (`invoice.overdue`) once each."""
    from billing.services.events import invoices_emit_overdue

    return invoices_emit_overdue()
