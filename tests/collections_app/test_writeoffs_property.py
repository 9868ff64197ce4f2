"""A Hypothesis state machine over write-offs and recoveries: reserve charges to the allowance,
write-offs (whole or partial, against the allowance or to expense, with or without VAT relief,
policy changed at random between steps), cash for open and written-off invoices (reinstate or income), applications
reversed. After every step AR ties to its open items, the allowance, bad-debt expense and
recoveries accounts equal what the write-off rows say, and every invoice's written-off amount and
status follow its write-offs and recoveries."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

from django.db.models import Sum
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from billing.models import Invoice
from billing.services import payment_status
from collections_app.models import WriteOff, WriteOffLine, WriteOffPolicy, WriteOffRecovery
from collections_app.selectors.writeoffs import account_balance
from collections_app.services.writeoffs import writeoff_approve, writeoff_post, writeoff_request
from ledger.models import OpenItem
from ledger.selectors import ar_reconciliation
from ledger.services import LineSpec, journal_post
from otc import dates
from receivables.models import ReceiptApplication
from receivables.services import application_reverse, bank_account_create, receipt_apply, receipt_record
from tests.factories.billing import de_entity
from tests.factories.collections_writeoffs import write_off_limits
from tests.factories.customers import CustomerFactory
from tests.factories.otc import user_with_role
from tests.factories.receivables import issue_for

CENT = Decimal("0.01")
ON = dt.date(2026, 6, 30)
_MACHINES = itertools.count(1)


def _sum(qs, field: str) -> Decimal:
    return (qs.aggregate(t=Sum(field))["t"] or Decimal(0)).quantize(Decimal("0.0001"))  # SQLite sums in floats


class WriteOffMachine(RuleBasedStateMachine):
    """Examples share one database transaction: each machine works on its own entity."""

    def __init__(self) -> None:
        super().__init__()
        dates.today = lambda: ON  # restored by the test
        tag = f"{next(_MACHINES):04d}"
        self.entity = de_entity(f"W{tag}")
        self.bank = bank_account_create(legal_entity_id=self.entity.pk, name="Op", account_number=f"DE-WO-{tag}",
                                        currency="EUR", by=user_with_role("Controller"))
        self.customer = CustomerFactory(country="DE")
        self.invoices = [issue_for(self.entity, self.customer, [p]) for p in ("100.00", "250.50", "40.10")]
        self.collector, self.manager = user_with_role("Collector"), user_with_role("Finance Manager")
        self.clerk = user_with_role("Cash Application Specialist")
        self.charged = Decimal(0)
        write_off_limits()

    def _open(self):
        return [i for i in Invoice.objects.filter(pk__in=[i.pk for i in self.invoices]).order_by("pk")
                if i.balance_due > 0 and not WriteOffLine.objects.filter(
                    invoice=i, write_off__status__in=["draft", "submitted", "approved"]).exists()]

    @rule(allowance=st.booleans(), relief=st.booleans(), income=st.booleans())
    def set_policy(self, allowance, relief, income):
        WriteOffPolicy.objects.update_or_create(legal_entity=self.entity, defaults={
            "use_allowance": allowance, "vat_relief": relief, "recovery_mode": "income" if income else "reinstate"})

    @rule(cents=st.integers(1, 50000))
    def reserve_charge(self, cents):
        amount = Decimal(cents) * CENT
        journal_post(legal_entity_id=self.entity.pk, kind="reserve", document_date=ON, by=None, lines=[
            LineSpec(amount=amount, role="bad_debt_expense"), LineSpec(amount=-amount, role="allowance")])
        self.charged += amount

    @precondition(lambda self: self._open())
    @rule(data=st.data())
    def write_off(self, data):
        invoice = data.draw(st.sampled_from(self._open()))
        if data.draw(st.booleans(), label="partial"):  # part of the balance: the rest stays open
            cents = data.draw(st.integers(1, int(invoice.balance_due / CENT)), label="cents")
            write_off = writeoff_request(invoice_amounts={invoice.pk: Decimal(cents) * CENT}, reason="settlement",
                                         explanation="x", by=self.collector)
        else:
            write_off = writeoff_request(invoice_ids=[invoice.pk], reason="bankruptcy", explanation="x",
                                         by=self.collector)
        writeoff_approve(write_off_id=write_off.pk, by=self.manager)
        writeoff_post(write_off_id=write_off.pk, by=self.manager)

    @rule(data=st.data())
    def pay(self, data):
        invoice = Invoice.objects.get(pk=data.draw(st.sampled_from([i.pk for i in self.invoices])))
        payable = invoice.gross_total - invoice.amount_credited - invoice.amount_paid  # incl. what is written off
        if payable <= 0 or WriteOffLine.objects.filter(invoice=invoice, write_off__status="approved").exists():
            return
        cents = data.draw(st.integers(1, int(payable / CENT)))
        receipt = receipt_record(by=self.clerk, data={"bank_account_id": self.bank.pk, "value_date": ON,
                                                      "amount": Decimal(cents) * CENT, "customer_id": self.customer.pk})
        receipt_apply(receipt_id=receipt.pk, allocations=[(invoice.pk, Decimal(cents) * CENT)], by=self.clerk)

    @precondition(lambda self: ReceiptApplication.objects.filter(receipt__bank_account__account_number__startswith="DE-WO",
                                                                 reversed_at__isnull=True).exists())
    @rule(data=st.data())
    def unapply(self, data):
        live = list(ReceiptApplication.objects.filter(receipt__bank_account=self.bank, reversed_at__isnull=True)
                    .order_by("pk").values_list("pk", flat=True))
        if live:
            application_reverse(application_id=data.draw(st.sampled_from(live)), by=self.clerk, reason="wrong")

    # --- invariants -----------------------------------------------------------------------------

    @invariant()
    def ar_ties_to_its_open_items(self):
        for row in ar_reconciliation(legal_entity_id=self.entity.pk):
            assert row["difference"] == 0, row
        for invoice in Invoice.objects.filter(pk__in=[i.pk for i in self.invoices]):
            assert OpenItem.objects.get(pk=invoice.open_item_id).open_amount == invoice.balance_due
            assert invoice.status == payment_status(invoice)

    @invariant()
    def allowance_expense_and_recoveries_tie_to_the_ledger(self):
        posted = WriteOff.objects.filter(legal_entity=self.entity, status="posted")
        recoveries = WriteOffRecovery.objects.filter(write_off__legal_entity=self.entity)

        def net(rows, role):
            rows = rows.filter(debit_role=role)
            return _sum(rows, "amount") - _sum(rows, "tax_relief")

        def back(role):
            rows = recoveries.filter(mode="reinstate", write_off__debit_role=role)
            return _sum(rows, "amount") - _sum(rows, "tax_amount")

        income = recoveries.filter(mode="income")
        entity = self.entity.pk
        assert account_balance(legal_entity_id=entity, role="allowance") == (
            -self.charged + net(posted, "allowance") - back("allowance"))
        assert account_balance(legal_entity_id=entity, role="bad_debt_expense") == (
            self.charged + net(posted, "bad_debt_expense") - back("bad_debt_expense"))
        assert account_balance(legal_entity_id=entity, role="bad_debt_recovery") == -(
            _sum(income, "amount") - _sum(income, "tax_amount"))

    @invariant()
    def vat_payable_follows_the_relief_and_its_repayments(self):
        invoiced = sum((i.tax_total for i in self.invoices), Decimal(0))
        relief = _sum(WriteOff.objects.filter(legal_entity=self.entity, status="posted"), "tax_relief")
        repaid = _sum(WriteOffRecovery.objects.filter(write_off__legal_entity=self.entity), "tax_amount")
        assert account_balance(legal_entity_id=self.entity.pk, role="tax_payable") == -invoiced + relief - repaid

    @invariant()
    def invoices_follow_their_write_offs(self):
        for invoice in Invoice.objects.filter(pk__in=[i.pk for i in self.invoices]):
            lines = WriteOffLine.objects.filter(invoice=invoice, write_off__status="posted")
            assert invoice.amount_written_off == _sum(lines, "amount") - _sum(lines, "recovered_amount")


class TestWriteOffStateMachine(TestCase):
    def test_ar_and_the_allowance_tie_to_the_ledger(self):
        original = dates.today
        try:
            run_state_machine_as_test(WriteOffMachine, settings=settings(
                max_examples=8, stateful_step_count=10, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
            ))
        finally:
            dates.today = original
