"""Disputes: opening on an invoice or lines within what is open, statuses, resolution by credit note
(billing's request prefilled, closed when the credit note is issued, through the registry hook),
rejection returning the amount to dunning, refusals that write nothing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group

from billing.models import CreditNote
from billing.services import credit_note_approve, credit_note_issue, credit_note_reject
from collections_app.models import Dispute
from collections_app.selectors.exclusions import disputed_amounts
from collections_app.services.disputes import (
    dispute_open,
    dispute_reject,
    dispute_resolve_by_credit_note,
    dispute_start,
    dispute_withdraw,
    disputes_follow_credit_notes,
)
from otc.errors import InvalidTransition, PermissionDenied, ValidationFailed
from otc.models import ApprovalLimit, StatusChange
from otc.registry import registry
from tests.factories.collections_worklist import book, collector
from tests.factories.otc import user_with_role

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def setup(today):
    today(dt.date(2026, 4, 10))
    entity, customer, first, second = book()
    ApprovalLimit.objects.create(kind="credit_note", role=Group.objects.get(name="Finance Manager"), currency="EUR",
                                 max_amount=D("10000.00"))
    return entity, customer, first, second


def test_open_on_lines_sums_them_and_counts_as_disputed(setup):
    _, _, first, _ = setup
    line = first.lines.get()
    dispute = dispute_open(invoice_id=first.pk, by=collector(), reason="price",
                           lines=[{"invoice_line_id": line.pk, "amount": D("119.00")}], description="Wrong rate")
    assert (dispute.amount, dispute.status, dispute.customer_id) == (D("119.00"), "open", first.customer_id)
    assert disputed_amounts(invoice_ids=[first.pk]) == {first.pk: D("119.00")}
    assert dispute.due_date == dt.date(2026, 4, 24)
    assert StatusChange.objects.filter(object_id=dispute.pk, to_state="open").exists()


def test_cannot_dispute_more_than_is_open_and_not_disputed(setup):
    _, _, first, _ = setup
    by = collector()
    dispute_open(invoice_id=first.pk, by=by, reason="price", amount=D("1000.00"))
    with pytest.raises(ValidationFailed, match="exceeds the 190.00 EUR"):
        dispute_open(invoice_id=first.pk, by=by, reason="quantity", amount=D("190.01"))
    with pytest.raises(PermissionDenied):
        dispute_open(invoice_id=first.pk, by=user_with_role("Sales Rep"), reason="price", amount=D("1.00"))
    with pytest.raises(ValidationFailed, match="reason"):
        dispute_open(invoice_id=first.pk, by=by, reason="mood", amount=D("1.00"))
    assert Dispute.objects.count() == 1


def test_resolution_by_credit_note_requests_it_prefilled_and_closes_when_it_is_issued(setup):
    _, _, first, _ = setup
    by = collector()
    line = first.lines.get()
    dispute = dispute_open(invoice_id=first.pk, by=by, reason="price",
                           lines=[{"invoice_line_id": line.pk, "amount": D("119.00")}])
    note = dispute_resolve_by_credit_note(dispute_id=dispute.pk, by=by, explanation="Agreed 10% off")
    dispute.refresh_from_db()
    assert (note.status, note.gross_total, note.reason, note.requested_by_id) == (
        "requested", D("119.00"), "pricing_dispute", by.pk)
    assert (dispute.status, dispute.credit_note_id) == ("in_progress", note.pk)
    # a second request while the first is pending is refused
    with pytest.raises(InvalidTransition, match="requested already"):
        dispute_resolve_by_credit_note(dispute_id=dispute.pk, by=by)
    credit_note_approve(credit_note_id=note.pk, by=user_with_role("Finance Manager"))
    dispute.refresh_from_db()
    assert dispute.status == "in_progress"  # approved is not issued
    credit_note_issue(credit_note_id=note.pk, by=user_with_role("Billing Specialist"), issue_date=dt.date(2026, 4, 10))
    dispute.refresh_from_db()
    assert dispute.status == "resolved_credit" and dispute.resolved_at is not None
    assert disputed_amounts(invoice_ids=[first.pk]) == {}
    first.refresh_from_db()
    assert first.balance_due == D("1071.00")


def test_without_the_hook_the_daily_backstop_closes_it(setup, monkeypatch):
    _, _, first, _ = setup
    by = collector()
    dispute = dispute_open(invoice_id=first.pk, by=by, reason="duplicate")
    note = dispute_resolve_by_credit_note(dispute_id=dispute.pk, by=by)
    assert note.gross_total == D("1190.00")  # the whole invoice
    monkeypatch.setitem(registry.hooks, "credit_note_issued", [])
    credit_note_approve(credit_note_id=note.pk, by=user_with_role("Finance Manager"))
    credit_note_issue(credit_note_id=note.pk, by=user_with_role("Billing Specialist"), issue_date=dt.date(2026, 4, 10))
    assert Dispute.objects.get(pk=dispute.pk).status == "in_progress"
    assert disputes_follow_credit_notes() == 1
    assert Dispute.objects.get(pk=dispute.pk).status == "resolved_credit"


def test_a_rejected_credit_note_leaves_the_dispute_in_progress_and_it_can_be_rejected(setup):
    _, _, first, _ = setup
    by = collector()
    dispute = dispute_open(invoice_id=first.pk, by=by, reason="not_received", amount=D("500.00"))
    note = dispute_resolve_by_credit_note(dispute_id=dispute.pk, by=by)
    with pytest.raises(InvalidTransition, match="rejected in billing first"):
        dispute_reject(dispute_id=dispute.pk, by=by, note="Delivered, POD signed")
    credit_note_reject(credit_note_id=note.pk, by=user_with_role("Finance Manager"), note="POD signed")
    assert CreditNote.objects.get(pk=note.pk).status == "rejected"
    with pytest.raises(ValidationFailed, match="Say why"):
        dispute_reject(dispute_id=dispute.pk, by=by, note=" ")
    dispute_reject(dispute_id=dispute.pk, by=by, note="Delivered, POD signed")
    dispute.refresh_from_db()
    assert (dispute.status, dispute.resolution_note) == ("rejected", "Delivered, POD signed")
    # the amount is dunned again
    assert disputed_amounts(invoice_ids=[first.pk]) == {}
    with pytest.raises(InvalidTransition):
        dispute_withdraw(dispute_id=dispute.pk, by=by)


def test_start_then_withdraw(setup):
    _, _, _, second = setup
    by = collector()
    dispute = dispute_open(invoice_id=second.pk, by=by, reason="po_missing")
    assert dispute.amount == D("595.00")
    dispute_start(dispute_id=dispute.pk, by=by)
    dispute_withdraw(dispute_id=dispute.pk, by=by, note="PO found")
    assert Dispute.objects.get(pk=dispute.pk).status == "withdrawn"
    assert list(StatusChange.objects.filter(object_id=dispute.pk, content_type__model="dispute")
                .values_list("to_state", flat=True)) == ["open", "in_progress", "withdrawn"]
