import datetime as dt
from decimal import Decimal

import pytest

from contracts.values import contract_values, months_between
from tests.factories.contracts import ContractLineFactory, ContractVersionFactory

pytestmark = pytest.mark.django_db


def test_months_between_prorates_partial_months_by_days():
    assert months_between(dt.date(2026, 3, 10), dt.date(2026, 3, 31)) == Decimal(22) / Decimal(31)
    assert months_between(dt.date(2026, 1, 1), dt.date(2026, 12, 31)) == 12
    assert months_between(dt.date(2024, 2, 15), dt.date(2024, 2, 29)) == Decimal(15) / Decimal(29)  # leap year


def test_values_of_a_mixed_contract_with_discounts_and_a_free_period():
    version = ContractVersionFactory(discount_percent=Decimal("10"), free_periods=1, billing_frequency="monthly",
                                     start_date=dt.date(2026, 3, 10), end_date=dt.date(2027, 3, 9))
    ContractLineFactory(version=version, unit_price=Decimal("3100.00"), discount_percent=Decimal("5"))
    ContractLineFactory(version=version, kind="usage", unit_price=Decimal("0.10"), minimum_commitment=Decimal("500"))
    ContractLineFactory(version=version, kind="one_time", unit_price=Decimal("2000"))
    ContractLineFactory(version=version, kind="milestone", unit_price=Decimal("5000"), milestone_date=dt.date(2027, 6, 1))

    values = contract_values(version)

    # recurring: 3100 x 0.95 x 0.90 = 2650.50 a month; 12 months in the term, one free month
    # usage minimum: 500 x 12; one-time 2000 x 0.90; the milestone falls after the term
    assert values.monthly_recurring == Decimal("2650.50")
    assert values.total == Decimal("2650.50") * 11 + Decimal("6000.00") + Decimal("1800.00")
    assert values.first_year == values.total
    assert values.annualised == (Decimal("2650.50") + 500) * 12
