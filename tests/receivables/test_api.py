"""/api/v1/receipts/ (read, bank-integration POST with idempotency and auto-matching), payments
on /api/v1/invoices/{id}/ and /api/v1/customers/{id}/statement.pdf: exact amounts as strings,
filters, scopes, sales-rep visibility, the one error shape and constant query counts."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest

from billing.models import Invoice
from customers.models import Customer
from ledger.models import JournalLine
from otc.models import IdempotencyKey, User
from receivables.models import Receipt
from receivables.services import application_reverse, receipt_apply, receipt_record
from tests.factories.customers import CustomerFactory
from tests.factories.otc import integration_client, user_with_role
from tests.factories.queries import queries_for
from tests.factories.receivables import cash_app, issue_for
from tests.factories.receivables_api import bank_client

pytestmark = pytest.mark.django_db
D = Decimal
RECEIPTS = "/api/v1/receipts/"
PAID_ON = dt.date(2026, 4, 20)


@pytest.fixture
def bank(api_client, book):  # noqa: F811
    return bank_client(api_client, "receipts:read", "receipts:write")


def _post(client, body, **headers):
    return client.post(RECEIPTS, data=json.dumps(body), content_type="application/json", **headers)


def record(book, amount, *, customer=None, reference="", remittance="", value_date=PAID_ON) -> Receipt:  # noqa: F811
    return receipt_record(by=cash_app(), data={
        "bank_account_id": book["account"].pk, "value_date": value_date, "amount": D(amount),
        "customer_id": customer.pk if customer else None, "bank_reference": reference, "payer_name": "",
        "remittance": remittance})


def ids(client, url: str) -> list[int]:
    response = client.get(url)
    assert response.status_code == 200, response.json()
    return sorted(row["id"] for row in response.json()["results"])


# --- read ----------------------------------------------------------------------------------------

def test_list_and_detail_with_exact_amounts_and_applications(bank, book):  # noqa: F811
    receipt = record(book, "1500.00", customer=book["customer"], reference="BR-1")
    receipt_apply(receipt_id=receipt.pk, allocations=[(book["first"].pk, D("1190.00")),
                                                      (book["second"].pk, D("200.00"))], by=cash_app())

    listed = bank.get(RECEIPTS).json()
    detail = bank.get(f"{RECEIPTS}{receipt.pk}/").json()

    assert listed["count"] == 1 and listed["results"][0] == detail
    assert (detail["number"], detail["status"], detail["source"], detail["currency"], detail["value_date"]) == (
        "RC-DE01-2026-000001", "partially_applied", "manual", "EUR", "2026-04-20")
    assert [detail[k] for k in ("amount", "amount_applied", "amount_refunded", "amount_unapplied")] == [
        "1500.00", "1390.00", "0.00", "110.00"]
    assert detail["customer"] == {"id": book["customer"].pk, "account_number": book["customer"].account_number,
                                  "name": "Kunde Eins GmbH"}
    assert detail["bank_account"] == {"id": book["account"].pk, "name": "Operating EUR",
                                      "account_number": "DE89370400440532013000", "currency": "EUR"}
    assert (detail["legal_entity"], detail["bank_reference"], detail["match_status"]) == ("DE01", "BR-1", "manual")
    assert detail["legal_entity_id"] == book["entity"].pk
    assert [(a["invoice_number"], a["amount"], a["rule"], a["reversed_at"]) for a in detail["applications"]] == [
        (book["first"].number, "1190.00", "manual", None), (book["second"].number, "200.00", "manual", None)]


def test_an_unidentified_receipt_has_no_customer(bank, book):  # noqa: F811
    receipt = record(book, "50.00")
    body = bank.get(f"{RECEIPTS}{receipt.pk}/").json()
    assert (body["customer"], body["status"], body["amount_unapplied"], body["applications"]) == (
        None, "unapplied", "50.00", [])


def test_filters(bank, book):  # noqa: F811
    other = CustomerFactory(country="DE", account_number="C-OTHER")
    early = record(book, "1190.00", customer=book["customer"], reference="A", value_date=dt.date(2026, 4, 1))
    late = record(book, "10.00", customer=other, reference="B", value_date=dt.date(2026, 4, 30))
    unknown = record(book, "20.00", reference="C")
    receipt_apply(receipt_id=early.pk, allocations=[(book["first"].pk, D("1190.00"))], by=cash_app())
    Receipt.objects.filter(pk=unknown.pk).update(updated_at=dt.datetime(2020, 1, 1, tzinfo=dt.UTC))

    assert ids(bank, f"{RECEIPTS}?status=applied") == [early.pk]
    assert ids(bank, f"{RECEIPTS}?status=applied&status=unapplied") == sorted([early.pk, late.pk, unknown.pk])
    assert ids(bank, f"{RECEIPTS}?customer={other.pk}") == [late.pk]
    assert ids(bank, f"{RECEIPTS}?customer_account_number=C-OTHER") == [late.pk]
    assert ids(bank, f"{RECEIPTS}?bank_account={book['account'].pk}") == sorted([early.pk, late.pk, unknown.pk])
    assert ids(bank, f"{RECEIPTS}?bank_account=999999") == []
    assert ids(bank, f"{RECEIPTS}?value_date_from=2026-04-02&value_date_to=2026-04-29") == [unknown.pk]
    assert ids(bank, f"{RECEIPTS}?value_date_to=2026-04-01") == [early.pk]
    assert ids(bank, f"{RECEIPTS}?unapplied=true") == sorted([late.pk, unknown.pk])
    assert ids(bank, f"{RECEIPTS}?unapplied=false") == [early.pk]
    assert ids(bank, f"{RECEIPTS}?updated_since=2026-01-01T00:00:00Z") == sorted([early.pk, late.pk])
    assert ids(bank, f"{RECEIPTS}?bank_reference=B") == [late.pk]
    response = bank.get(f"{RECEIPTS}?value_date_from=yesterday")
    assert response.status_code == 400 and set(response.json()) == {"error", "message", "fields"}


def test_reversed_applications_stay_listed_with_their_time(bank, book):  # noqa: F811
    receipt = record(book, "1190.00", customer=book["customer"])
    [application] = receipt_apply(receipt_id=receipt.pk, allocations=[(book["first"].pk, D("1190.00"))], by=cash_app())
    application_reverse(application_id=application.pk, by=cash_app(), reason="wrong invoice")
    body = bank.get(f"{RECEIPTS}{receipt.pk}/").json()
    assert (body["status"], body["amount_applied"], body["amount_unapplied"]) == ("unapplied", "0.00", "1190.00")
    assert [a["amount"] for a in body["applications"]] == ["1190.00"]
    assert body["applications"][0]["reversed_at"] is not None


# --- who may ---------------------------------------------------------------------------------------

def test_scopes_are_enforced(api_client, book):  # noqa: F811
    receipt = record(book, "10.00", customer=book["customer"])
    reader = bank_client(api_client, "receipts:read", name="Reader")
    assert reader.get(RECEIPTS).status_code == 200
    refused = _post(reader, {"bank_account": book["account"].pk, "value_date": "2026-04-20", "amount": "5.00"})
    assert refused.status_code == 403
    assert refused.json() == {"error": "permission_denied", "message": "This API client lacks the scope 'receipts:write'.",
                              "fields": {}}
    other = bank_client(api_client, "invoices:read", name="Other")
    assert other.get(RECEIPTS).status_code == 403
    assert other.get(f"{RECEIPTS}{receipt.pk}/").status_code == 403
    assert Receipt.objects.count() == 1


def test_the_role_permission_is_needed_too(api_client, book):  # noqa: F811
    bare = bank_client(api_client, "receipts:read", "receipts:write", name="Bare", perms=())
    assert bare.get(RECEIPTS).status_code == 403
    assert _post(bare, {"bank_account": book["account"].pk, "value_date": "2026-04-20", "amount": "5.00"}
                 ).status_code == 403
    assert not Receipt.objects.exists()


def test_a_sales_rep_sees_only_their_customers_identified_receipts(api_client, book):  # noqa: F811
    rep, other_rep = user_with_role("Sales Rep"), user_with_role("Sales Rep")
    mine = CustomerFactory(country="DE", sales_owner=rep)
    theirs = CustomerFactory(country="DE", sales_owner=other_rep)
    own = record(book, "10.00", customer=mine)
    foreign = record(book, "20.00", customer=theirs)
    unidentified = record(book, "30.00")
    api_client.force_login(User.objects.get(pk=rep.pk))

    assert ids(api_client, RECEIPTS) == [own.pk]
    assert api_client.get(f"{RECEIPTS}{own.pk}/").status_code == 200
    for hidden in (foreign, unidentified):
        response = api_client.get(f"{RECEIPTS}{hidden.pk}/")
        assert response.status_code == 404
        assert response.json()["error"] == "not_found"


# --- posting ---------------------------------------------------------------------------------------

def test_post_is_idempotent_and_auto_applies_a_clear_payment(bank, book):  # noqa: F811
    invoice = book["first"]
    body = {"bank_account_number": "DE89 3704 0044 0532 0130 00", "value_date": "2026-04-20", "amount": "1190.00",
            "payer_name": "Kunde Eins GmbH", "remittance": f"Payment {invoice.number}", "bank_reference": "BANK-77",
            "customer_account_number": book["customer"].account_number}

    first = _post(bank, body, HTTP_IDEMPOTENCY_KEY="k-1")
    again = _post(bank, body, HTTP_IDEMPOTENCY_KEY="k-1")

    assert first.status_code == 201, first.json()
    assert again.status_code == 201 and again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    receipt = Receipt.objects.get()
    created = first.json()
    assert (created["id"], created["source"], created["status"], created["match_status"]) == (
        receipt.pk, "api", "applied", "auto")
    assert (created["amount"], created["amount_applied"], created["amount_unapplied"]) == ("1190.00", "1190.00", "0.00")
    assert [(a["invoice_id"], a["amount"]) for a in created["applications"]] == [(invoice.pk, "1190.00")]
    assert created["match_score"] >= 0.9
    assert Invoice.objects.get(pk=invoice.pk).status == Invoice.Status.PAID
    assert receipt.created_by.username.startswith("api-")
    assert IdempotencyKey.objects.count() == 1


def test_an_unclear_payment_waits_in_suspense_with_suggestions(bank, book):  # noqa: F811
    response = _post(bank, {"bank_account": book["account"].pk, "value_date": "2026-04-20", "amount": "777.00",
                            "payer_name": "Somebody Else Ltd", "bank_reference": "BANK-78"})
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["status"], body["customer"], body["applications"], body["amount_unapplied"]) == (
        "unapplied", None, [], "777.00")


def test_duplicate_bank_reference_is_refused_in_the_error_shape(bank, book):  # noqa: F811
    body = {"bank_account": book["account"].pk, "value_date": "2026-04-20", "amount": "5.00", "bank_reference": "DUP-1"}
    assert _post(bank, body, HTTP_IDEMPOTENCY_KEY="a").status_code == 201

    refused = _post(bank, body, HTTP_IDEMPOTENCY_KEY="b")

    existing = Receipt.objects.get()
    assert refused.status_code == 409  # issue 15: a conflict naming the receipt that holds the reference
    assert refused.json() == {"error": "conflict",
                              "message": f"Bank reference DUP-1 is already recorded on this account as receipt "
                                         f"{existing.number} (id {existing.pk}).",
                              "fields": {"bank_reference": ["duplicate"], "receipt": [str(existing.pk)]}}
    assert Receipt.objects.count() == 1


@pytest.mark.parametrize(("body", "field"), [
    ({"value_date": "2026-04-20", "amount": "5.00"}, "bank_account"),
    ({"bank_account_number": "XX00", "value_date": "2026-04-20", "amount": "5.00"}, "bank_account_number"),
    ({"value_date": "2026-04-20", "amount": 5.5}, "amount"),
    ({"value_date": "2026-04-20", "amount": "5.001"}, "amount"),
    ({"value_date": "2026-04-20", "amount": "5.00", "currency": "USD"}, "currency"),
    ({"value_date": "2026-04-20", "amount": "5.00", "customer": 999999}, "customer"),
])
def test_bad_posts_are_refused_and_write_nothing(bank, book, body, field):  # noqa: F811
    if "bank_account_number" not in body and field != "bank_account":
        body = {"bank_account": book["account"].pk, **body}
    response = _post(bank, body)
    assert response.status_code == 400, response.json()
    assert field in response.json()["fields"]
    assert not Receipt.objects.exists()
    assert not JournalLine.objects.filter(entry__kind="receipt").exists()


# --- payments on the invoice ------------------------------------------------------------------------

def test_invoice_detail_lists_its_payments(api_client, book):  # noqa: F811
    client, token = integration_client(scopes=["invoices:read"], name="ERP")
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    invoice = book["first"]
    assert api_client.get(f"/api/v1/invoices/{invoice.pk}/").json()["payments"] == []
    first = record(book, "500.00", customer=book["customer"])
    second = record(book, "690.00", customer=book["customer"])
    [gone] = receipt_apply(receipt_id=first.pk, allocations=[(invoice.pk, D("500.00"))], by=cash_app())
    application_reverse(application_id=gone.pk, by=cash_app(), reason="belongs elsewhere")
    receipt_apply(receipt_id=first.pk, allocations=[(invoice.pk, D("400.00"))], by=cash_app())
    receipt_apply(receipt_id=second.pk, allocations=[(invoice.pk, D("690.00"))], by=cash_app())

    body = api_client.get(f"/api/v1/invoices/{invoice.pk}/").json()

    assert [(p["receipt_number"], p["value_date"], p["amount_applied"], p["reversed"]) for p in body["payments"]] == [
        (first.number, "2026-04-20", "500.00", True), (first.number, "2026-04-20", "400.00", False),
        (second.number, "2026-04-20", "690.00", False)]
    assert (body["amount_paid"], body["balance_due"], body["payment_status"]) == ("1090.00", "100.00", "partially_paid")
    assert body["payments"][0]["reversed_at"] is not None and body["payments"][1]["applied_at"]
    assert "payments" not in api_client.get("/api/v1/invoices/").json()["results"][0]


# --- the statement ---------------------------------------------------------------------------------

def test_statement_pdf_for_a_visible_customer_only(api_client, book, today):  # noqa: F811
    today(dt.date(2026, 4, 30))
    rep, other_rep = user_with_role("Sales Rep"), user_with_role("Sales Rep")
    Customer.objects.filter(pk=book["customer"].pk).update(sales_owner=rep)
    url = f"/api/v1/customers/{book['customer'].pk}/statement.pdf"

    api_client.force_login(other_rep)
    assert api_client.get(url).status_code == 404
    api_client.force_login(rep)
    response = api_client.get(url + "?from=2026-03-01&to=2026-04-30", HTTP_ACCEPT="application/json")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf" and response.content.startswith(b"%PDF")
    assert f"statement-{book['customer'].account_number}-EUR-2026-04-30.pdf" in response["Content-Disposition"]
    bad = api_client.get(url + "?from=2026-05-01&to=2026-04-30")
    assert bad.status_code == 400 and bad.json()["error"] == "validation_error"
    assert api_client.get(url + "?currency=USD").status_code == 400


def test_statement_needs_the_ledger_scope(api_client, book):  # noqa: F811
    url = f"/api/v1/customers/{book['customer'].pk}/statement.pdf"
    client = bank_client(api_client, "receipts:read", name="No ledger")
    assert client.get(url).status_code == 403


# --- queries ---------------------------------------------------------------------------------------

def test_query_counts_do_not_grow_with_rows(bank, book):  # noqa: F811
    def count(url: str) -> int:
        return queries_for(bank, url)

    receipt = record(book, "1190.00", customer=book["customer"])
    receipt_apply(receipt_id=receipt.pk, allocations=[(book["first"].pk, D("1190.00"))], by=cash_app())
    count(RECEIPTS)  # warm-up: the client's last-used stamp is written once a minute
    small = (count(RECEIPTS), count(f"{RECEIPTS}{receipt.pk}/"))

    for _ in range(4):
        customer = CustomerFactory(country="DE")
        invoices = [issue_for(book["entity"], customer, ["100.00"]) for _ in range(2)]
        many = record(book, "238.00", customer=customer)
        receipt_apply(receipt_id=many.pk, allocations=[(inv.pk, D("119.00")) for inv in invoices], by=cash_app())
        record(book, "5.00")
    large = (count(RECEIPTS), count(f"{RECEIPTS}{many.pk}/"))

    assert small == (6, 5)  # token, permissions (2), then count + page + applications / the row + its applications
    assert large == small
    assert bank.get(RECEIPTS).json()["count"] == 9
