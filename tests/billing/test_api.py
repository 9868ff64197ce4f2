"""/api/v1/invoices/ and /api/v1/credit-notes/: exact amounts and derived payment status, filters,
PDF and UBL downloads, credit-note requests (shapes, idempotency, refusals in the error shape),
scopes, sales-rep scoping and query counts."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest

from billing.models import CreditNote, CreditNoteLine, Invoice
from billing.services import invoice_hold, invoices_issue
from customers.models import Customer
from otc.models import IdempotencyKey
from tests.factories.billing import de_entity, draft, issued
from tests.factories.customers import CustomerFactory
from tests.factories.otc import integration_client, user_with_role
from tests.factories.queries import queries_for

pytestmark = pytest.mark.django_db
D = Decimal
INVOICES, CREDIT_NOTES = "/api/v1/invoices/", "/api/v1/credit-notes/"
TODAY = dt.date(2026, 4, 15)  # the invoices below are issued 2026-03-31, due 2026-04-30
LINES = [
    {"description": "Subscription", "quantity": D("1"), "unit_price": D("100.00"), "tax_category": "digital"},
    {"description": "Books", "quantity": D("2"), "unit_price": D("100.00"), "tax_category": "reduced",
     "revenue_account_code": "4200"},
    {"description": "Consulting", "quantity": D("1"), "unit_price": D("100.00"), "tax_category": "services"},
]  # net 400.00, tax 19.00 + 14.00 + 19.00 = 52.00, gross 452.00


@pytest.fixture
def entity(today):
    today(TODAY)
    return de_entity()


def customer(**kwargs) -> Customer:
    return CustomerFactory(country="DE", **kwargs)


def token_client(api_client, *scopes: str, name: str = "ERP"):
    _, token = integration_client(scopes=list(scopes), name=name)
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return api_client


@pytest.fixture
def erp(api_client, entity):
    """An integration holding every billing scope."""
    return token_client(api_client, "invoices:read", "credit_notes:read", "credit_notes:write")


def _post(client, url, body, **headers):
    return client.post(url, data=json.dumps(body), content_type="application/json", **headers)


def ids(client, url: str) -> list[int]:
    response = client.get(url)
    assert response.status_code == 200, response.json()
    return sorted(row["id"] for row in response.json()["results"])


def file_bytes(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


# --- invoices: read ------------------------------------------------------------------------------

def test_list_and_detail_amounts_exact_to_the_cent(erp, entity):
    buyer = customer(legal_name="Kunde Eins GmbH")
    invoice = issued(entity, customer=buyer, lines=LINES, po_number="PO-77")

    listed = erp.get(INVOICES).json()
    detail = erp.get(f"{INVOICES}{invoice.pk}/").json()

    assert listed["count"] == 1
    row = listed["results"][0]
    assert (row["number"], row["status"], row["currency"], row["po_number"]) == (invoice.number, "issued", "EUR", "PO-77")
    assert row["customer"] == {"id": buyer.pk, "account_number": buyer.account_number, "name": "Kunde Eins GmbH"}
    assert (row["legal_entity_id"], row["legal_entity"]) == (entity.pk, "DE01")  # one shape: code, id readable
    assert (row["issue_date"], row["due_date"], row["service_start"], row["service_end"]) == (
        "2026-03-31", "2026-04-30", "2026-03-01", "2026-03-31")
    assert [row[k] for k in ("net_total", "tax_total", "gross_total", "amount_credited", "amount_paid",
                             "balance_due")] == ["400.00", "52.00", "452.00", "0.00", "0.00", "452.00"]
    assert (row["payment_status"], row["overdue"], row["days_overdue"]) == ("unpaid", False, 0)
    assert (row["on_hold"], row["contract"], row["billing_period"]) == (False, None, None)
    assert row["pdf_url"] == f"http://testserver{INVOICES}{invoice.pk}/pdf/"
    assert row["ubl_url"] == f"http://testserver{INVOICES}{invoice.pk}/ubl/"
    assert "lines" not in row

    assert {k: v for k, v in detail.items() if k not in ("lines", "credit_notes", "notes", "payments")} == row
    assert [(ln["position"], ln["description"], ln["quantity"], ln["unit_price"], ln["net_amount"], ln["tax_rate"],
             ln["tax_amount"], ln["revenue_account_code"]) for ln in detail["lines"]] == [
        (1, "Subscription", "1.0000", "100.00", "100.00", "19.0000", "19.00", "4000"),
        (2, "Books", "2.0000", "100.00", "200.00", "7.0000", "14.00", "4200"),
        (3, "Consulting", "1.0000", "100.00", "100.00", "19.0000", "19.00", "4000"),
    ]
    codes = {line.position: line.tax_code.code for line in invoice.lines.select_related("tax_code")}
    assert [ln["tax_code"] for ln in detail["lines"]] == [codes[1], codes[2], codes[3]]
    assert detail["credit_notes"] == []


def test_payment_status_overdue_and_credit_notes_on_the_invoice(erp, entity, today):
    invoice = issued(entity, lines=LINES)
    note = _post(erp, CREDIT_NOTES, {"invoice_id": invoice.pk, "reason": "goodwill", "explanation": "Outage",
                                     "amount": "100.00"}).json()
    # Receipts are applied by the receivables app; here the invoice row is set as a receipt would leave it.
    Invoice.objects.filter(pk=invoice.pk).update(amount_paid=D("200.00"), status=Invoice.Status.PARTIALLY_PAID)
    today(dt.date(2026, 5, 10))

    body = erp.get(f"{INVOICES}{invoice.pk}/").json()

    assert (body["status"], body["payment_status"], body["overdue"], body["days_overdue"]) == (
        "partially_paid", "partially_paid", True, 10)
    assert (body["amount_paid"], body["balance_due"]) == ("200.00", "252.00")
    assert body["credit_notes"] == [{"id": note["id"], "number": "", "status": "requested", "reason": "goodwill",
                                     "issue_date": None, "currency": "EUR", "gross_total": "113.00"}]

    Invoice.objects.filter(pk=invoice.pk).update(amount_paid=D("452.00"), status=Invoice.Status.PAID)
    paid = erp.get(f"{INVOICES}{invoice.pk}/").json()
    assert (paid["payment_status"], paid["overdue"], paid["days_overdue"], paid["balance_due"]) == (
        "paid", False, 0, "0.00")


def test_draft_has_no_document_links_and_reads_as_draft(erp, entity):
    a_draft = draft(entity)

    body = erp.get(f"{INVOICES}{a_draft.pk}/").json()

    assert (body["status"], body["number"], body["payment_status"]) == ("draft", "", "draft")
    assert (body["pdf_url"], body["ubl_url"], body["gross_total"]) == (None, None, "1190.00")


def issue_on(invoice: Invoice, day: dt.date, **draft_fields) -> Invoice:
    """Set `draft_fields` while the invoice is a draft (issued invoices are immutable), then issue it on `day`."""
    Invoice.objects.filter(pk=invoice.pk).update(**draft_fields)
    return invoices_issue(invoice_ids=[invoice.pk], by=None, issue_date=day, queue_documents=False)[0]


def test_filters(erp, entity, today):
    other_entity = de_entity("DE02")
    acme, globex = customer(account_number="C-ACME"), customer(account_number="C-GLOBEX")
    march = issue_on(draft(entity, customer=acme), dt.date(2026, 3, 31), billing_period_start=dt.date(2026, 3, 1))
    november = issue_on(draft(entity, customer=globex), dt.date(2026, 11, 30),
                        billing_period_start=dt.date(2026, 11, 1))  # due 2026-12-30
    elsewhere = issued(other_entity, customer=acme)
    a_draft = draft(entity, customer=globex)
    held = draft(entity, customer=acme)
    invoice_hold(invoice_id=held.pk, by=user_with_role("Billing Specialist"), reason="PO missing")
    Invoice.objects.filter(status="draft").update(updated_at=dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
    Invoice.objects.exclude(status="draft").update(updated_at=dt.datetime(2026, 4, 1, tzinfo=dt.UTC))

    assert ids(erp, f"{INVOICES}?customer={acme.pk}") == sorted([march.pk, elsewhere.pk, held.pk])
    assert ids(erp, f"{INVOICES}?customer_account_number=C-GLOBEX") == sorted([november.pk, a_draft.pk])
    assert ids(erp, f"{INVOICES}?legal_entity=DE02") == [elsewhere.pk]
    assert ids(erp, f"{INVOICES}?status=draft") == sorted([a_draft.pk, held.pk])
    assert ids(erp, f"{INVOICES}?status=issued&status=draft&customer={globex.pk}") == sorted([november.pk, a_draft.pk])
    assert ids(erp, f"{INVOICES}?period=2026-11") == [november.pk]
    assert ids(erp, f"{INVOICES}?period=2026-03") == [march.pk]
    assert ids(erp, f"{INVOICES}?issue_date_from=2026-11-01&issue_date_to=2026-11-30") == [november.pk]
    assert ids(erp, f"{INVOICES}?issue_date_to=2026-03-31") == sorted([march.pk, elsewhere.pk])
    assert ids(erp, f"{INVOICES}?updated_since=2026-03-01T00:00:00Z") == sorted([march.pk, november.pk, elsewhere.pk])
    assert ids(erp, f"{INVOICES}?updated_since=2026-04-01T00:00:01%2B00:00") == []
    assert ids(erp, f"{INVOICES}?on_hold=true") == [held.pk]
    assert ids(erp, f"{INVOICES}?overdue=true") == []  # today is 2026-04-15, the March invoices fall due 04-30
    today(dt.date(2026, 5, 1))  # the March invoices' due date (2026-04-30) has passed; November's has not
    assert ids(erp, f"{INVOICES}?overdue=true") == sorted([march.pk, elsewhere.pk])
    assert march.pk not in ids(erp, f"{INVOICES}?overdue=false")
    assert november.pk in ids(erp, f"{INVOICES}?overdue=false")


def test_bad_filter_values_answer_400_in_the_error_shape(erp, entity):
    for query in ("?period=2026-13", "?period=11-2026", "?updated_since=yesterday"):
        response = erp.get(INVOICES + query)
        assert response.status_code == 400, query
        body = response.json()
        assert body["error"] == "validation_error"
        assert set(body) == {"error", "message", "fields"}
    assert "YYYY-MM" in erp.get(INVOICES + "?period=2026-13").json()["message"]


# --- invoices: documents -------------------------------------------------------------------------

def test_pdf_rendered_once_then_served_as_stored(erp, entity, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    invoice = issued(entity, lines=LINES)
    assert not invoice.pdf_sha256

    first = erp.get(f"{INVOICES}{invoice.pk}/pdf/", HTTP_ACCEPT="application/pdf")
    content = file_bytes(first)
    invoice.refresh_from_db()
    again = file_bytes(erp.get(f"{INVOICES}{invoice.pk}/pdf/"))

    assert first.status_code == 200
    assert first["Content-Type"] == "application/pdf"
    assert f"{invoice.number}.pdf" in first["Content-Disposition"]
    assert content.startswith(b"%PDF")
    assert invoice.pdf_sha256 and again == content


def test_pdf_and_ubl_of_a_draft_are_409_in_the_error_shape(erp, entity):
    a_draft = draft(entity)

    for suffix in ("pdf/", "ubl/"):
        response = erp.get(f"{INVOICES}{a_draft.pk}/{suffix}", HTTP_ACCEPT="application/pdf")
        assert response.status_code == 409
        assert response["Content-Type"] == "application/json"
        body = response.json()
        assert (body["error"], body["fields"]) == ("invalid_transition", {})
        assert "not issued" in body["message"]
    a_draft.refresh_from_db()
    assert (a_draft.pdf_sha256, a_draft.pdf.name) == ("", "")


def test_ubl_of_an_issued_invoice(erp, entity):
    invoice = issued(entity, lines=LINES)

    response = erp.get(f"{INVOICES}{invoice.pk}/ubl/")
    xml = file_bytes(response).decode()

    assert response.status_code == 200
    assert response["Content-Type"] == "application/xml"
    assert "<Invoice" in xml and invoice.number in xml and "452.00" in xml


# --- credit notes ----------------------------------------------------------------------------------

def test_request_an_amount_creates_a_requested_note_and_is_idempotent(erp, entity):
    invoice = issued(entity, lines=LINES)
    body = {"invoice_id": invoice.pk, "reason": "billing_error", "explanation": "Billed twice", "amount": "150.10"}

    first = _post(erp, CREDIT_NOTES, body, HTTP_IDEMPOTENCY_KEY="cn-1")
    replay = _post(erp, CREDIT_NOTES, body, HTTP_IDEMPOTENCY_KEY="cn-1")

    assert first.status_code == 201, first.json()
    note = CreditNote.objects.get()
    created = first.json()
    assert (created["id"], created["status"], created["reason"], created["number"]) == (
        note.pk, "requested", "billing_error", "")
    # 150.10 spread pro rata 100/200/100: 37.53 + 75.04 + 37.53, tax at 19 %, 7 %, 19 %
    assert (created["net_total"], created["tax_total"], created["gross_total"]) == ("150.10", "19.51", "169.61")
    assert [(ln["net_amount"], ln["tax_amount"]) for ln in created["lines"]] == [
        ("37.53", "7.13"), ("75.04", "5.25"), ("37.53", "7.13")]
    assert (created["invoice_id"], created["invoice_number"]) == (invoice.pk, invoice.number)
    assert (created["requested_by"], created["requested_by_id"]) == (note.requested_by.email, note.requested_by_id)
    assert (replay.status_code, replay["Idempotent-Replayed"]) == (201, "true")
    assert replay.json() == created
    assert CreditNote.objects.count() == 1
    assert note.gross_total == D("169.61")


def test_request_whole_invoice_and_some_lines(erp, entity):
    invoice = issued(entity, lines=LINES)
    books = invoice.lines.get(description="Books")

    some = _post(erp, CREDIT_NOTES, {"invoice_id": invoice.pk, "reason": "pricing_dispute", "explanation": "One book",
                                     "lines": [{"invoice_line_id": books.pk, "quantity": "1"}]})
    rest = _post(erp, CREDIT_NOTES, {"invoice_id": invoice.pk, "reason": "cancellation", "explanation": "Cancelled"})

    assert (some.status_code, rest.status_code) == (201, 201)
    assert (some.json()["net_total"], some.json()["tax_total"], some.json()["gross_total"]) == (
        "100.00", "7.00", "107.00")
    assert [ln["invoice_line"] for ln in some.json()["lines"]] == [books.pk]
    # the whole invoice is what remains: 452.00 - 107.00
    assert rest.json()["gross_total"] == "345.00"
    assert CreditNote.objects.filter(status="requested").count() == 2


def test_over_credit_is_refused_in_the_error_shape_and_writes_nothing(erp, entity):
    invoice = issued(entity, lines=LINES)
    _post(erp, CREDIT_NOTES, {"invoice_id": invoice.pk, "reason": "goodwill", "explanation": "x", "amount": "300.00"})
    before = (CreditNote.objects.count(), CreditNoteLine.objects.count())

    response = _post(erp, CREDIT_NOTES, {"invoice_id": invoice.pk, "reason": "goodwill", "explanation": "More",
                                         "amount": "200.00"})

    assert response.status_code == 400
    body = response.json()
    assert set(body) == {"error", "message", "fields"}
    assert body["error"] == "validation_error"
    assert "remains uncredited" in body["message"]
    assert body["fields"]  # the service names what is exceeded
    assert (CreditNote.objects.count(), CreditNoteLine.objects.count()) == before


@pytest.mark.parametrize(("change", "status", "error", "field"), [
    ({"reason": "because"}, 400, "validation_error", "reason"),             # the service's rule
    ({"explanation": "  "}, 400, "validation_error", "explanation"),       # the service's rule
    ({"amount": 150.1}, 400, "validation_error", "amount"),                 # a JSON float: shape
    ({"invoice_id": 999999}, 400, "validation_error", "invoice_id"),
])
def test_bad_requests_name_the_field_and_write_nothing(erp, entity, change, status, error, field):
    invoice = issued(entity, lines=LINES)
    body = {"invoice_id": invoice.pk, "reason": "goodwill", "explanation": "Outage", "amount": "10.00", **change}

    response = _post(erp, CREDIT_NOTES, body)

    assert (response.status_code, response.json()["error"]) == (status, error)
    assert field in response.json()["fields"]
    assert CreditNote.objects.count() == 0


def test_a_draft_invoice_cannot_be_credited(erp, entity):
    a_draft = draft(entity)

    response = _post(erp, CREDIT_NOTES, {"invoice_id": a_draft.pk, "reason": "goodwill", "explanation": "x"})

    assert (response.status_code, response.json()["error"]) == (409, "invalid_transition")
    assert CreditNote.objects.count() == 0


def test_credit_note_list_detail_and_filters(erp, entity):
    first, second = issued(entity, lines=LINES), issued(entity, lines=LINES)
    a = _post(erp, CREDIT_NOTES, {"invoice_id": first.pk, "reason": "goodwill", "explanation": "x",
                                  "amount": "10.00"}).json()
    b = _post(erp, CREDIT_NOTES, {"invoice_id": second.pk, "reason": "duplicate", "explanation": "y"}).json()

    detail = erp.get(f"{CREDIT_NOTES}{b['id']}/").json()

    assert ids(erp, CREDIT_NOTES) == sorted([a["id"], b["id"]])
    assert ids(erp, f"{CREDIT_NOTES}?invoice={first.pk}") == [a["id"]]
    assert ids(erp, f"{CREDIT_NOTES}?invoice_number={second.number}") == [b["id"]]
    assert ids(erp, f"{CREDIT_NOTES}?reason=duplicate") == [b["id"]]
    assert ids(erp, f"{CREDIT_NOTES}?status=issued") == []
    assert ids(erp, f"{CREDIT_NOTES}?legal_entity=DE01&customer={second.customer_id}") == [b["id"]]
    assert (detail["gross_total"], len(detail["lines"]), detail["explanation"]) == ("452.00", 3, "y")
    assert "lines" not in erp.get(CREDIT_NOTES).json()["results"][0]


# --- who may see and do what --------------------------------------------------------------------------

def test_scope_refusals(api_client, entity):
    invoice = issued(entity, lines=LINES)
    reader = token_client(api_client, "credit_notes:read", name="Reader")

    listed = reader.get(INVOICES)
    pdf = reader.get(f"{INVOICES}{invoice.pk}/pdf/")
    posted = _post(reader, CREDIT_NOTES, {"invoice_id": invoice.pk, "reason": "goodwill", "explanation": "x"},
                   HTTP_IDEMPOTENCY_KEY="k")

    assert (listed.status_code, pdf.status_code, posted.status_code) == (403, 403, 403)
    assert listed.json()["error"] == "permission_denied"
    assert "invoices:read" in listed.json()["message"]
    assert "credit_notes:write" in posted.json()["message"]
    assert CreditNote.objects.count() == 0
    assert IdempotencyKey.objects.count() == 0
    assert reader.get(CREDIT_NOTES).status_code == 200

    invoices_only = token_client(api_client, "invoices:read", name="Invoices only")
    assert invoices_only.get(INVOICES).status_code == 200
    assert invoices_only.get(CREDIT_NOTES).status_code == 403


def test_no_credentials_refused(api_client, entity):
    response = api_client.get(INVOICES)
    assert (response.status_code, response.json()["error"]) == (401, "not_authenticated")


def test_sales_rep_sees_only_own_customers_documents(api_client, erp, entity, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    rep, other_rep = user_with_role("Sales Rep"), user_with_role("Sales Rep")
    mine = issued(entity, customer=customer(sales_owner=rep), lines=LINES)
    theirs = issued(entity, customer=customer(sales_owner=other_rep), lines=LINES)
    my_note = _post(erp, CREDIT_NOTES, {"invoice_id": mine.pk, "reason": "goodwill", "explanation": "x"}).json()
    their_note = _post(erp, CREDIT_NOTES, {"invoice_id": theirs.pk, "reason": "goodwill", "explanation": "x"}).json()
    api_client.credentials()
    api_client.force_login(rep)

    assert ids(api_client, INVOICES) == [mine.pk]
    assert ids(api_client, CREDIT_NOTES) == [my_note["id"]]
    assert api_client.get(f"{INVOICES}{mine.pk}/").status_code == 200
    for url in (f"{INVOICES}{theirs.pk}/", f"{INVOICES}{theirs.pk}/pdf/", f"{INVOICES}{theirs.pk}/ubl/",
                f"{CREDIT_NOTES}{their_note['id']}/"):
        response = api_client.get(url)
        assert (response.status_code, response.json()["error"]) == (404, "not_found"), url
    theirs.refresh_from_db()
    assert theirs.pdf_sha256 == ""  # nothing rendered for a record the caller may not see
    # a sales rep may not request credit notes at all (help desk does it for them)
    refused = _post(api_client, CREDIT_NOTES, {"invoice_id": mine.pk, "reason": "goodwill", "explanation": "x"})
    assert refused.status_code == 403
    assert CreditNote.objects.count() == 2


# --- queries ----------------------------------------------------------------------------------------

def test_query_counts_do_not_grow_with_rows(erp, entity):
    def count(url: str) -> int:
        return queries_for(erp, url)

    first = issued(entity, lines=LINES[:1])
    _post(erp, CREDIT_NOTES, {"invoice_id": first.pk, "reason": "goodwill", "explanation": "x", "amount": "1.00"})
    count(INVOICES)  # warm-up: the client's last-used stamp is written once a minute
    small = (count(INVOICES), count(CREDIT_NOTES), count(f"{INVOICES}{first.pk}/"),
             count(f"{CREDIT_NOTES}{CreditNote.objects.get().pk}/"))

    for _ in range(4):
        invoice = issued(entity, customer=customer(), lines=LINES)
        _post(erp, CREDIT_NOTES, {"invoice_id": invoice.pk, "reason": "goodwill", "explanation": "x",
                                  "amount": "10.00"})
        _post(erp, CREDIT_NOTES, {"invoice_id": invoice.pk, "reason": "goodwill", "explanation": "y",
                                  "amount": "20.00"})
    draft(entity)
    big_note = CreditNote.objects.filter(invoice=invoice).first()
    large = (count(INVOICES), count(CREDIT_NOTES), count(f"{INVOICES}{invoice.pk}/"),
             count(f"{CREDIT_NOTES}{big_note.pk}/"))

    assert small == (5, 5, 7, 5)  # token, permissions (2), then count + page / the row + its prefetches + payments
    assert large == small
    assert erp.get(INVOICES).json()["count"] == 6
