"""Credit-note pages: the request form (whole invoice, chosen lines, an amount) with exact
amounts, the service's refusals on the form, segregation of duties on the detail page (no
button, and a POST refused with the state unchanged), approve then issue (states, posting,
invoice balance), reject with a note, the list with its filters, downloads, who is refused."""

from __future__ import annotations

import hashlib
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from billing.models import CreditNote
from billing.services import credit_note_approve, credit_note_request
from ledger.selectors import ar_reconciliation
from otc.models import ApprovalLimit, User
from tests.factories.billing import de_entity, draft, issued
from tests.factories.customers import CustomerFactory
from tests.factories.otc import user_with_role
from tests.factories.queries import queries_for

pytestmark = pytest.mark.django_db
D = Decimal
LINES = [
    {"description": "Subscription", "quantity": D("1"), "unit_price": D("100.00"), "tax_category": "digital"},
    {"description": "Books", "quantity": D("2"), "unit_price": D("100.00"), "tax_category": "reduced",
     "revenue_account_code": "4200"},
    {"description": "Consulting", "quantity": D("1"), "unit_price": D("100.00"), "tax_category": "services"},
]  # net 400.00, tax 19.00 + 14.00 + 19.00 = 52.00, gross 452.00


@pytest.fixture
def invoice():
    entity = de_entity()
    invoice = issued(entity, lines=LINES)
    assert invoice.gross_total == D("452.00")
    for role, limit in (("Billing Specialist", "100.00"), ("Finance Manager", "10000.00")):
        ApprovalLimit.objects.create(kind="credit_note", role=Group.objects.get(name=role), currency="EUR",
                                     max_amount=D(limit))
    return invoice


def login(client, role: str) -> User:
    user = user_with_role(role)
    client.force_login(user)
    return user


def form(scope: str = "whole", **fields) -> dict[str, str]:
    return {"scope": scope, "amount": "", "reason": "billing_error", "explanation": "Billed twice", **fields}


def lines_by_name(invoice) -> dict:
    return {line.description: line for line in invoice.lines.all()}


def request_note(invoice, by: User, **kwargs) -> CreditNote:
    return credit_note_request(invoice_id=invoice.pk, by=by, reason="goodwill", explanation="Outage in March",
                               **kwargs)


def detail(client, note) -> str:
    return client.get(reverse("billing:credit_note_detail", args=[note.pk])).content.decode()


def ok() -> bool:
    return all(row["difference"] == 0 for row in ar_reconciliation())


# --- request --------------------------------------------------------------------------------------

def test_request_the_whole_invoice_through_the_form(client, invoice):
    collector = login(client, "Collector")
    page = client.get(reverse("billing:credit_note_request", args=[invoice.pk])).content.decode()
    assert '<span data-testid="remaining">452.00 EUR</span>' in page
    response = client.post(reverse("billing:credit_note_request", args=[invoice.pk]), form())
    note = CreditNote.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("billing:credit_note_detail", args=[note.pk])
    assert (note.status, note.net_total, note.tax_total, note.gross_total) == ("requested", D("400.00"), D("52.00"),
                                                                              D("452.00"))
    assert (note.requested_by_id, note.reason, note.explanation) == (collector.pk, "billing_error", "Billed twice")


def test_request_chosen_lines_by_quantity_or_net(client, invoice):
    lines = lines_by_name(invoice)
    login(client, "Help Desk Agent")
    client.post(reverse("billing:credit_note_request", args=[invoice.pk]), form(
        "lines", **{f"qty_{lines['Books'].pk}": "1", f"net_{lines['Consulting'].pk}": "50.00"}))
    note = CreditNote.objects.get()
    # one book: 100.00 + 7% ; half the consulting: 50.00 + 19%
    assert [(ln.description, ln.quantity, ln.net_amount, ln.tax_amount) for ln in note.lines.order_by("position")] == [
        ("Books", D("1"), D("100.00"), D("7.00")), ("Consulting", D("1"), D("50.00"), D("9.50"))]
    assert note.gross_total == D("166.50")


