"""Issuing one legal entity's drafts in parallel chunks: numbers are taken per chunk under a
short series lock and posted afterwards in another transaction; a chunk that dies between the
two posts its drafts later with the same numbers (no gap, nothing taken twice)."""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
import signal
import threading

import pytest
from django.core import mail
from django.core.mail.backends import locmem
from django.db import OperationalError, connection, connections
from django.urls import reverse

from billing.models import BillingRun, Invoice
from billing.selectors import run_documents_progress
from billing.services import (
    billing_run_generate_chunk,
    billing_run_issue,
    billing_run_issue_chunk,
    invoice_hold,
)
from billing.services.run import billing_run_documents_check
from ledger.models import JournalEntry, NumberSeries
from ledger.selectors import ar_reconciliation
from otc.errors import InvalidTransition
from tests.factories.billing import de_entity, specialist
from tests.factories.billing_run import MARCH, VAT_ID, contract, run
from tests.factories.customers import ContactFactory, CustomerFactory

ISSUE = dt.date(2026, 3, 31)


def _drafts(entity, n: int) -> tuple[BillingRun, list[int]]:
    ids = sorted(contract(entity).pk for _ in range(n))
    run = BillingRun.objects.create(period_start=MARCH, contracts_total=n)
    billing_run_generate_chunk(run_id=run.pk, contract_ids=ids)
    BillingRun.objects.filter(pk=run.pk).update(status="issuing")
    drafts = sorted(Invoice.objects.filter(billing_run=run).values_list("pk", flat=True))
    assert len(drafts) == n
    return run, drafts


def _next(entity, doc_type: str) -> int:
    return NumberSeries.objects.get(legal_entity=entity, doc_type=doc_type, fiscal_year=2026).next_number


def _numbers(ids: list[int]) -> list[tuple[str, str, str]]:
    return list(Invoice.objects.filter(pk__in=ids).order_by("pk").values_list("number", "journal_number", "status"))


