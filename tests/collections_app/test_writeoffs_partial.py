"""Partial write-offs (part of an invoice's balance), pro-rata VAT bad-debt relief posted to each
tax code's own output-VAT account, approval by the partial amount, and the recovery repaying the
relief to the same accounts."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from billing.models import TaxCode
from collections_app.models import WriteOff, WriteOffPolicy
from collections_app.services.writeoffs import writeoff_approve, writeoff_post, writeoff_request
from ledger.models import Account, JournalEntry, OpenItem
from ledger.selectors import ar_reconciliation
from otc.errors import Conflict, LimitExceeded, ValidationFailed
from receivables.services import bank_account_create, receipt_apply, receipt_record
from tests.factories.billing import draft
from tests.factories.collections_writeoffs import book, write_off_limits
from tests.factories.ledger import post_receipt
from tests.factories.otc import user_with_role

pytestmark = pytest.mark.django_db
D = Decimal
ON = dt.date(2026, 6, 30)


@pytest.fixture
def b(today):
    today(ON)
    data = book()
    entity = data["entity"]
    # the reduced rate (7 %) credits its own output-VAT account 2210
    Account.objects.create(legal_entity=entity, code="2210", name="VAT payable 7 %", type=Account.Type.LIABILITY,
                           role=Account.Role.OTHER)
    TaxCode.objects.filter(country="DE", kind=TaxCode.Kind.REDUCED).update(account_code="2210")
    from billing.services import invoices_issue

    invoice = draft(entity, customer=data["customer"], lines=[
        {"description": "Subscription", "quantity": D("1"), "unit_price": D("1000.00"), "tax_category": "digital"},
        {"description": "Books", "quantity": D("1"), "unit_price": D("500.00"), "tax_category": "reduced"}])
    data["mixed"] = invoices_issue(invoice_ids=[invoice.pk], by=None, issue_date=dt.date(2026, 3, 31),
                                   queue_documents=False)[0]
    WriteOffPolicy.objects.create(legal_entity=entity, vat_relief=True)
    return data


def lines_of(entry) -> list[tuple[str, Decimal]]:
    return sorted((line.account.code, line.amount) for line in entry.lines.select_related("account"))


def reconciled(entity) -> bool:
    return all(row["difference"] == 0 for row in ar_reconciliation(legal_entity_id=entity.pk))


def partial(b, amount):
    return writeoff_request(invoice_amounts={b["mixed"].pk: D(amount)}, reason="settlement",
                            explanation="Settled for half", by=b["collector"])


def test_a_partial_write_off_reclaims_vat_pro_rata_on_each_tax_codes_account(b):
    invoice = b["mixed"]
    assert (invoice.gross_total, invoice.tax_total) == (D("1725.00"), D("225.00"))  # 1,190.00 + 535.00
    write_off = partial(b, "862.50")
    [line] = write_off.lines.all()
    assert (write_off.amount, line.amount, line.partial) == (D("862.5000"), D("862.5000"), True)
    writeoff_approve(write_off_id=write_off.pk, by=b["manager"])
    write_off = writeoff_post(write_off_id=write_off.pk, by=b["controller"])

    # relief 862.50 x 225 / 1,725 = 112.50: 95.00 of the 19 % tax (2200), 17.50 of the 7 % (2210)
    assert lines_of(write_off.journal_entry) == [
        ("1100", D("-862.5000")), ("1190", D("750.0000")), ("2200", D("95.0000")), ("2210", D("17.5000"))]
    line.refresh_from_db()
    assert write_off.tax_relief == D("112.50") and line.tax_amount == D("112.5000")
    accounts = dict(Account.objects.filter(legal_entity=b["entity"], code__in=["2200", "2210"]).values_list("pk", "code"))
    assert {accounts[int(k)]: D(v) for k, v in line.tax_accounts.items()} == {"2200": D("95.00"), "2210": D("17.50")}
    invoice.refresh_from_db()
    # the rest stays due: not written off, still in dunning and the worklist
    assert (invoice.amount_written_off, invoice.balance_due) == (D("862.50"), D("862.50"))
    assert invoice.status != "written_off"
    assert OpenItem.objects.get(pk=invoice.open_item_id).open_amount == D("862.50")
    assert reconciled(b["entity"])


def test_cash_beyond_the_rest_recovers_the_partial_write_off_and_repays_vat_to_the_same_accounts(b):
    invoice = b["mixed"]
    write_off = partial(b, "862.50")
    writeoff_approve(write_off_id=write_off.pk, by=b["manager"])
    writeoff_post(write_off_id=write_off.pk, by=b["controller"])
    bank = bank_account_create(legal_entity_id=b["entity"].pk, name="Op", account_number="DE-WO-P",
                               currency="EUR", by=b["controller"])
    clerk = user_with_role("Cash Application Specialist")
    receipt = receipt_record(by=clerk, data={"bank_account_id": bank.pk, "value_date": ON, "amount": D("1000.00"),
                                             "customer_id": b["customer"].pk})
    receipt_apply(receipt_id=receipt.pk, allocations=[(invoice.pk, D("1000.00"))], by=clerk)

    # 137.50 beyond the 862.50 due is reinstated: tax 137.50 x 112.50 / 862.50 = 17.93, shared
    # 95 : 17.50 -> 15.14 (2200) and 2.79 (2210); 119.57 back to the allowance
    [recovery] = write_off.recoveries.all()
    assert (recovery.amount, recovery.tax_amount) == (D("137.5000"), D("17.9300"))
    assert lines_of(recovery.journal_entry) == [
        ("1100", D("137.5000")), ("1190", D("-119.5700")), ("2200", D("-15.1400")), ("2210", D("-2.7900"))]
    invoice.refresh_from_db()
    assert (invoice.amount_written_off, invoice.amount_paid, invoice.balance_due) == (
        D("725.00"), D("1000.00"), D("0.00"))
    assert reconciled(b["entity"])


def test_a_partial_amount_is_checked_and_approved_by_its_own_amount(b):
    invoice = b["mixed"]
    for bad in (D("0"), D("1725.01"), D("10.005")):
        with pytest.raises(ValidationFailed, match="at most"):
            partial(b, bad)
    with pytest.raises(ValidationFailed, match="decimal"):
        writeoff_request(invoice_amounts={invoice.pk: 10.5}, reason="settlement", explanation="x", by=b["collector"])
    assert not WriteOff.objects.exists()
    write_off_limits(manager="900.00")
    small = partial(b, "862.50")  # within the manager's 900.00, although the invoice is 1,725.00
    writeoff_approve(write_off_id=small.pk, by=b["manager"])
    assert WriteOff.objects.get(pk=small.pk).status == "approved"


def test_a_partial_write_off_over_the_limit_is_refused(b):
    write_off_limits(manager="800.00")
    write_off = partial(b, "862.50")
    with pytest.raises(LimitExceeded, match="862.50 EUR exceeds"):
        writeoff_approve(write_off_id=write_off.pk, by=b["manager"])
    assert WriteOff.objects.get(pk=write_off.pk).status == "submitted"


def test_a_payment_leaving_less_than_the_partial_amount_refuses_the_posting(b):
    invoice = b["mixed"]
    write_off = partial(b, "862.50")
    writeoff_approve(write_off_id=write_off.pk, by=b["manager"])
    post_receipt(OpenItem.objects.get(pk=invoice.open_item_id), "900.00", date=dt.date(2026, 6, 20))
    with pytest.raises(Conflict, match="825.00 EUR open now"):
        writeoff_post(write_off_id=write_off.pk, by=b["controller"])
    assert WriteOff.objects.get(pk=write_off.pk).status == "approved"
    assert not JournalEntry.objects.filter(kind="write_off").exists()


def test_the_api_creates_a_partial_write_off(b):
    import json

    from rest_framework.test import APIClient

    from tests.factories.otc import integration_client

    _, token = integration_client(scopes=["write_offs:read", "write_offs:write"], name="Collections bot")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    body = {"invoice_amounts": {str(b["mixed"].pk): "2000.00"}, "reason": "settlement", "explanation": "Half"}
    refused = api.post("/api/v1/write-offs/", data=json.dumps(body), content_type="application/json")
    assert refused.status_code == 400 and "at most" in refused.json()["message"] and not WriteOff.objects.exists()
    body["invoice_amounts"] = {str(b["mixed"].pk): "862.50"}
    created = api.post("/api/v1/write-offs/", data=json.dumps(body), content_type="application/json")
    assert created.status_code == 201
    data = created.json()
    assert (data["amount"], data["lines"][0]["amount"], data["lines"][0]["partial"]) == ("862.50", "862.50", True)
