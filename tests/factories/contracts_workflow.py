"""Shared set-up for the workflow, lifecycle, usage and API tests (no tests here).

The risk rules are pinned to a known set so these tests do not move when rules are added:
the payment-terms rule plus `blocking_when_flagged` (a blocking finding when the version's
notes contain BLOCK)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from contracts import services
from contracts.assessment import FindingResult
from contracts.models import ContractVersion
from contracts.risk_rules import payment_terms
from otc.models import ApprovalLimit
from tests.factories.contracts import FinancePolicyFactory, ProductFactory
from tests.factories.customers import CustomerFactory
from tests.factories.ledger import LegalEntityFactory
from tests.factories.otc import role_group, user_with_role
from tests.shared_data import built_once, fresh_copy

TODAY = dt.date(2026, 1, 15)


def blocking_when_flagged(ctx):
    if "BLOCK" in ctx.version.notes:
        return [FindingResult(rule="test_blocking", severity="blocking", explanation="Customer is blocked.",
                              mitigation="Ask for prepayment.")]
    return []


class World:
    """An entity with the default policy, a customer owned by `rep`, reviewers at every level
    with approval limits, and a product."""

    def __init__(self):
        self.entity = LegalEntityFactory()
        FinancePolicyFactory(legal_entity=self.entity)
        self.rep = user_with_role("Sales Rep", username="rep")
        self.other_rep = user_with_role("Sales Rep", username="rep2")
        self.reviewer = user_with_role("Contract Reviewer", username="reviewer")
        self.reviewer2 = user_with_role("Contract Reviewer", username="reviewer2")
        self.manager = user_with_role("Finance Manager", username="manager")
        self.controller = user_with_role("Controller", username="controller")
        self.controller2 = user_with_role("Controller", username="controller2")
        for role, amount in (("Contract Reviewer", "100000"), ("Finance Manager", "500000"),
                             ("Controller", "5000000")):
            ApprovalLimit.objects.create(kind="contract", role=role_group(role), currency="EUR",
                                         max_amount=Decimal(amount))
        self.customer = CustomerFactory(sales_owner=self.rep, credit_limit=Decimal("10000000.00"))
        self.product = ProductFactory(sku="PLAT", name="Platform")
        self.usage_product = ProductFactory(sku="API-CALLS", name="API calls", unit="E48")

    def data(self, **overrides):
        data = {
            "customer_id": self.customer.id, "legal_entity_id": self.entity.id, "title": "Platform deal",
            "currency": "EUR", "start_date": dt.date(2026, 1, 1), "end_date": dt.date(2026, 12, 31),
            "billing_frequency": "monthly", "billing_timing": "advance", "payment_terms_days": 30,
        }
        data.update(overrides)
        return data

    def line(self, monthly="1000.00", **overrides):
        line = {"product_id": self.product.id, "kind": "recurring", "quantity": "1", "unit_price": monthly,
                "description": "Platform subscription"}
        line.update(overrides)
        return line

    def usage_line(self, **overrides):
        line = {"product_id": self.usage_product.id, "kind": "usage", "quantity": "1", "unit_price": "0.0100",
                "minimum_commitment": "100.00", "description": "API calls"}
        line.update(overrides)
        return line

    def draft(self, monthly="1000.00", lines=None, **overrides) -> ContractVersion:
        contract = services.contract_create(data=self.data(**overrides), lines=lines or [self.line(monthly)],
                                            by=self.rep)
        return contract.current_version

    def submitted(self, monthly="1000.00", **overrides) -> ContractVersion:
        version = self.draft(monthly, **overrides)
        return services.contract_submit(version_id=version.id, by=self.rep)

    def active(self, monthly="1000.00", **overrides) -> ContractVersion:
        version = self.submitted(monthly, **overrides)
        return services.contract_decide(version_id=version.id, by=self.reviewer, decision="approved")


@pytest.fixture(scope="module")
def contracts_world_built(django_db_setup, django_db_blocker):
    """The World built once per test module (tests/shared_data.py). A module with transactional
    tests (which commit) overrides this with a function-scoped fixture returning `World()`."""
    yield from built_once(django_db_blocker, World)


@pytest.fixture(name="world")
def world_fixture(db, monkeypatch, today, contracts_world_built):
    monkeypatch.setattr("contracts.risk_rules.RULES", [payment_terms, blocking_when_flagged])
    today(TODAY)
    return fresh_copy(contracts_world_built)


world = world_fixture  # also importable under the fixture name