@pytest.mark.django_db
def test_a_chunk_failing_after_its_numbers_were_taken_is_retried_with_the_same_numbers(monkeypatch):
    monkeypatch.setattr("billing.services.invoices.documents_queue", lambda ids: None)
    entity = de_entity()
    run, ids = _drafts(entity, 3)
    BillingRun.objects.filter(pk=run.pk).update(issue_pending=[ids[0]])
    real = __import__("billing.services.invoices", fromlist=["journal_post_batch"]).journal_post_batch

    def lost_connection(**kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr("billing.services.invoices.journal_post_batch", lost_connection)
    with pytest.raises(OperationalError):
        billing_run_issue_chunk(run_id=run.pk, legal_entity_id=entity.pk, chunks=[ids], by=None, issue_date=ISSUE)
    numbered = _numbers(ids)
    assert [n for n, _, _ in numbered] == [f"DE01-INV-2026-{n:06d}" for n in (1, 2, 3)]
    assert [s for _, _, s in numbered] == ["draft"] * 3 and JournalEntry.objects.count() == 0
    assert (_next(entity, "invoice"), _next(entity, "journal")) == (4, 4)
    with pytest.raises(InvalidTransition, match="already has its number"):  # a held number would be a gap
        invoice_hold(invoice_id=ids[0], by=specialist(), reason="check")

    monkeypatch.setattr("billing.services.invoices.journal_post_batch", real)  # the task's retry
    assert billing_run_issue_chunk(run_id=run.pk, legal_entity_id=entity.pk, chunks=[ids], by=None,
                                   issue_date=ISSUE) == 3
    assert _numbers(ids) == [(n, j, "issued") for n, j, _ in numbered]  # the same numbers, now posted
    assert (_next(entity, "invoice"), _next(entity, "journal")) == (4, 4)  # nothing taken twice
    entries = {i.journal_number: i.journal_entry.number for i in Invoice.objects.filter(pk__in=ids)}
    assert all(k == v for k, v in entries.items())
    run.refresh_from_db()
    assert (run.status, run.invoices_issued, run.issue_pending) == ("issued", 3, [])
    assert all(row["difference"] == 0 for row in ar_reconciliation(legal_entity_id=entity.pk))


@pytest.mark.django_db
def test_a_chunk_refused_at_posting_is_issued_one_by_one_with_its_numbers(monkeypatch):
    """A domain refusal in the posting (after the numbering committed) falls back to one draft at
    a time: each is posted with the number its chunk took, none takes a new one."""
    from otc.errors import ValidationFailed

    monkeypatch.setattr("billing.services.invoices.documents_queue", lambda ids: None)
    entity = de_entity()
    run, ids = _drafts(entity, 3)
    BillingRun.objects.filter(pk=run.pk).update(issue_pending=[ids[0]])
    import billing.services.invoices as invoices

    real, seen = invoices.journal_post_batch, []

    def refuse_batches(**kwargs):
        seen.append((len(kwargs["entries"]), _numbers(ids)))
        if len(kwargs["entries"]) > 1:
            raise ValidationFailed("refused as a whole")
        return real(**kwargs)

    monkeypatch.setattr(invoices, "journal_post_batch", refuse_batches)
    assert billing_run_issue_chunk(run_id=run.pk, legal_entity_id=entity.pk, chunks=[ids], by=None,
                                   issue_date=ISSUE) == 3
    expected = [f"DE01-INV-2026-{n:06d}" for n in (1, 2, 3)]
    assert seen[0][0] == 3 and [n for n, _, _ in seen[0][1]] == expected  # numbered, then refused
    assert [[s for _, _, s in numbers].count("draft") for _, numbers in seen[1:]] == [3, 2, 1]  # one by one
    assert [(n, s) for n, _, s in _numbers(ids)] == [(n, "issued") for n in expected]
    assert (_next(entity, "invoice"), _next(entity, "journal")) == (4, 4)
    assert all(row["difference"] == 0 for row in ar_reconciliation(legal_entity_id=entity.pk))


def _killed_between_numbering_and_posting(run_id: int, entity_id: int, ids: list[int]) -> None:
    """A worker process: numbers its chunk, then dies (SIGKILL) inside the posting transaction."""
    connections.close_all()  # never share the parent's socket
    import billing.services.invoices as invoices

    def die(**kwargs):
        os.kill(os.getpid(), signal.SIGKILL)

    invoices.journal_post_batch = die
    billing_run_issue_chunk(run_id=run_id, legal_entity_id=entity_id, chunks=[ids], by=None, issue_date=ISSUE)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_between_numbering_and_posting_leaves_no_gap_and_no_reuse(monkeypatch):
    monkeypatch.setattr("billing.services.invoices.documents_queue", lambda ids: None)
    entity = de_entity()
    run, ids = _drafts(entity, 6)
    first, second = ids[:3], ids[3:]
    BillingRun.objects.filter(pk=run.pk).update(issue_pending=[first[0], second[0]])
    connection.close()
    worker = multiprocessing.get_context("fork").Process(
        target=_killed_between_numbering_and_posting, args=(run.pk, entity.pk, first))
    worker.start()
    worker.join(timeout=60)
    assert worker.exitcode == -signal.SIGKILL
    assert [(n, s) for n, _, s in _numbers(first)] == [(f"DE01-INV-2026-{n:06d}", "draft") for n in (1, 2, 3)]
    assert JournalEntry.objects.count() == 0  # the posting transaction died with the worker

    # Meanwhile another worker issues the next chunk: it takes the next block, not the dead one's.
    assert billing_run_issue_chunk(run_id=run.pk, legal_entity_id=entity.pk, chunks=[second], by=None,
                                   issue_date=ISSUE) == 3
    assert [n for n, _, _ in _numbers(second)] == [f"DE01-INV-2026-{n:06d}" for n in (4, 5, 6)]
    # The broker redelivers the dead worker's task (acks late): the same numbers are posted.
    assert billing_run_issue_chunk(run_id=run.pk, legal_entity_id=entity.pk, chunks=[first], by=None,
                                   issue_date=ISSUE) == 3
    assert [(n, s) for n, _, s in _numbers(ids)] == [(f"DE01-INV-2026-{n:06d}", "issued") for n in range(1, 7)]
    assert (_next(entity, "invoice"), _next(entity, "journal")) == (7, 7)
    assert sorted(JournalEntry.objects.values_list("number", flat=True)) == [
        f"JE-DE01-2026-{n:06d}" for n in range(1, 7)]
    run.refresh_from_db()
    assert (run.status, run.invoices_issued) == ("issued", 6)
    assert all(row["difference"] == 0 for row in ar_reconciliation(legal_entity_id=entity.pk))


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_chunks_of_one_entity_post_side_by_side(monkeypatch):
    """While chunk A is inside its posting transaction (holding whatever it locks), chunk B of
    the same entity takes its numbers and posts to the end: the series is locked only while a
    chunk takes its block, the period only shared."""
    monkeypatch.setattr("billing.services.invoices.documents_queue", lambda ids: None)
    entity = de_entity()
    run, ids = _drafts(entity, 6)
    a, b = ids[:3], ids[3:]
    BillingRun.objects.filter(pk=run.pk).update(issue_pending=[a[0], b[0]])
    import billing.services.invoices as invoices

    real, a_posting, b_done = invoices.journal_post_batch, threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def slow_post(**kwargs):
        entries = real(**kwargs)  # A has written its entries and holds its locks...
        if threading.current_thread().name == "A":
            a_posting.set()
            assert b_done.wait(timeout=30), "chunk B waited for chunk A"  # ...until B has finished
        return entries

    monkeypatch.setattr(invoices, "journal_post_batch", slow_post)

    def work(chunk: list[int], wait: threading.Event | None) -> None:
        try:
            if wait is not None:
                assert wait.wait(timeout=30)
            billing_run_issue_chunk(run_id=run.pk, legal_entity_id=entity.pk, chunks=[chunk], by=None, issue_date=ISSUE)
            if wait is not None:
                b_done.set()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(a, None), name="A"),
               threading.Thread(target=work, args=(b, a_posting), name="B")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert [n for n, _, _ in _numbers(a)] == [f"DE01-INV-2026-{n:06d}" for n in (1, 2, 3)]
    assert [n for n, _, _ in _numbers(b)] == [f"DE01-INV-2026-{n:06d}" for n in (4, 5, 6)]
    assert {s for _, _, s in _numbers(ids)} == {"issued"}
    run.refresh_from_db()
    assert (run.status, run.invoices_issued) == ("issued", 6)
    assert all(row["difference"] == 0 for row in ar_reconciliation(legal_entity_id=entity.pk))


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_redelivered_chunk_running_alongside_the_first_delivery_posts_nothing_twice(monkeypatch):
    """A redelivered task (acks late) starts while the first delivery is still posting the same
    chunk: it waits for the first to commit and then finds nothing left to post."""
    import time

    monkeypatch.setattr("billing.services.invoices.documents_queue", lambda ids: None)
    entity = de_entity()
    run, ids = _drafts(entity, 3)
    BillingRun.objects.filter(pk=run.pk).update(issue_pending=[ids[0]])
    import billing.services.invoices as invoices

    real_post = invoices.journal_post_batch
    a_posting, b_started = threading.Event(), threading.Event()
    results: dict[str, int] = {}
    errors: list[BaseException] = []

    def slow_post(**kwargs):
        entries = real_post(**kwargs)
        if threading.current_thread().name == "A":
            a_posting.set()
            assert b_started.wait(timeout=30), "the redelivery never started"
            time.sleep(1)  # the redelivery runs meanwhile, and must wait for this posting
        return entries

    monkeypatch.setattr(invoices, "journal_post_batch", slow_post)

    def work(name: str, wait: threading.Event | None) -> None:
        try:
            if wait is not None:
                assert wait.wait(timeout=30)
                b_started.set()
            results[name] = billing_run_issue_chunk(run_id=run.pk, legal_entity_id=entity.pk, chunks=[ids], by=None,
                                                    issue_date=ISSUE)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=("A", None), name="A"),
               threading.Thread(target=work, args=("B", a_posting), name="B")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert results == {"A": 3, "B": 0}
    assert [(n, s) for n, _, s in _numbers(ids)] == [(f"DE01-INV-2026-{n:06d}", "issued") for n in (1, 2, 3)]
    assert JournalEntry.objects.count() == 3
    assert (_next(entity, "invoice"), _next(entity, "journal")) == (4, 4)
    run.refresh_from_db()
    assert (run.status, run.invoices_issued) == ("issued", 3)


