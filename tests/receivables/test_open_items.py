"""Open items without an invoice (opening balances migrated from the previous system, such as the
demo's LEG-... items) are payable on every path: automatic matching, an accepted suggestion, a split,
a remittance advice and the API. Each posts a balanced entry settling the open item, and AR stays
equal to its open items."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.urls import reverse

from ledger.models import JournalEntry, OpenItem
from ledger.selectors import ar_reconciliation
from ledger.services import LineSpec, OpenItemSpec, journal_post
from otc.errors import ValidationFailed
from receivables.models import Receipt, ReceiptApplication
from receivables.parsers import CsvMapping
from receivables.services import (
    bank_account_create,
    receipt_apply,
    receipt_apply_remittance,
    receipt_record,
    statement_import,
)
from tests.factories.billing import de_entity
from tests.factories.customers import CustomerFactory
from tests.factories.otc import user_with_role

pytestmark = pytest.mark.django_db
D = Decimal
IBAN = "DE89370400440532013000"
MAPPING = CsvMapping(date="Date", amount="Amount", payer_name="Payer", remittance="Reference",
                     bank_reference="Transaction ID", default_currency="EUR", account_number=IBAN)


def opening_item(entity, customer, number: str, amount: str) -> OpenItem:
    entry = journal_post(
        legal_entity_id=entity.pk, kind=JournalEntry.Kind.OPENING, document_date=dt.date(2026, 1, 15), currency="EUR",
        by=None, memo=f"Opening balance: legacy invoice {number}", source_reference=number, lines=[
            LineSpec(amount=D(amount), role="ar", customer_id=customer.pk, description=f"Legacy invoice {number}",
                     open_item=OpenItemSpec("opening", number, dt.date(2026, 1, 15), dt.date(2026, 2, 14))),
            LineSpec(amount=-D(amount), role="opening_balance", description=f"Legacy invoice {number}"),
        ])
    return entry.opened_items[0]


@pytest.fixture
def legacy(today):
    today(dt.date(2026, 4, 21))
    entity = de_entity()
    account = bank_account_create(legal_entity_id=entity.pk, name="Operating EUR", account_number=IBAN,
                                  currency="EUR", by=user_with_role("Controller"))
    customer = CustomerFactory(country="DE", legal_name="Altkunde Handels GmbH")
    item = opening_item(entity, customer, "LEG-C00042-1", "2400.55")
    return {"entity": entity, "account": account, "customer": customer, "item": item}


def reconciled() -> bool:
    return all(row["difference"] == 0 for row in ar_reconciliation())


def receipt(legacy, amount: str, **extra) -> Receipt:
    return receipt_record(by=user_with_role("Cash Application Specialist"), data={
        "bank_account_id": legacy["account"].pk, "value_date": dt.date(2026, 4, 20), "amount": D(amount), **extra})


def paid(legacy, amount: str) -> None:
    item = OpenItem.objects.get(pk=legacy["item"].pk)
    assert item.open_amount == legacy["item"].original_amount - D(amount)
    application = ReceiptApplication.objects.get(open_item=item)
    assert application.invoice_id is None and application.amount == D(amount)
    lines = application.journal_entry.lines.all()
    assert sum((line.amount for line in lines), D(0)) == 0
    assert {(line.account.role, line.amount) for line in lines} >= {("ar", -D(amount))}
    assert reconciled()


def test_automatic_matching_pays_an_opening_item_named_in_the_remittance(legacy):
    data = b"Date,Amount,Payer,Reference,Transaction ID\n2026-04-20,2400.55,ALTKUNDE HANDELS GMBH,LEG-C00042-1,T1\n"
    run = statement_import(data=data, file_name="s.csv", by=user_with_role("Cash Application Specialist"),
                           csv_mapping=MAPPING)
    assert run.auto_applied == 1
    paid(legacy, "2400.55")
    assert Receipt.objects.get(bank_reference="T1").status == "applied"


def test_automatic_matching_pays_an_opening_item_by_payer_and_amount(legacy):
    data = b"Date,Amount,Payer,Reference,Transaction ID\n2026-04-20,2400.55,PAYMENT FROM ALTKUNDE HANDELS GMBH,,T2\n"
    statement_import(data=data, file_name="s.csv", by=user_with_role("Cash Application Specialist"),
                     csv_mapping=MAPPING)
    paid(legacy, "2400.55")


def test_a_person_applies_an_opening_item_and_a_refusal_writes_nothing(legacy):
    cash = receipt(legacy, "3000.00", customer_id=legacy["customer"].pk)
    with pytest.raises(ValidationFailed, match="2,400.55 EUR open"):
        receipt_apply(receipt_id=cash.pk, allocations=[(-legacy["item"].pk, D("2500.00"))],
                      by=user_with_role("Cash Application Specialist"))
    assert not ReceiptApplication.objects.exists()
    assert OpenItem.objects.get(pk=legacy["item"].pk).open_amount == D("2400.55")
    receipt_apply(receipt_id=cash.pk, allocations=[(-legacy["item"].pk, D("1000.00"))],
                  by=user_with_role("Cash Application Specialist"))
    paid(legacy, "1000.00")


def test_another_customers_receipt_cannot_pay_the_opening_item(legacy):
    other = CustomerFactory(country="DE", legal_name="Fremd AG")
    cash = receipt(legacy, "100.00", customer_id=other.pk)
    with pytest.raises(ValidationFailed):
        receipt_apply(receipt_id=cash.pk, allocations=[(-legacy["item"].pk, D("100.00"))],
                      by=user_with_role("Cash Application Specialist"))
    assert not ReceiptApplication.objects.exists()


def test_split_form_accepts_an_opening_items_number(client, legacy):
    cash = receipt(legacy, "2400.55")
    client.force_login(user_with_role("Cash Application Specialist"))
    response = client.post(reverse("receivables:receipt_split", args=[cash.pk]), {
        "alloc-TOTAL_FORMS": "1", "alloc-INITIAL_FORMS": "0", "alloc-0-invoice": "LEG-C00042-1",
        "alloc-0-amount": "2400.55"})
    assert response.status_code == 302
    paid(legacy, "2400.55")


def test_accepting_a_suggestion_that_names_an_opening_item(client, legacy):
    from receivables.forms import allocations_key
    from receivables.services import receipts_auto_match

    cash = receipt(legacy, "2400.00", remittance="Altkunde LEG-C00042-1 minus fees")
    receipts_auto_match(receipt_ids=[cash.pk])
    cash.refresh_from_db()
    chosen = next(s for s in cash.suggestions if s["allocations"])
    assert chosen["allocations"][0]["invoice_id"] == -legacy["item"].pk
    client.force_login(user_with_role("Cash Application Specialist"))
    page = client.get(reverse("receivables:receipt_detail", args=[cash.pk]))
    assert page.status_code == 200 and "LEG-C00042-1" in page.content.decode()
    if cash.status != "applied":
        index = cash.suggestions.index(chosen)
        client.post(reverse("receivables:receipt_accept", args=[cash.pk]),
                    {"index": index, "allocations": allocations_key(chosen["allocations"])})
    paid(legacy, "2400.00")


def test_remittance_advice_lists_an_opening_item(legacy):
    cash = receipt(legacy, "2400.55", customer_id=legacy["customer"].pk)
    receipt_apply_remittance(receipt_id=cash.pk, data=b"Invoice,Amount\nLEG-C00042-1,2400.55\n", file_name="a.csv",
                             by=user_with_role("Cash Application Specialist"))
    paid(legacy, "2400.55")


def test_api_applies_a_receipt_to_an_opening_item(api_client, legacy):
    from tests.factories.receivables_api import bank_client

    cash = receipt(legacy, "2400.55")
    client = bank_client(api_client, "receipts:read", "receipts:write",
                         perms=("receivables.view_receipt", "receivables.apply_receipt"))
    response = client.post(f"/api/v1/receipts/{cash.pk}/apply/", data=json.dumps(
        {"allocations": [{"open_item_id": legacy["item"].pk, "amount": "2400.55"}]}), content_type="application/json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "applied"
    assert (body["applications"][0]["invoice_id"], body["applications"][0]["invoice_number"]) == (None, None)
    assert (body["applications"][0]["open_item_id"], body["applications"][0]["open_item_document_number"]) == (
        legacy["item"].pk, "LEG-C00042-1")
    paid(legacy, "2400.55")


def test_api_apply_is_refused_without_the_permission_and_writes_nothing(api_client, legacy):
    from tests.factories.receivables_api import bank_client

    cash = receipt(legacy, "2400.55")
    client = bank_client(api_client, "receipts:read", "receipts:write")
    response = client.post(f"/api/v1/receipts/{cash.pk}/apply/", data=json.dumps(
        {"allocations": [{"open_item_id": legacy["item"].pk, "amount": "2400.55"}]}), content_type="application/json")
    assert response.status_code == 403
    assert not ReceiptApplication.objects.exists()
