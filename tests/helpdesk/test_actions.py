"""Answers from the books: the one-click actions do the work in billing and receivables and reply
with the result; a credit request is followed to issued or rejected; a data change is approved by
a billing specialist and updates the customer master with history; the self-service answer."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.urls import reverse

from billing.models import CreditNote, PortalSubmission
from billing.services import credit_note_approve, credit_note_issue, credit_note_reject
from customers.models import Customer
from helpdesk.forms import render_canned
from helpdesk.models import CannedReply, DataChangeRequest, Ticket
from helpdesk.services import (
    action_credit_request,
    action_payment_status,
    action_portal_resend,
    action_send_invoice_copy,
    data_change_approve,
    data_change_reject,
    ticket_file,
    tickets_follow_credit_notes,
)
from otc.errors import InvalidTransition, PermissionDenied
from otc.models import ApprovalLimit
from tests.factories.otc import user_with_role
from tests.factories.queries import queries_for

pytestmark = pytest.mark.django_db
D = Decimal


def file(w, category, **kw):
    kw.setdefault("invoice_id", w.invoice.pk)
    return ticket_file(by=w.rep, category=category, subject=kw.pop("subject", "About the invoice"),
                       description=kw.pop("description", "Please help"), **kw)


def test_send_invoice_copy_mails_the_pdf_attaches_it_and_resolves(world, django_capture_on_commit_callbacks):
    ticket = file(world, "invoice_copy")
    with django_capture_on_commit_callbacks(execute=True):
        action_send_invoice_copy(ticket_id=ticket.pk, by=world.agent)
    ticket.refresh_from_db()
    assert ticket.status == "resolved" and ticket.sla_first_response_met is True
    copy = next(m for m in mail.outbox if "Copy of invoice" in m.subject)
    assert copy.to == ["sam@otc.example"] and copy.attachments[0][0] == f"{world.invoice.number}.pdf"
    assert copy.attachments[0][1].startswith(b"%PDF")
    assert ticket.attachments.get().file_name == f"{world.invoice.number}.pdf"
    reply = ticket.comments.get(source="action")
    assert world.invoice.number in reply.body and not reply.internal
    with pytest.raises(PermissionDenied):
        action_send_invoice_copy(ticket_id=ticket.pk, by=world.rep)


def test_payment_status_answers_with_the_applications_found(world):
    invoice = world.invoice
    ticket = file(world, "payment_status")
    action_payment_status(ticket_id=ticket.pk, by=world.agent)
    body = ticket.comments.get(source="action").body
    assert f"Invoice {invoice.number} (1,190.00 EUR" in body
    assert "No payment has been applied to it yet." in body and "Still due: 1,190.00 EUR" in body
    ticket.refresh_from_db()
    assert ticket.status == "resolved"


def test_payment_status_lists_a_partial_payment_applied_in_receivables(world):
    import datetime as dt

    from receivables.services import bank_account_create, receipt_apply, receipt_record

    cash = user_with_role("Cash Application Specialist")
    account = bank_account_create(legal_entity_id=world.entity.pk, name="Operating EUR", currency="EUR",
                                  account_number="DE89 3704 0044 0532 0130 00", by=user_with_role("Controller"))
    receipt = receipt_record(by=cash, data={"bank_account_id": account.pk, "value_date": dt.date(2026, 4, 20),
                                            "amount": D("500.00"), "customer_id": world.customer.pk,
                                            "payer_name": "KUNDE EINS GMBH", "bank_reference": "B1"})
    receipt_apply(receipt_id=receipt.pk, allocations=[(world.invoice.pk, D("500.00"))], by=cash)
    ticket = file(world, "payment_status")
    action_payment_status(ticket_id=ticket.pk, by=world.agent)
    body = ticket.comments.get(source="action").body
    assert f"- 500.00 EUR received 2026-04-20 from KUNDE EINS GMBH (receipt {receipt.number})" in body
    assert "Still due: 690.00 EUR" in body and "partially paid" in body


def test_a_credit_request_is_followed_to_issued_and_closes_the_ticket(world, django_capture_on_commit_callbacks):
    ApprovalLimit.objects.create(kind="credit_note", role=Group.objects.get(name="Finance Manager"), currency="EUR",
                                 max_amount=D("10000"))
    ticket = file(world, "credit_request", amount=D("100.00"), details={"credit_reason": "billing_error"})
    note = action_credit_request(ticket_id=ticket.pk, by=world.agent, reason="billing_error")
    assert (note.status, note.net_total, note.gross_total, note.requested_by) == ("requested", D("100.00"),
                                                                                 D("119.00"), world.agent)
    ticket.refresh_from_db()
    assert ticket.credit_note_id == note.pk and ticket.status == "open"
    with pytest.raises(InvalidTransition, match="already requested"):
        action_credit_request(ticket_id=ticket.pk, by=world.agent, reason="billing_error")
    assert tickets_follow_credit_notes() == 0  # still awaiting approval
    credit_note_approve(credit_note_id=note.pk, by=user_with_role("Finance Manager"))
    issued = credit_note_issue(credit_note_id=note.pk, by=world.specialist)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert tickets_follow_credit_notes() == 1
    ticket.refresh_from_db()
    assert ticket.status == "resolved"
    last = ticket.comments.order_by("-id").first()
    assert f"Credit note {issued.number} was issued" in last.body and "119.00 EUR" in last.body
    assert any(m.to == ["sam@otc.example"] and "Resolved" in m.subject for m in mail.outbox)  # the rep is told


def test_a_rejected_credit_request_resolves_the_ticket_with_the_reason(world):
    ticket = file(world, "credit_request", amount=D("50.00"))
    note = action_credit_request(ticket_id=ticket.pk, by=world.agent, reason="goodwill")
    credit_note_reject(credit_note_id=note.pk, by=user_with_role("Finance Manager"), note="Not in the contract")
    assert tickets_follow_credit_notes() == 1
    ticket.refresh_from_db()
    assert ticket.status == "resolved" and "Not in the contract" in ticket.comments.order_by("-id").first().body
    assert CreditNote.objects.get(pk=note.pk).status == "rejected"


def test_portal_resend_queues_the_upload(world):
    Customer.objects.filter(pk=world.customer.pk).update(procurement_portal="coupa", portal_supplier_id="S-1",
                                                         invoice_delivery="portal")
    ticket = file(world, "portal_problem")
    action_portal_resend(ticket_id=ticket.pk, by=world.agent)
    submission = PortalSubmission.objects.get(invoice=world.invoice)
    assert submission.status == "pending"
    assert "queued for upload" in ticket.comments.get(source="action").body


def test_a_data_change_is_approved_by_a_billing_specialist_and_updates_the_master_with_history(world):
    ticket = file(world, "data_change", invoice_id=None, customer_id=world.customer.pk,
                  details={"changes": {"city": "Hamburg", "postal_code": "20095", "billing_email": "ap-new@kunde.example"}})
    request = DataChangeRequest.objects.get(ticket=ticket)
    with pytest.raises(PermissionDenied):
        data_change_approve(request_id=request.pk, by=world.agent)
    data_change_approve(request_id=request.pk, by=world.specialist)
    customer = Customer.objects.get(pk=world.customer.pk)
    assert (customer.city, customer.postal_code) == ("Hamburg", "20095")
    assert customer.contacts.get(is_billing_contact=True).email == "ap-new@kunde.example"
    latest = customer.history.order_by("-history_id").first()
    assert latest.history_user == world.specialist and ticket.reference in latest.history_change_reason
    request.refresh_from_db()
    ticket.refresh_from_db()
    assert (request.status, request.decided_by, ticket.status) == ("applied", world.specialist, "resolved")
    assert request.previous["billing_email"] == "ap@kunde.example"
    with pytest.raises(InvalidTransition):
        data_change_reject(request_id=request.pk, by=world.specialist, note="late")


def test_a_rejected_data_change_changes_nothing(world):
    ticket = file(world, "data_change", invoice_id=None, customer_id=world.customer.pk,
                  details={"changes": {"tax_id": "DE999"}})
    request = DataChangeRequest.objects.get(ticket=ticket)
    before = Customer.objects.get(pk=world.customer.pk).tax_id
    data_change_reject(request_id=request.pk, by=world.specialist, note="The tax id does not validate")
    assert Customer.objects.get(pk=world.customer.pk).tax_id == before
    assert Ticket.objects.get(pk=ticket.pk).status == "resolved"


def test_canned_replies_fill_their_placeholders(world):
    ticket = file(world, "invoice_copy")
    body = render_canned("Hi {requester}, {invoice} for {customer} ({reference}). {unknown} -- {agent}", ticket,
                         world.agent)
    assert body == (f"Hi {world.rep.first_name}, {world.invoice.number} for Kunde Eins GmbH ({ticket.reference}). "
                    f"{{unknown}} -- {world.agent.get_full_name()}")


# --- through the pages ----------------------------------------------------------------------------

def test_the_rep_files_through_the_form_after_seeing_the_self_service_answer(client, world):
    client.force_login(world.rep)
    form = client.get(reverse("helpdesk:new_category", args=["payment_status"])).content.decode()
    assert world.invoice.number in form and world.other_invoice.number not in form  # pickers: own invoices only
    answer = client.get(reverse("helpdesk:self_service", args=["payment_status"]), {"invoice": world.invoice.pk})
    assert "No payment has been applied" in answer.content.decode()
    foreign = client.get(reverse("helpdesk:self_service", args=["payment_status"]), {"invoice": world.other_invoice.pk})
    assert "self-service-answer" not in foreign.content.decode()
    response = client.post(reverse("helpdesk:new_category", args=["payment_status"]), {
        "subject": "Paid?", "description": "Customer says yes", "invoice": world.invoice.pk,
        "self_service_shown": "on"})
    ticket = Ticket.objects.get()
    assert response.status_code == 302 and response.url == ticket.get_absolute_url()
    assert "No payment has been applied" in ticket.self_service_answer
    refused = client.post(reverse("helpdesk:new_category", args=["payment_status"]), {
        "subject": "x", "description": "y", "invoice": world.other_invoice.pk})
    assert refused.status_code == 200 and Ticket.objects.count() == 1


def test_the_agent_answers_from_the_ticket_page_with_the_ar_panel(client, world):
    ticket = file(world, "payment_status")
    client.force_login(world.agent)
    page = client.get(reverse("helpdesk:ticket", args=[ticket.reference])).content.decode()
    assert 'data-panel="ledger-balance"' in page and 'data-testid="action-payment-status"' in page
    CannedReply.objects.create(title="Thanks", body="Thanks {requester}")
    response = client.post(reverse("helpdesk:act", args=[ticket.reference, "payment_status"]))
    assert response.status_code == 302
    assert Ticket.objects.get(pk=ticket.pk).status == "resolved"


def test_each_roles_home_shows_its_own_work(client, world):
    file(world, "payment_status")
    client.force_login(world.agent)
    home = client.get(reverse("home")).content.decode()
    assert home.index('data-panel="helpdesk-my-queue"') < home.index('data-panel="customers-attention"')
    assert 'data-panel="helpdesk-my-tickets"' not in home
    client.force_login(world.rep)
    home = client.get(reverse("home")).content.decode()
    assert 'data-panel="helpdesk-my-tickets"' in home and 'data-panel="helpdesk-my-queue"' not in home
    client.force_login(world.specialist)
    assert 'data-panel="helpdesk-data-changes"' in client.get(reverse("home")).content.decode()


def test_the_data_change_page_approves(client, world):
    ticket = file(world, "data_change", invoice_id=None, customer_id=world.customer.pk,
                  details={"changes": {"city": "Hamburg"}})
    request = DataChangeRequest.objects.get(ticket=ticket)
    client.force_login(world.agent)
    assert client.get(reverse("helpdesk:data_changes")).status_code == 403
    assert client.post(reverse("helpdesk:data_change_decide", args=[request.pk, "approve"])).status_code == 403
    client.force_login(world.specialist)
    assert "Hamburg" in client.get(reverse("helpdesk:data_changes")).content.decode()
    client.post(reverse("helpdesk:data_change_decide", args=[request.pk, "approve"]))
    assert Customer.objects.get(pk=world.customer.pk).city == "Hamburg"


def test_metrics_page_and_excel_export(client, world, today):
    import io

    from openpyxl import load_workbook

    ticket = file(world, "payment_status")
    action_payment_status(ticket_id=ticket.pk, by=world.agent)
    client.force_login(world.rep)
    assert client.get(reverse("helpdesk:metrics")).status_code == 403
    client.force_login(world.agent)
    page = client.get(reverse("helpdesk:metrics"), {"since": "2000-01-01", "until": "2100-01-01"}).content.decode()
    assert "Cash application" in page and "chart-data" in page
    export = client.get(reverse("helpdesk:metrics_export"), {"since": "2000-01-01", "until": "2100-01-01",
                                                              "by": "category"})
    book = load_workbook(io.BytesIO(export.content))
    rows = list(book.active.values)
    assert rows[1][0] == "Payment status" and rows[1][1] == 1 and rows[1][6] == 100.0


def test_the_queue_page_runs_a_constant_number_of_queries(client, world, django_assert_max_num_queries):
    client.force_login(world.agent)
    url = reverse("helpdesk:index")

    def count() -> int:
        return queries_for(client, url)

    file(world, "payment_status")
    few = count()
    for _ in range(15):
        file(world, "invoice_copy")
        file(world, "dispute")
    assert count() == few