@pytest.mark.django_db
def test_run_issue_enqueues_every_chunk_round_robin_over_the_entities(monkeypatch, django_capture_on_commit_callbacks):
    monkeypatch.setattr("billing.services.invoices.documents_queue", lambda ids: None)
    de, at = de_entity("DE01"), de_entity("AT01")
    contracts = [contract(entity).pk for entity, n in ((de, 5), (at, 2)) for _ in range(n)]
    run = BillingRun.objects.create(period_start=MARCH, contracts_total=7)
    billing_run_generate_chunk(run_id=run.pk, contract_ids=contracts)
    BillingRun.objects.filter(pk=run.pk).update(status="generated")
    sent = []
    monkeypatch.setattr("billing.tasks.billing_run_issue_chunk_task.delay", lambda **kw: sent.append(kw))
    billing_run_issue(run_id=run.pk, by=None, issue_date=ISSUE, chunk_size=2)
    assert [(kw["legal_entity_id"], len(kw["chunks"][0])) for kw in sent] == [
        (de.pk, 2), (at.pk, 2), (de.pk, 2), (de.pk, 1)]
    run.refresh_from_db()
    assert run.issue_pending == [kw["chunks"][0][0] for kw in sent]
    for kw in sent:  # two workers, any order: the last chunk to finish marks the run issued
        billing_run_issue_chunk(run_id=kw["run_id"], legal_entity_id=kw["legal_entity_id"], chunks=kw["chunks"],
                                by=None, issue_date=ISSUE)
    run.refresh_from_db()
    assert (run.status, run.invoices_issued, run.issue_pending) == ("issued", 7, [])
    assert sorted(Invoice.objects.filter(legal_entity=de).values_list("number", flat=True)) == [
        f"DE01-INV-2026-{n:06d}" for n in range(1, 6)]


