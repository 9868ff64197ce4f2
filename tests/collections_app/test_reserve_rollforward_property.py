"""Property: after any sequence of reserve true-ups (charges and releases), their reversals,
write-offs and recoveries over several months, the allowance roll-forward ties to the ledger in
every month (closing = the account's balance read separately) and each column holds exactly what
the entries of its kind moved."""

import datetime as dt
import itertools
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from collections_app.selectors.reserve_reports import allowance_rollforward
from ledger.models import JournalEntry
from ledger.services import LineSpec, journal_post, journal_reverse
from tests.factories.collections_reserve import reserve_entity
from tests.factories.customers import CustomerFactory
from tests.factories.ledger import post_invoice

MONTHS = [dt.date(2026, 3, 15), dt.date(2026, 4, 15), dt.date(2026, 5, 15), dt.date(2026, 6, 15)]
_CODES = itertools.count(1)
OPS = st.lists(st.tuples(st.sampled_from(["charge", "release", "write_off", "recovery", "reverse"]),
                         st.integers(0, 3), st.integers(1, 500_00)), min_size=1, max_size=12)


class TestRollForwardTies(TestCase):
    @settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(ops=OPS)
    def test_rollforward_ties_after_any_sequence(self, ops):
        entity = reserve_entity(f"P{next(_CODES)}")  # short: its invoice prefix is "<code>-INV"
        customer = CustomerFactory()
        expected = {"charge": Decimal(0), "write_offs": Decimal(0), "recoveries": Decimal(0)}
        reserves: list[tuple[JournalEntry, Decimal]] = []
        for op, month, cents in ops:
            day, amount = MONTHS[month], Decimal(cents) / 100
            if op in ("charge", "release"):
                signed = amount if op == "charge" else -amount
                entry = journal_post(legal_entity_id=entity.id, kind="reserve", document_date=day, currency="EUR",
                                     by=None, lines=[LineSpec(amount=signed, role="bad_debt_expense"),
                                                     LineSpec(amount=-signed, role="allowance")])
                reserves.append((entry, signed))
                expected["charge"] += signed
            elif op == "reverse" and reserves:
                entry, signed = reserves.pop()
                journal_reverse(entry_id=entry.id, by=None, document_date=max(day, entry.document_date))
                expected["charge"] -= signed
            elif op == "write_off":
                item = post_invoice(entity, customer, amount, date=day, currency="EUR").lines.get(
                    account__role="ar").open_item
                journal_post(legal_entity_id=entity.id, kind="write_off", document_date=day, currency="EUR", by=None,
                             lines=[LineSpec(amount=amount, role="allowance"),
                                    LineSpec(amount=-amount, role="ar", customer_id=customer.id,
                                             settle_item_id=item.id)])
                expected["write_offs"] -= amount
            elif op == "recovery":
                journal_post(legal_entity_id=entity.id, kind="recovery", document_date=day, currency="EUR", by=None,
                             lines=[LineSpec(amount=amount, role="cash"), LineSpec(amount=-amount, role="allowance")])
                expected["recoveries"] += amount

        report = allowance_rollforward(legal_entity_id=entity.id, first=dt.date(2026, 3, 1), last=dt.date(2026, 6, 30))

        assert report["ties"], [(m["month"], m["difference"]) for m in report["months"]]
        assert all(m["difference"] == 0 for m in report["months"])
        for column, value in expected.items():
            assert report["totals"][column] == value, column
        assert report["totals"]["fx_other"] == 0
        assert report["closing"] == report["months"][-1]["ledger"] == sum(expected.values())
