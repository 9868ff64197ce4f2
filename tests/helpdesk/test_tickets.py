"""Tickets: filing (pickers limited to the rep's own records, routing, priority, round-robin),
the status map, replies versus notes, reopening, assignment, watchers, links, merge, rating."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core import mail

from helpdesk.models import Comment, DataChangeRequest, Queue, Ticket, TicketEvent, TicketLink
from helpdesk.services import (
    AttachmentIn,
    ticket_assign,
    ticket_comment,
    ticket_file,
    ticket_link,
    ticket_merge,
    ticket_pick,
    ticket_rate,
    ticket_set_priority,
    ticket_transition,
    ticket_watch,
    tickets_close_resolved,
)
from helpdesk.services.tickets import priority_for
from otc import dates
from otc.errors import InvalidTransition, PermissionDenied, ValidationFailed
from otc.models import StatusChange

pytestmark = pytest.mark.django_db
D = Decimal


def file(w, category="payment_status", by=None, **kw) -> Ticket:
    kw.setdefault("invoice_id", w.invoice.pk)
    return ticket_file(by=by or w.rep, category=category, subject=kw.pop("subject", "Has Kunde Eins paid?"),
                       description=kw.pop("description", "The customer says they paid last week."), **kw)


def test_filing_routes_to_the_entitys_queue_with_priority_and_round_robin(world):
    first = file(world)
    second = file(world)
    assert first.reference.startswith("HD-") and first.reference != second.reference
    assert (first.queue.kind, first.queue.legal_entity_id, first.customer_id) == (
        Queue.Kind.CASH_APPLICATION, world.entity.pk, world.customer.pk)
    assert (first.status, first.priority) == ("new", "low")
    assert {first.assignee_id, second.assignee_id} == {world.agent.pk, world.agent2.pk}
    assert [e.kind for e in first.events.all()] == ["created", "assigned"]
    assert StatusChange.objects.filter(object_id=first.pk, to_state="new").count() == 1
    dispute = file(world, category="dispute", subject="Wrong price")
    assert (dispute.queue.kind, dispute.priority) == (Queue.Kind.COLLECTIONS, "high")
    assert "comes with collections" in dispute.events.get(kind="note").note
    contract_q = ticket_file(by=world.rep, category="other", subject="Hi", description="Question",
                             customer_id=world.customer.pk)
    assert contract_q.queue.kind == Queue.Kind.BILLING


def test_priority_rises_with_amount_and_customer_size(world):
    small = world.customer
    assert priority_for("credit_request", amount=D("500"), customer=small) == "normal"
    assert priority_for("credit_request", amount=D("25000"), customer=small) == "high"
    small.credit_limit = D("250000")
    assert priority_for("credit_request", amount=D("25000"), customer=small) == "urgent"
    assert priority_for("dispute", amount=D("25000"), customer=small) == "urgent"  # capped


def test_a_rep_cannot_file_on_another_reps_customer_or_invoice_and_nothing_is_written(world):
    with pytest.raises(ValidationFailed, match="your customers' invoice"):
        file(world, invoice_id=world.other_invoice.pk)
    with pytest.raises(ValidationFailed, match="your customers' customer"):
        file(world, category="other", invoice_id=None, customer_id=world.other_customer.pk)
    with pytest.raises(PermissionDenied):
        file(world, by=world.specialist)
    assert Ticket.objects.count() == 0 and TicketEvent.objects.count() == 0


def test_category_fields_are_required(world):
    with pytest.raises(ValidationFailed, match="Choose the invoice"):
        file(world, category="credit_request", invoice_id=None, customer_id=world.customer.pk)
    with pytest.raises(ValidationFailed, match="which customer data"):
        file(world, category="data_change", invoice_id=None, customer_id=world.customer.pk, details={"changes": {}})
    ticket = file(world, category="data_change", invoice_id=None, customer_id=world.customer.pk,
                  details={"changes": {"city": "Hamburg", "unknown": "x"}})
    assert DataChangeRequest.objects.get(ticket=ticket).changes == {"city": "Hamburg"}


def test_status_map_and_who_may_move(world):
    ticket = file(world)
    with pytest.raises(PermissionDenied):
        ticket_transition(ticket_id=ticket.pk, by=world.rep, to="open")
    ticket_transition(ticket_id=ticket.pk, by=world.agent, to="waiting_requester")
    ticket_transition(ticket_id=ticket.pk, by=world.agent, to="resolved")
    ticket_transition(ticket_id=ticket.pk, by=world.agent, to="closed")
    with pytest.raises(InvalidTransition, match="closed cannot become open"):
        ticket_transition(ticket_id=ticket.pk, by=world.agent, to="open")
    moves = list(ticket.events.filter(kind="status").values_list("from_value", "to_value"))
    assert moves == [("new", "waiting_requester"), ("waiting_requester", "resolved"), ("resolved", "closed")]


def test_replies_versus_internal_notes(world, django_capture_on_commit_callbacks):
    ticket = file(world)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        ticket_comment(ticket_id=ticket.pk, by=world.agent, body="Checking with the bank.", internal=True)
    assert mail.outbox == []  # a note tells nobody
    with pytest.raises(PermissionDenied):
        ticket_comment(ticket_id=ticket.pk, by=world.rep, body="secret", internal=True)
    with django_capture_on_commit_callbacks(execute=True):
        ticket_comment(ticket_id=ticket.pk, by=world.agent, body="Paid on the 20th.")
    ticket.refresh_from_db()
    assert ticket.status == "open" and ticket.first_response_at is not None
    assert [m.to for m in mail.outbox] == [["sam@otc.example"]]
    assert "[" + ticket.reference + "]" in mail.outbox[0].subject
    assert Comment.objects.filter(ticket=ticket, internal=True).count() == 1


def test_requester_reply_reopens_within_the_window_only(world, settings):
    ticket = file(world)
    ticket_transition(ticket_id=ticket.pk, by=world.agent, to="resolved")
    ticket_comment(ticket_id=ticket.pk, by=world.rep, body="Still not paid per the customer.")
    ticket.refresh_from_db()
    assert ticket.status == "open"
    ticket_transition(ticket_id=ticket.pk, by=world.agent, to="resolved")
    Ticket.objects.filter(pk=ticket.pk).update(resolved_at=dates.now() - dt.timedelta(days=8))
    with pytest.raises(InvalidTransition, match="more than 7 days ago"):
        ticket_comment(ticket_id=ticket.pk, by=world.rep, body="Again")
    assert tickets_close_resolved() == 1
    ticket.refresh_from_db()
    assert ticket.status == "closed"


def test_reply_from_requester_wakes_a_ticket_waiting_on_them(world):
    ticket = file(world)
    ticket_transition(ticket_id=ticket.pk, by=world.agent, to="waiting_requester")
    ticket_comment(ticket_id=ticket.pk, by=world.rep, body="Here is the remittance.",
                   attachments=[AttachmentIn("remittance.pdf", b"%PDF-1.4 test", "application/pdf")])
    ticket.refresh_from_db()
    assert ticket.status == "open" and ticket.attachments.get().size == 13


def test_attachments_refused_by_type_or_size_and_nothing_stored(world, settings):
    ticket = file(world)
    settings.HELPDESK_ATTACHMENT_MAX_BYTES = 100
    with pytest.raises(ValidationFailed, match="not accepted"):
        ticket_comment(ticket_id=ticket.pk, by=world.rep, body="x",
                       attachments=[AttachmentIn("tool.exe", b"MZ", "application/x-msdownload")])
    with pytest.raises(ValidationFailed, match="the limit is"):
        ticket_comment(ticket_id=ticket.pk, by=world.rep, body="x",
                       attachments=[AttachmentIn("big.pdf", b"x" * 101, "application/pdf")])
    assert ticket.comments.count() == 0 and ticket.attachments.count() == 0


def test_assign_pick_and_membership(world):
    ticket = file(world)
    ticket_assign(ticket_id=ticket.pk, by=world.agent, assignee_id=world.agent2.pk)
    ticket_pick(ticket_id=ticket.pk, by=world.agent)
    ticket.refresh_from_db()
    assert ticket.assignee_id == world.agent.pk
    with pytest.raises(ValidationFailed, match="not an agent"):
        ticket_assign(ticket_id=ticket.pk, by=world.agent, assignee_id=world.rep.pk)
    with pytest.raises(PermissionDenied):
        ticket_pick(ticket_id=ticket.pk, by=world.rep)


def test_watchers_links_and_merge(world):
    a, b = file(world), file(world, subject="Duplicate: paid?")
    ticket_watch(ticket_id=a.pk, by=world.agent, user_id=world.auditor.pk)
    with pytest.raises(ValidationFailed, match="may not see"):
        ticket_watch(ticket_id=a.pk, by=world.agent, user_id=world.other_rep.pk)
    ticket_link(ticket_id=a.pk, by=world.agent, reference=b.reference)
    assert TicketLink.objects.filter(from_ticket=a, to_ticket=b, kind="related").exists()
    ticket_merge(ticket_id=b.pk, by=world.agent, into_reference=a.reference)
    b.refresh_from_db()
    assert (b.status, b.merged_into_id) == ("closed", a.pk)
    assert a.watchers.filter(pk=world.rep.pk).exists()
    with pytest.raises(InvalidTransition):
        ticket_comment(ticket_id=b.pk, by=world.rep, body="more")


def test_priority_change_and_rating(world):
    ticket = file(world)
    ticket_set_priority(ticket_id=ticket.pk, by=world.agent, priority="urgent")
    ticket.refresh_from_db()
    assert ticket.priority == "urgent"
    with pytest.raises(InvalidTransition):
        ticket_rate(ticket_id=ticket.pk, score=5)
    ticket_transition(ticket_id=ticket.pk, by=world.agent, to="resolved")
    with pytest.raises(PermissionDenied):
        ticket_rate(ticket_id=ticket.pk, score=5, by=world.agent)
    ticket_rate(ticket_id=ticket.pk, score=4)
    ticket.refresh_from_db()
    assert ticket.satisfaction == 4
