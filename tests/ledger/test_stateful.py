"""A Hypothesis state machine over the database: random invoices (EUR, JPY, KWD), receipts
(including over-settlement attempts) and reversals. After every step each open item's
open_amount equals the sum of its journal lines, AR control equals the sum of open items per
currency, and the trial balance is zero."""

import datetime as dt
from decimal import Decimal

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

from ledger.models import JournalEntry, OpenItem
from ledger.selectors import ar_reconciliation, trial_balance
from ledger.services import LineSpec, OverSettlement, journal_post, journal_reverse
from otc.money import minor_units
from tests.factories.customers import CustomerFactory
from tests.factories.ledger import FxRateFactory, LegalEntityFactory, post_invoice

DAY = dt.date(2026, 3, 15)
CURRENCIES = ["EUR", "JPY", "KWD"]


def _money(units: int, currency: str) -> Decimal:
    return Decimal(units).scaleb(-minor_units(currency))


class LedgerMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.entity = LegalEntityFactory(functional_currency="EUR")
        FxRateFactory(date=dt.date(2026, 1, 1), from_currency="JPY", to_currency="EUR", rate=Decimal("0.0061234567"))
        FxRateFactory(date=dt.date(2026, 1, 1), from_currency="KWD", to_currency="EUR", rate=Decimal("2.9876543210"))
        self.customers = [CustomerFactory(), CustomerFactory()]
        self.count = 0

    def _items(self):
        return OpenItem.objects.filter(legal_entity=self.entity).order_by("id")

    def _entries(self):
        return JournalEntry.objects.filter(legal_entity=self.entity, reverses__isnull=True, reversed_by__isnull=True).order_by("id")

    @rule(customer=st.integers(0, 1), units=st.integers(1, 10**8), currency=st.sampled_from(CURRENCIES))
    def invoice(self, customer, units, currency):
        self.count += 1
        post_invoice(self.entity, self.customers[customer], _money(units, currency), currency=currency, date=DAY,
                     number=f"H-{self.entity.code}-{self.count}")

    @precondition(lambda self: self._items().exclude(open_amount=0).exists())
    @rule(data=st.data())
    def settle(self, data):
        item = data.draw(st.sampled_from(list(self._items().exclude(open_amount=0))))
        places = minor_units(item.currency)
        open_units = int(item.open_amount.scaleb(places))
        units = data.draw(st.integers(1, open_units + 2))
        amount = _money(units, item.currency)
        lines = [LineSpec(amount, role="cash"),
                 LineSpec(-amount, role="ar", customer_id=item.customer_id, settle_item_id=item.id)]
        post = lambda: journal_post(legal_entity_id=self.entity.id, kind="receipt", document_date=DAY, by=None,  # noqa: E731
                                    currency=item.currency, lines=lines)
        if units > open_units:
            before = JournalEntry.objects.count()
            with self.assertRaises(OverSettlement):
                post()
            assert JournalEntry.objects.count() == before
        else:
            post()

    @precondition(lambda self: self._entries().exists())
    @rule(data=st.data())
    def reverse(self, data):
        entry = data.draw(st.sampled_from(list(self._entries())))
        allowed = True
        for line in entry.lines.select_related("open_item"):
            item = line.open_item
            if item is not None:
                after = item.open_amount - line.amount
                allowed &= (0 <= after <= item.original_amount)
        if allowed:
            journal_reverse(entry_id=entry.id, by=None)
        else:
            with self.assertRaises(OverSettlement):
                journal_reverse(entry_id=entry.id, by=None)

    def assertRaises(self, exc):  # noqa: N802 - unittest style inside the machine
        import pytest

        return pytest.raises(exc)

    @invariant()
    def open_items_equal_their_lines(self):
        for item in self._items().prefetch_related("lines"):
            assert item.open_amount == sum(line.amount for line in item.lines.all()), item.document_number
            assert min(0, item.original_amount) <= item.open_amount <= max(0, item.original_amount)

    @invariant()
    def ar_control_equals_open_items(self):
        for row in ar_reconciliation(legal_entity_id=self.entity.id):
            assert row["difference"] == 0, row

    @invariant()
    def trial_balance_is_zero(self):
        assert trial_balance(legal_entity_id=self.entity.id, date_to=dt.date(2030, 1, 1)).total_balance == 0


class TestLedgerStateMachine(TestCase):
    def test_books_stay_reconciled(self):
        run_state_machine_as_test(LedgerMachine, settings=settings(
            max_examples=30, stateful_step_count=12, deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        ))
