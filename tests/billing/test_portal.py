"""Procurement-portal upload tasks: creation for issued invoices, the workflow with its
permission and transition refusals (nothing written), and the worklist selectors."""

from __future__ import annotations

import datetime as dt
from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from billing.models import Invoice, PortalSubmission
from billing.selectors import portal_worklist, portal_worklist_counts
from billing.services.portal import (
    portal_submission_accept,
    portal_submission_ensure,
    portal_submission_mark_uploaded,
    portal_submission_reject,
    portal_submission_resubmit,
)
from otc.errors import InvalidTransition, PermissionDenied, ValidationFailed
from otc.models import OutboxEvent, StatusChange
from tests.factories.billing import InvoiceFactory
from tests.factories.customers import CustomerFactory
from tests.factories.otc import user_with_role

pytestmark = pytest.mark.django_db

Status = PortalSubmission.Status


def issued_portal_invoice(*, portal: str = "ariba", issue_date: dt.date = dt.date(2026, 3, 27), n: int = 1) -> Invoice:
    customer = CustomerFactory(procurement_portal=portal, portal_supplier_id="AN01000000123")
    return InvoiceFactory(customer=customer, status=Invoice.Status.ISSUED, number=f"E01-INV-2026-{n:06d}",
                          issue_date=issue_date, due_date=issue_date + dt.timedelta(days=30))


def task(*, created: dt.date | None = None, **kwargs) -> PortalSubmission:
    """A portal task, created (its created_at, which the database freezes) on `created` if given."""
    invoice = issued_portal_invoice(**kwargs)
    if created is None:
        submission, _ = portal_submission_ensure(invoice_id=invoice.id)
        return submission
    with mock.patch("django.utils.timezone.now", return_value=dt.datetime.combine(created, dt.time(12), tzinfo=dt.UTC)):
        submission, _ = portal_submission_ensure(invoice_id=invoice.id)
    return submission


@pytest.fixture
def specialist():
    return user_with_role("Billing Specialist")


def history(submission: PortalSubmission) -> list[tuple[str, str]]:
    rows = StatusChange.objects.filter(object_id=submission.id, content_type__model="portalsubmission").order_by("id")
    return [(r.from_state, r.to_state) for r in rows]


def topics(submission: PortalSubmission) -> list[str]:
    return list(OutboxEvent.objects.filter(subject_type="portal_submission", subject_id=submission.id)
                .order_by("id").values_list("topic", flat=True))


# --- creation -------------------------------------------------------------------------------

def test_ensure_creates_one_pending_task_due_five_business_days_after_issue():
    invoice = issued_portal_invoice(issue_date=dt.date(2026, 3, 27))  # a Friday

    first, created = portal_submission_ensure(invoice_id=invoice.id)
    again, created_again = portal_submission_ensure(invoice_id=invoice.id)

    assert (created, created_again) == (True, False)
    assert again.pk == first.pk
    assert PortalSubmission.objects.filter(invoice=invoice).count() == 1
    assert first.status == Status.PENDING
    assert first.portal == "ariba"
    assert first.customer_id == invoice.customer_id
    assert first.due_date == dt.date(2026, 4, 3)  # Mon..Fri of the next week
    assert history(first) == [("", "pending")]
    assert topics(first) == ["portal_submission.created"]


@pytest.mark.parametrize("portal, status", [("none", Invoice.Status.ISSUED), ("coupa", Invoice.Status.DRAFT)])
def test_ensure_refuses_customers_without_portal_and_unissued_invoices(portal, status):
    customer = CustomerFactory(procurement_portal=portal, portal_supplier_id="X1" if portal != "none" else "")
    invoice = InvoiceFactory(customer=customer, status=status, number="E01-INV-1" if status != "draft" else "",
                             issue_date=dt.date(2026, 3, 2) if status != "draft" else None)

    with pytest.raises(ValidationFailed):
        portal_submission_ensure(invoice_id=invoice.id)

    assert not PortalSubmission.objects.exists()


# --- workflow -------------------------------------------------------------------------------

def test_upload_reject_resubmit_accept_records_who_when_and_history(specialist):
    submission = task()

    uploaded = portal_submission_mark_uploaded(submission_id=submission.id, by=specialist, portal_reference=" ARB-1 ")
    assert (uploaded.status, uploaded.portal_reference, uploaded.uploaded_by_id) == ("uploaded", "ARB-1", specialist.id)
    assert uploaded.uploaded_at is not None

    rejected = portal_submission_reject(submission_id=submission.id, by=specialist, reason="PO number unknown")
    assert (rejected.status, rejected.rejection_reason) == ("rejected", "PO number unknown")
    assert rejected.decided_at is not None

    resubmitted = portal_submission_resubmit(submission_id=submission.id, by=specialist, portal_reference="ARB-2")
    assert (resubmitted.status, resubmitted.portal_reference) == ("resubmitted", "ARB-2")

    accepted = portal_submission_accept(submission_id=submission.id, by=specialist)

    stored = PortalSubmission.objects.get(pk=submission.id)
    assert accepted.status == stored.status == "accepted"
    assert stored.portal_reference == "ARB-2"
    assert history(stored) == [("", "pending"), ("pending", "uploaded"), ("uploaded", "rejected"),
                               ("rejected", "resubmitted"), ("resubmitted", "accepted")]
    assert StatusChange.objects.get(object_id=stored.id, to_state="rejected").note == "PO number unknown"
    assert topics(stored) == ["portal_submission.created", "portal_submission.uploaded",
                              "portal_submission.rejected", "portal_submission.resubmitted",
                              "portal_submission.accepted"]