def test_request_an_amount_spread_over_the_lines(client, invoice):
    login(client, "Collector")
    client.post(reverse("billing:credit_note_request", args=[invoice.pk]), form("amount", amount="100.00"))
    note = CreditNote.objects.get()
    assert (note.net_total, note.tax_total, note.gross_total) == (D("100.00"), D("13.00"), D("113.00"))


def test_request_refusals_show_on_the_form_and_write_nothing(client, invoice):
    lines = lines_by_name(invoice)
    login(client, "Collector")
    url = reverse("billing:credit_note_request", args=[invoice.pk])
    # more than the invoice: the service's message
    body = client.post(url, form("amount", amount="500.00")).content.decode()
    assert "exceeds the" in body and "that remains uncredited" in body
    # shape: three decimals in EUR, both a quantity and an amount, nothing chosen, no explanation
    body = client.post(url, form("amount", amount="10.005")).content.decode()
    assert "more than 2 decimal places" in body
    body = client.post(url, form("lines", **{f"qty_{lines['Books'].pk}": "1",
                                             f"net_{lines['Books'].pk}": "5.00"})).content.decode()
    assert "Give a quantity or a net amount, not both." in body
    body = client.post(url, form("lines")).content.decode()
    assert "Give a quantity or a net amount on at least one line." in body
    assert "This field is required." in client.post(url, form(explanation="")).content.decode()
    # more units than invoiced on a line
    body = client.post(url, form("lines", **{f"qty_{lines['Books'].pk}": "3"})).content.decode()
    assert "credit between 0 and 2" in body
    assert not CreditNote.objects.exists()


def test_request_refused_on_a_draft_and_without_permission(client, invoice):
    a_draft = draft(invoice.legal_entity)
    login(client, "Collector")
    response = client.post(reverse("billing:credit_note_request", args=[a_draft.pk]), form(), follow=True)
    assert "only issued invoices can be credited" in response.content.decode()
    login(client, "Auditor")
    assert client.get(reverse("billing:credit_note_request", args=[invoice.pk])).status_code == 403
    assert client.post(reverse("billing:credit_note_request", args=[invoice.pk]), form()).status_code == 403
    assert not CreditNote.objects.exists()


def test_invoice_page_offers_the_request_only_to_who_may_request(client, invoice):
    url = reverse("billing:credit_note_request", args=[invoice.pk])
    login(client, "Collector")
    assert url in client.get(reverse("billing:invoice_detail", args=[invoice.pk])).content.decode()
    login(client, "Auditor")
    assert url not in client.get(reverse("billing:invoice_detail", args=[invoice.pk])).content.decode()


# --- segregation of duties, approve, issue, reject -----------------------------------------------

def test_requester_sees_no_approve_button_and_cannot_approve(client, invoice):
    # given a billing specialist (who may approve up to 100.00) requesting 56.51
    specialist = login(client, "Billing Specialist")
    note = request_note(invoice, specialist, amount=D("50.00"))
    assert note.gross_total == D("56.51")
    # then their page has no Approve button and says another person approves
    page = detail(client, note)
    assert reverse("billing:credit_note_approve", args=[note.pk]) not in page
    assert ">Approve</button>" not in page
    assert "You requested this credit note: another person approves it." in page
    # and a forged POST is refused with the service's message, the state unchanged
    response = client.post(reverse("billing:credit_note_approve", args=[note.pk]), follow=True)
    assert "You requested this credit note; another person must decide on it." in response.content.decode()
    note.refresh_from_db()
    assert (note.status, note.decided_by_id) == ("requested", None)


