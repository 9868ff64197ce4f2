"""A Hypothesis state machine over cash application: random receipts (identified or not),
applications (some too big on purpose), reversals of applications, refunds and returned
receipts. After every step: AR control and unapplied cash equal their open items, every
invoice's paid amount equals its live applications and its status follows its balance, and no
receipt is applied or refunded past its amount."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

import pytest
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
from ledger.selectors import ar_reconciliation
from otc.errors import DomainError
from receivables.models import Receipt, ReceiptApplication
from receivables.services import (
    application_reverse,
    bank_account_create,
    receipt_apply,
    receipt_record,
    receipt_refund,
    receipt_reverse,
)
from tests.factories.billing import de_entity
from tests.factories.customers import CustomerFactory
from tests.factories.otc import user_with_role
from tests.factories.receivables import issue_for

CENT = Decimal("0.01")
_MACHINES = itertools.count(1)


class CashMachine(RuleBasedStateMachine):
    """Examples share one database transaction: each machine works on its own entity and account."""

    def __init__(self) -> None:
        super().__init__()
        tag = f"{next(_MACHINES):04d}"  # entity code S0001: its invoice prefix S0001-INV fits 10 characters
        self.entity = de_entity(f"S{tag}")
        self.account = bank_account_create(legal_entity_id=self.entity.pk, name="Op", account_number=f"DE-SM-{tag}",
                                           currency="EUR", by=user_with_role("Controller"))
        self.customers = [CustomerFactory(country="DE"), CustomerFactory(country="DE")]
        self.clerk = user_with_role("Cash Application Specialist")
        self.manager = user_with_role("Finance Manager")
        self.invoices = [issue_for(self.entity, c, [price]) for c in self.customers for price in ("100.00", "250.50")]

    def _receipts(self):
        return Receipt.objects.filter(bank_account=self.account)

    def _applications(self):
        return ReceiptApplication.objects.filter(receipt__bank_account=self.account)

    def _live(self):
        return list(self._receipts().exclude(status__in=["reversed", "refunded"]).order_by("pk"))

    @rule(cents=st.integers(1, 60000), customer=st.sampled_from([0, 1, None]))
    def receive(self, cents, customer):
        receipt_record(by=self.clerk, data={
            "bank_account_id": self.account.pk, "value_date": dt.date(2026, 4, 20), "amount": Decimal(cents) * CENT,
            "customer_id": self.customers[customer].pk if customer is not None else None})

    @precondition(lambda self: self._live())
    @rule(data=st.data())
    def apply(self, data):
        receipt = data.draw(st.sampled_from(self._live()))
        invoice = Invoice.objects.get(pk=data.draw(st.sampled_from([i.pk for i in self.invoices])))
        cents = data.draw(st.integers(1, 40000))
        amount = Decimal(cents) * CENT
        fits = (amount <= receipt.unapplied_amount and amount <= invoice.balance_due
                and receipt.customer_id in (None, invoice.customer_id))
        if fits:
            receipt_apply(receipt_id=receipt.pk, allocations=[(invoice.pk, amount)], by=self.clerk)
        else:
            before = self._applications().count()
            with pytest.raises(DomainError):
                receipt_apply(receipt_id=receipt.pk, allocations=[(invoice.pk, amount)], by=self.clerk)
            assert self._applications().count() == before

    @precondition(lambda self: self._applications().filter(reversed_at__isnull=True).exists())
    @rule(data=st.data())
    def unapply(self, data):
        pk = data.draw(st.sampled_from(list(self._applications().filter(reversed_at__isnull=True)
                                            .order_by("pk").values_list("pk", flat=True))))
        application_reverse(application_id=pk, by=self.clerk, reason="wrong invoice")

    @precondition(lambda self: any(r.customer_id and r.unapplied_amount > 0 for r in self._live()))
    @rule(data=st.data())
    def refund(self, data):
        receipt = data.draw(st.sampled_from([r for r in self._live() if r.customer_id and r.unapplied_amount > 0]))
        cents = data.draw(st.integers(1, int(receipt.unapplied_amount / CENT)))
        receipt_refund(receipt_id=receipt.pk, amount=Decimal(cents) * CENT, by=self.manager, reason="refund")

    @precondition(lambda self: any(not r.amount_refunded for r in self._live()))
    @rule(data=st.data())
    def returned(self, data):
        receipt = data.draw(st.sampled_from([r for r in self._live() if not r.amount_refunded]))
        receipt_reverse(receipt_id=receipt.pk, by=self.clerk, reason="R01 insufficient funds")

    @invariant()
    def books_reconcile(self):
        for row in ar_reconciliation(legal_entity_id=self.entity.pk):
            assert row["difference"] == 0, row

    @invariant()
    def invoices_follow_their_applications(self):
        for invoice in Invoice.objects.filter(pk__in=[i.pk for i in self.invoices]):
            live = (ReceiptApplication.objects.filter(invoice=invoice, reversed_at__isnull=True)
                    .aggregate(total=Sum("amount"))["total"] or Decimal(0))
            assert invoice.amount_paid == live and 0 <= invoice.balance_due <= invoice.gross_total
            assert invoice.status == payment_status(invoice)

    @invariant()
    def receipts_never_over_applied(self):
        for receipt in self._receipts():
            live = (receipt.applications.filter(reversed_at__isnull=True).aggregate(total=Sum("amount"))["total"]
                    or Decimal(0))
            assert receipt.amount_applied == live
            assert 0 <= receipt.unapplied_amount <= receipt.amount


class TestCashApplicationStateMachine(TestCase):
    def test_books_stay_reconciled(self):
        run_state_machine_as_test(CashMachine, settings=settings(
            max_examples=15, stateful_step_count=10, deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        ))
