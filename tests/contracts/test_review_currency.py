"""The review page compares the contract value with the policy's thresholds in the entity's
currency, as the assessment does."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from contracts.assessment import contract_assess
from ledger.models import FxRate
from tests.factories.contracts import ContractLineFactory, ContractVersionFactory, FinancePolicyFactory
from tests.factories.otc import user_with_role

pytestmark = pytest.mark.django_db


def test_usd_contract_in_a_eur_entity_is_compared_in_eur(client, today):
    today(dt.date(2026, 1, 1))
    version = ContractVersionFactory(currency="USD")  # the factory entity's currency is EUR
    FinancePolicyFactory(legal_entity=version.contract.legal_entity, reviewer_max_value=Decimal("100000"),
                         manager_max_value=Decimal("500000"))
    ContractLineFactory(version=version, unit_price=Decimal("9000.00"))  # 108,000.00 USD a year
    FxRate.objects.create(date=dt.date(2025, 12, 31), from_currency="USD", to_currency="EUR", rate=Decimal("0.9"))
    version.contract.current_version = version
    version.contract.save()
    contract_assess(version_id=version.id)
    client.force_login(user_with_role("Contract Reviewer"))

    page = client.get(reverse("contracts:detail", args=[version.contract_id])).content.decode()

    # 108,000.00 USD is 97,200.00 EUR: within the reviewer's 100,000.00 EUR
    assert "108,000.00 USD" in page
    assert "≈ 97,200.00 EUR" in page
    assert "reviewer alone up to 100,000.00 EUR" in page
    row = page[page.index("Total contract value"):page.index("Currency</td>")]
    assert "within policy" in row