def test_approve_then_issue_changes_states_and_posts(client, invoice):
    # given a collector's request for the whole invoice
    note = request_note(invoice, user_with_role("Collector"))
    # a finance manager sees Approve and Reject, not Issue, and approves
    manager = login(client, "Finance Manager")
    page = detail(client, note)
    assert ">Approve</button>" in page and ">Reject</button>" in page and ">Issue</button>" not in page
    response = client.post(reverse("billing:credit_note_approve", args=[note.pk]), follow=True)
    assert f"Credit note request #{note.pk} approved" in response.content.decode()
    note.refresh_from_db()
    assert (note.status, note.decided_by_id) == ("approved", manager.pk)
    # the manager may not issue
    assert client.post(reverse("billing:credit_note_issue", args=[note.pk])).status_code == 403
    # a billing specialist sees Issue and issues it
    login(client, "Billing Specialist")
    assert ">Issue</button>" in detail(client, note)
    response = client.post(reverse("billing:credit_note_issue", args=[note.pk]), follow=True)
    note.refresh_from_db()
    invoice.refresh_from_db()
    assert note.status == "issued" and note.number.startswith("DE01-")
    assert note.journal_entry_id is not None
    assert f"Credit note {note.number} issued and posted." in response.content.decode()
    assert (invoice.amount_credited, invoice.balance_due, invoice.status) == (D("452.00"), D("0.00"), "paid")
    assert ok()
    # the page shows the number, the ledger entry, the invoice link; UBL download, no more buttons
    page = detail(client, note)
    assert reverse("ledger:journal_detail", args=[note.journal_entry_id]) in page
    assert reverse("billing:invoice_detail", args=[invoice.pk]) in page
    assert reverse("billing:credit_note_ubl", args=[note.pk]) in page
    assert ">Issue</button>" not in page and ">Approve</button>" not in page
    ubl = client.get(reverse("billing:credit_note_ubl", args=[note.pk]))
    assert ubl.status_code == 200 and note.number.encode() in ubl.content
    # issuing twice is refused with a message, nothing posted again
    response = client.post(reverse("billing:credit_note_issue", args=[note.pk]), follow=True)
    assert response.status_code == 200
    invoice.refresh_from_db()
    assert invoice.amount_credited == D("452.00")


def test_over_the_limit_approval_is_refused_with_a_message(client, invoice):
    note = request_note(invoice, user_with_role("Collector"))  # 452.00 > the specialist's 100.00
    login(client, "Billing Specialist")
    response = client.post(reverse("billing:credit_note_approve", args=[note.pk]), follow=True)
    assert "exceeds your approval limit" in response.content.decode()
    note.refresh_from_db()
    assert note.status == "requested"


def test_reject_needs_a_note(client, invoice):
    note = request_note(invoice, user_with_role("Collector"))
    login(client, "Finance Manager")
    url = reverse("billing:credit_note_reject", args=[note.pk])
    response = client.post(url, {"note": ""}, follow=True)
    assert "Say why the credit note is rejected." in response.content.decode()
    note.refresh_from_db()
    assert note.status == "requested"
    client.post(url, {"note": "Not billed twice: two sites"})
    note.refresh_from_db()
    assert (note.status, note.decision_note) == ("rejected", "Not billed twice: two sites")
    assert "Not billed twice: two sites" in detail(client, note)


def test_users_without_the_permission_get_403_and_nothing_changes(client, invoice):
    note = request_note(invoice, user_with_role("Collector"))
    login(client, "Collector")  # may request, not approve or issue
    assert client.post(reverse("billing:credit_note_approve", args=[note.pk])).status_code == 403
    assert client.post(reverse("billing:credit_note_reject", args=[note.pk]), {"note": "x"}).status_code == 403
    credit_note_approve(credit_note_id=note.pk, by=user_with_role("Finance Manager"))
    login(client, "Auditor")
    assert client.post(reverse("billing:credit_note_issue", args=[note.pk])).status_code == 403
    note.refresh_from_db()
    assert (note.status, note.number, note.journal_entry_id) == ("approved", "", None)


def test_sales_rep_sees_only_own_customers_credit_notes(client, invoice):
    rep = user_with_role("Sales Rep")
    theirs = request_note(invoice, user_with_role("Collector"))
    own_invoice = issued(invoice.legal_entity, customer=CustomerFactory(country="DE", sales_owner=rep), lines=LINES)
    mine = request_note(own_invoice, user_with_role("Collector"))
    client.force_login(rep)
    body = client.get(reverse("billing:credit_notes")).content.decode()
    assert reverse("billing:credit_note_detail", args=[mine.pk]) in body
    assert reverse("billing:credit_note_detail", args=[theirs.pk]) not in body
    assert client.get(reverse("billing:credit_note_detail", args=[theirs.pk])).status_code == 404