class CountingBackend(locmem.EmailBackend):
    """locmem that counts the connections made (one per e-mail without batching)."""

    made = 0

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        CountingBackend.made += 1


@pytest.mark.django_db
def test_month_end_finishes_when_every_invoice_is_rendered_and_delivered(settings, tmp_path, client,
                                                                          django_capture_on_commit_callbacks):
    """Issued, rendered, e-mailed (one mail connection per documents chunk), portal-ready and
    to post: the run page counts each, and the month-end is finished only when all are done."""
    settings.MEDIA_ROOT = tmp_path
    settings.EMAIL_BACKEND = f"{__name__}.CountingBackend"
    CountingBackend.made = 0
    entity = de_entity()
    emailed = []
    for _ in range(3):
        c = contract(entity)
        ContactFactory(customer=c.customer, email=f"ap{c.pk}@kunde.example")
        emailed.append(c)
    contract(entity, cust=CustomerFactory(country="DE", tax_id=VAT_ID, procurement_portal="ariba",
                                          invoice_delivery="portal"))
    contract(entity, cust=CustomerFactory(country="DE", tax_id=VAT_ID, invoice_delivery="post"))
    started = run(capture=django_capture_on_commit_callbacks)
    assert started.documents_done_at is None
    with django_capture_on_commit_callbacks(execute=True):
        billing_run_issue(run_id=started.pk, by=None, issue_date=ISSUE, chunk_size=10)
    started.refresh_from_db()
    assert started.status == "issued" and started.documents_done_at is not None
    progress = run_documents_progress(run_id=started.pk)
    assert progress == {"issued": 5, "rendered": 5, "delivered": 3, "post": 1, "failed": 0, "portal_ready": 1,
                        "done": 5}
    assert len(mail.outbox) == 3 and CountingBackend.made == 1  # three e-mails, one connection
    client.force_login(specialist())
    partial = client.get(reverse("billing:run_progress", args=[started.pk])).content.decode()
    assert "5 rendered · 3 e-mailed · 1 portal-ready · 1 to post · 5 of 5 done" in partial
    assert "month-end finished" in partial and "hx-trigger" not in partial  # no more polling


@pytest.mark.django_db
def test_month_end_is_not_finished_while_documents_are_outstanding(monkeypatch, django_capture_on_commit_callbacks):
    monkeypatch.setattr("billing.services.invoices.documents_queue", lambda ids: None)  # the queue is behind
    entity = de_entity()
    contract(entity)
    started = run(capture=django_capture_on_commit_callbacks)
    billing_run_issue(run_id=started.pk, by=None, issue_date=ISSUE)
    started.refresh_from_db()
    assert started.status == "issued" and started.documents_done_at is None
    assert billing_run_documents_check(started.pk) is False
    from billing.tasks import invoices_publish_task

    invoices_publish_task(invoice_ids=list(Invoice.objects.filter(billing_run=started).values_list("pk", flat=True)))
    started.refresh_from_db()
    assert started.documents_done_at is not None


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_period_close_waits_for_the_postings_that_share_the_period(monkeypatch):
    """Postings lock the period FOR SHARE (so chunks post side by side); a close locks it FOR
    UPDATE, so it still waits for a posting under way and finds the books tied."""
    import time

    from ledger.models import Period
    from ledger.services import period_close
    from tests.factories.otc import user_with_role

    monkeypatch.setattr("billing.services.invoices.documents_queue", lambda ids: None)
    entity = de_entity()
    run, ids = _drafts(entity, 2)
    BillingRun.objects.filter(pk=run.pk).update(issue_pending=[ids[0]])
    period = Period.objects.get(legal_entity=entity, year=2026, month=3)
    controller = user_with_role("Controller")
    import billing.services.invoices as invoices

    real, posting, finished = invoices.journal_post_batch, threading.Event(), {}
    errors: list[BaseException] = []

    def slow_post(**kwargs):
        entries = real(**kwargs)
        posting.set()
        time.sleep(1.5)  # the close is waiting meanwhile
        finished["posted"] = time.monotonic()  # the commit follows
        return entries

    monkeypatch.setattr(invoices, "journal_post_batch", slow_post)

    def issue() -> None:
        try:
            billing_run_issue_chunk(run_id=run.pk, legal_entity_id=entity.pk, chunks=[ids], by=None, issue_date=ISSUE)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    def close() -> None:
        try:
            assert posting.wait(timeout=30)
            period_close(period_id=period.pk, by=controller)
            finished["close"] = time.monotonic()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=issue), threading.Thread(target=close)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert finished["close"] > finished["posted"]  # the close waited for the posting's commit
    period.refresh_from_db()
    assert period.status == "closed"
    assert set(JournalEntry.objects.values_list("period_id", flat=True)) == {period.pk}
