"""Recoveries through cash application (receivables calls the write-off hook) and small-balance
batches (one approval for the month's small balances)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from billing.models import Invoice
from collections_app.models import WriteOff, WriteOffBatch, WriteOffPolicy, WriteOffRecovery
from collections_app.selectors.writeoffs import account_balance
from collections_app.services.writeoffs import (
    batch_approve,
    batch_post,
    batch_reject,
    batch_submit,
    small_balance_batch_propose,
    writeoff_approve,
    writeoff_post,
    writeoff_request,
)
from collections_app.tasks_writeoffs import small_balance_batches_propose
from ledger.models import JournalEntry, OpenItem
from ledger.selectors import ar_reconciliation
from otc.errors import LimitExceeded, SegregationOfDuties
from receivables.services import bank_account_create, receipt_apply, receipt_record
from tests.factories.collections import DisputeFactory
from tests.factories.collections_writeoffs import book, write_off_limits
from tests.factories.customers import CustomerFactory
from tests.factories.otc import user_with_role
from tests.factories.receivables import issue_for

pytestmark = pytest.mark.django_db
D = Decimal
ON = dt.date(2026, 6, 30)


@pytest.fixture
def b(today):
    today(ON)
    data = book()
    data["bank"] = bank_account_create(legal_entity_id=data["entity"].pk, name="Op", account_number="DE-WO-1",
                                       currency="EUR", by=data["controller"])
    data["clerk"] = user_with_role("Cash Application Specialist")
    return data


def written_off(b, invoices):
    write_off = writeoff_request(invoice_ids=[i.pk for i in invoices], reason="agency", explanation="Agency closed it",
                                 by=b["collector"])
    writeoff_approve(write_off_id=write_off.pk, by=b["manager"])
    return writeoff_post(write_off_id=write_off.pk, by=b["controller"])


def pay(b, invoice, amount):
    receipt = receipt_record(by=b["clerk"], data={"bank_account_id": b["bank"].pk, "value_date": ON,
                                                  "amount": D(amount), "customer_id": b["customer"].pk})
    receipt_apply(receipt_id=receipt.pk, allocations=[(invoice.pk, D(amount))], by=b["clerk"])
    return receipt


def reconciled(entity) -> bool:
    return all(row["difference"] == 0 for row in ar_reconciliation(legal_entity_id=entity.pk))


def test_cash_for_a_written_off_invoice_reinstates_the_write_off_and_is_applied(b):
    invoice = b["invoices"][0]
    write_off = written_off(b, [invoice])
    assert account_balance(legal_entity_id=b["entity"].pk, role="allowance") == D("1190.0000")
    pay(b, invoice, "400.00")
    invoice.refresh_from_db()
    # the rest stays written off: nothing is left due
    assert (invoice.status, invoice.amount_paid, invoice.amount_written_off) == ("written_off", D("400.00"),
                                                                                D("790.00"))
    recovery = WriteOffRecovery.objects.get()
    assert (recovery.mode, recovery.amount, recovery.receipt.amount) == ("reinstate", D("400.00"), D("400.00"))
    lines = sorted((li.account.code, li.amount) for li in recovery.journal_entry.lines.select_related("account"))
    assert lines == [("1100", D("400.0000")), ("1190", D("-400.0000"))]
    assert account_balance(legal_entity_id=b["entity"].pk, role="allowance") == D("790.0000")
    assert OpenItem.objects.get(pk=invoice.open_item_id).open_amount == 0  # reopened by 400, then paid
    assert WriteOff.objects.get(pk=write_off.pk).recovered_amount == D("400.00")
    assert reconciled(b["entity"])
    pay(b, invoice, "790.00")
    invoice.refresh_from_db()
    assert (invoice.status, invoice.amount_written_off) == ("paid", 0)


def test_a_recovery_as_income_repays_the_vat_relief(b):
    WriteOffPolicy.objects.create(legal_entity=b["entity"], recovery_mode="income", vat_relief=True)
    invoice = b["invoices"][0]  # 1,000.00 + 190.00 VAT
    written_off(b, [invoice])
    pay(b, invoice, "1190.00")
    recovery = WriteOffRecovery.objects.get()
    lines = sorted((li.account.code, li.amount) for li in recovery.journal_entry.lines.select_related("account"))
    assert lines == [("1100", D("1190.0000")), ("2200", D("-190.0000")), ("4900", D("-1000.0000"))]
    assert recovery.journal_entry.kind == JournalEntry.Kind.RECOVERY
    invoice.refresh_from_db()
    assert (invoice.status, invoice.amount_paid, invoice.amount_written_off) == ("paid", D("1190.00"), 0)
    # the allowance keeps the write-off: 1,000.00 net debited, nothing credited back
    assert account_balance(legal_entity_id=b["entity"].pk, role="allowance") == D("1000.0000")
    assert reconciled(b["entity"])


def test_a_refused_application_undoes_the_reinstatement(b):
    invoice = b["invoices"][0]
    written_off(b, [invoice])
    receipt = receipt_record(by=b["clerk"], data={"bank_account_id": b["bank"].pk, "value_date": ON,
                                                  "amount": D("2000.00"), "customer_id": b["customer"].pk})
    with pytest.raises(Exception, match="past its balance"):
        receipt_apply(receipt_id=receipt.pk, allocations=[(invoice.pk, D("1500.00"))], by=b["clerk"])
    assert not WriteOffRecovery.objects.exists()
    assert Invoice.objects.get(pk=invoice.pk).amount_written_off == D("1190.00")


# --- small balances ------------------------------------------------------------------------------

@pytest.fixture
def small(b):
    WriteOffPolicy.objects.create(legal_entity=b["entity"], small_balance_enabled=True, small_balance_max=D("50.00"),
                                  small_balance_min_age_days=60)
    tiny_customer = CustomerFactory(country="DE", legal_name="Klein GmbH")
    tiny = issue_for(b["entity"], tiny_customer, ["20.00"])  # 23.80 gross, due 2026-04-30: 61 days on 06-30
    other = issue_for(b["entity"], CustomerFactory(country="DE"), ["30.00"])  # 35.70, disputed
    DisputeFactory(invoice=other, amount=D("35.70"))
    b.update(tiny=tiny, other=other)
    return b


def test_the_policy_proposes_one_batch_a_month_and_one_approval_posts_it(small):
    b = small
    batch = small_balance_batch_propose(legal_entity_id=b["entity"].pk, as_of=ON)
    assert [(w.customer_id, w.amount, w.reason) for w in batch.write_offs.all()] == [
        (b["tiny"].customer_id, D("23.8000"), "small_balance")]
    assert small_balance_batch_propose(legal_entity_id=b["entity"].pk, as_of=ON) == batch  # idempotent
    batch_submit(batch_id=batch.pk, by=b["manager"])
    with pytest.raises(SegregationOfDuties):
        batch_approve(batch_id=batch.pk, by=b["manager"])
    batch_approve(batch_id=batch.pk, by=b["controller"])
    batch_post(batch_id=batch.pk, by=b["manager"])
    batch.refresh_from_db()
    assert batch.status == "posted"
    assert Invoice.objects.get(pk=b["tiny"].pk).status == "written_off"
    assert Invoice.objects.get(pk=b["other"].pk).status == "issued"
    assert reconciled(b["entity"])


def test_the_monthly_task_proposes_for_every_entity_with_a_policy_and_limits_apply(small):
    b = small
    small_balance_batches_propose(as_of=ON.isoformat())
    batch = WriteOffBatch.objects.get()
    assert batch.proposed_by is None and batch.write_offs.count() == 1
    batch_submit(batch_id=batch.pk, by=b["collector"])
    write_off_limits(manager="10.00")
    with pytest.raises(LimitExceeded):
        batch_approve(batch_id=batch.pk, by=b["manager"])
    batch_reject(batch_id=batch.pk, by=b["controller"], note="Customer paying by instalments")
    assert set(WriteOff.objects.values_list("status", flat=True)) == {"rejected"}


def test_the_schedule_command_registers_the_monthly_task_once():
    from django.core.management import call_command
    from django_celery_beat.models import PeriodicTask

    call_command("writeoffs_schedule")
    call_command("writeoffs_schedule")
    task = PeriodicTask.objects.get(task="collections.small_balance_batches_propose")
    assert (task.crontab.day_of_month, task.crontab.hour, task.crontab.minute, task.enabled) == ("1", "6", "0", True)


def test_the_receipt_page_finds_a_written_off_invoice_and_applying_it_recovers(client, b):
    from django.urls import reverse

    invoice = b["invoices"][0]
    written_off(b, [invoice])
    receipt = receipt_record(by=b["clerk"], data={"bank_account_id": b["bank"].pk, "value_date": ON,
                                                  "amount": D("1190.00"), "customer_id": b["customer"].pk})
    client.force_login(b["clerk"])
    found = client.get(reverse("receivables:receipt_invoice_search", args=[receipt.pk]),
                       {"number": invoice.number}).content.decode()
    assert invoice.number in found and "written off: cash recovers it" in found and "1,190.00 EUR" in found
    data = {"alloc-TOTAL_FORMS": "5", "alloc-INITIAL_FORMS": "0", "alloc-MIN_NUM_FORMS": "0",
            "alloc-MAX_NUM_FORMS": "30", "alloc-0-invoice": invoice.number, "alloc-0-amount": "1190.00"}
    response = client.post(reverse("receivables:receipt_split", args=[receipt.pk]), data)
    assert response.status_code == 302
    invoice.refresh_from_db()
    assert (invoice.status, invoice.amount_paid, invoice.amount_written_off) == ("paid", D("1190.00"), 0)
    assert WriteOffRecovery.objects.get().receipt_id == receipt.pk
    assert reconciled(b["entity"])