# --- list, downloads ------------------------------------------------------------------------------

def test_list_filters_and_awaiting_my_approval(client, invoice):
    collector = user_with_role("Collector")
    big = request_note(invoice, collector, amount=D("100.00"))   # 113.00
    small = request_note(invoice, collector, amount=D("50.00"))  # 56.51
    rejected = request_note(invoice, collector, amount=D("10.00"))
    CreditNote.objects.filter(pk=rejected.pk).update(status="rejected", reason="duplicate")
    login(client, "Billing Specialist")  # limit 100.00

    def rows(**params) -> set[int]:
        body = client.get(reverse("billing:credit_notes"), params).content.decode()
        return {n.pk for n in (big, small, rejected) if reverse("billing:credit_note_detail", args=[n.pk]) in body}

    assert rows() == {big.pk, small.pk, rejected.pk}
    assert rows(awaiting_me="on") == {small.pk}
    assert rows(status="rejected") == {rejected.pk}
    assert rows(reason="duplicate") == {rejected.pk}
    assert rows(q=invoice.customer.legal_name) == {big.pk, small.pk, rejected.pk}
    assert rows(q="nobody-like-this") == set()
    assert rows(legal_entity=str(invoice.legal_entity_id), status="requested") == {big.pk, small.pk}
    # the dashboard panel links to the same filter
    assert "?awaiting_me=on" in client.get(reverse("home")).content.decode()


def test_list_query_count_does_not_grow(client, invoice):
    collector = user_with_role("Collector")
    login(client, "Finance Manager")
    for _ in range(2):
        request_note(invoice, collector, amount=D("1.00"))
    few = queries_for(client, reverse("billing:credit_notes"), {"awaiting_me": "on"})
    for _ in range(8):
        request_note(invoice, collector, amount=D("1.00"))
    with CaptureQueriesContext(connection) as many:
        response = client.get(reverse("billing:credit_notes"), {"awaiting_me": "on"})
    assert response.content.decode().count("billing/credit-notes/") >= 10
    assert len(many) == few


def test_pdf_download_returns_the_stored_bytes(client, invoice, settings, tmp_path):
    from django.core.files.base import ContentFile

    settings.MEDIA_ROOT = tmp_path
    note = request_note(invoice, user_with_role("Collector"))
    login(client, "Billing Specialist")
    assert client.get(reverse("billing:credit_note_pdf", args=[note.pk])).status_code == 404
    assert client.get(reverse("billing:credit_note_ubl", args=[note.pk])).status_code == 404
    CreditNote.objects.filter(pk=note.pk).update(status="issued", number="DE01-CN-2026-000001")
    note.refresh_from_db()
    note.pdf.save("x.pdf", ContentFile(b"%PDF-1.7 credit note"), save=False)
    note.pdf_sha256 = hashlib.sha256(b"%PDF-1.7 credit note").hexdigest()  # as credit_note_store_pdf stores it
    note.save(update_fields=["pdf", "pdf_sha256"])
    response = client.get(reverse("billing:credit_note_pdf", args=[note.pk]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"%PDF-1.7 credit note"
    assert reverse("billing:credit_note_pdf", args=[note.pk]) in detail(client, note)


def test_nav_has_credit_notes(client, invoice):
    login(client, "Collector")
    assert reverse("billing:credit_notes") in client.get(reverse("billing:invoices")).content.decode()


def test_an_over_long_rejection_note_is_refused_with_its_limit_not_dropped(client, invoice):
    note = request_note(invoice, user_with_role("Collector"))
    login(client, "Finance Manager")

    page = client.post(reverse("billing:credit_note_reject", args=[note.pk]), {"note": "x" * 5001},
                       follow=True).content.decode()

    assert "at most 5000 characters (it has 5001)" in page and "Say why" not in page
    note.refresh_from_db()
    assert (note.status, note.decision_note) == ("requested", "")
