import datetime as dt
from decimal import Decimal

import pytest

from contracts.assessment import contract_assess
from tests.factories.contracts import ContractLineFactory, ContractVersionFactory, FinancePolicyFactory

pytestmark = pytest.mark.django_db


def test_assessment_is_stored_with_the_version_it_assessed():
    version = ContractVersionFactory(payment_terms_days=90)
    FinancePolicyFactory(legal_entity=version.contract.legal_entity)
    ContractLineFactory(version=version, unit_price=Decimal("1000.00"))

    assessment = contract_assess(version_id=version.id, today=dt.date(2026, 1, 1))

    assert assessment.version == version
    assert assessment.contract_value == Decimal("12000.00")
    finding = assessment.findings.get(rule="payment_terms")
    assert finding.severity == "high"
    assert "Net 90 exceeds the standard Net 30 by 60 days" in finding.explanation
    assert assessment.required_levels == 2  # a high finding needs a manager