def snapshot(submission: PortalSubmission):
    row = PortalSubmission.objects.values().get(pk=submission.id)
    return row, StatusChange.objects.count(), OutboxEvent.objects.count()


@pytest.mark.parametrize("call", [
    lambda s, by: portal_submission_accept(submission_id=s.id, by=by),
    lambda s, by: portal_submission_reject(submission_id=s.id, by=by, reason="Wrong PO"),
    lambda s, by: portal_submission_resubmit(submission_id=s.id, by=by, portal_reference="ARB-9"),
], ids=["accept", "reject", "resubmit"])
def test_transitions_not_allowed_from_pending_are_refused_and_write_nothing(specialist, call):
    submission = task()
    before = snapshot(submission)

    with pytest.raises(InvalidTransition):
        call(submission, specialist)

    assert snapshot(submission) == before


def test_accepted_task_is_final(specialist):
    submission = task()
    portal_submission_mark_uploaded(submission_id=submission.id, by=specialist, portal_reference="ARB-1")
    portal_submission_accept(submission_id=submission.id, by=specialist)
    before = snapshot(submission)

    with pytest.raises(InvalidTransition):
        portal_submission_reject(submission_id=submission.id, by=specialist, reason="late")
    with pytest.raises(InvalidTransition):
        portal_submission_mark_uploaded(submission_id=submission.id, by=specialist, portal_reference="ARB-3")

    assert snapshot(submission) == before


def test_reference_and_reason_are_required(specialist):
    submission = task()
    before = snapshot(submission)

    with pytest.raises(ValidationFailed) as missing_reference:
        portal_submission_mark_uploaded(submission_id=submission.id, by=specialist, portal_reference="  ")
    assert missing_reference.value.fields == {"portal_reference": ["required"]}
    assert snapshot(submission) == before

    portal_submission_mark_uploaded(submission_id=submission.id, by=specialist, portal_reference="ARB-1")
    before = snapshot(submission)
    with pytest.raises(ValidationFailed) as missing_reason:
        portal_submission_reject(submission_id=submission.id, by=specialist, reason="")
    assert missing_reason.value.fields == {"reason": ["required"]}
    assert snapshot(submission) == before


def test_a_sales_rep_cannot_mark_uploaded_and_nothing_is_written():
    submission = task()
    rep = user_with_role("Sales Rep")
    before = snapshot(submission)

    with pytest.raises(PermissionDenied):
        portal_submission_mark_uploaded(submission_id=submission.id, by=rep, portal_reference="ARB-1")
    with pytest.raises(PermissionDenied):
        portal_submission_accept(submission_id=submission.id, by=rep)

    assert snapshot(submission) == before


# --- worklist -------------------------------------------------------------------------------

def test_worklist_orders_by_due_date_with_age_and_overdue_flag(today, specialist):
    today(dt.date(2026, 4, 10))
    late = task(issue_date=dt.date(2026, 3, 2), n=1, created=dt.date(2026, 3, 2))  # due 2026-03-09, pending: overdue
    uploaded = task(issue_date=dt.date(2026, 3, 3), n=2, created=dt.date(2026, 3, 3))  # due 03-10, uploaded: not overdue
    portal_submission_mark_uploaded(submission_id=uploaded.id, by=specialist, portal_reference="ARB-1")
    fresh = task(issue_date=dt.date(2026, 4, 8), portal="coupa", n=3, created=dt.date(2026, 4, 8))  # due 04-15
    done = task(issue_date=dt.date(2026, 3, 1), n=4)
    portal_submission_mark_uploaded(submission_id=done.id, by=specialist, portal_reference="ARB-2")
    portal_submission_accept(submission_id=done.id, by=specialist)

    rows = list(portal_worklist())

    assert [(r.id, r.age_days, r.overdue) for r in rows] == [
        (late.id, 39, True), (uploaded.id, 38, False), (fresh.id, 2, False)]
    assert [r.id for r in portal_worklist(status="pending")] == [late.id, fresh.id]
    assert [r.id for r in portal_worklist(status="accepted")] == [done.id]
    assert [r.id for r in portal_worklist(portal="coupa")] == [fresh.id]
    assert portal_worklist_counts() == {"pending": 2, "uploaded": 1, "accepted": 1, "rejected": 0,
                                        "resubmitted": 0}


def test_worklist_query_count_does_not_grow_with_rows(today, specialist):
    today(dt.date(2026, 4, 10))

    def run() -> int:
        seen = []
        with CaptureQueriesContext(connection) as queries:
            for row in portal_worklist():
                seen.append((row.invoice.number, row.customer.legal_name, row.uploaded_by and row.uploaded_by.username,
                 row.credit_note, row.age_days, row.overdue))
        assert seen
        return len(queries)

    first = task(n=1)
    portal_submission_mark_uploaded(submission_id=first.id, by=specialist, portal_reference="ARB-1")
    few = run()
    for n in range(2, 8):
        submission = task(n=n)
        portal_submission_mark_uploaded(submission_id=submission.id, by=specialist, portal_reference=f"ARB-{n}")

    assert run() == few == 1
