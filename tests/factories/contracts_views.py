"""Set-up shared by the view, queue and browser tests of the contract pages (no tests here):
the workflow tests' World (entity, policy, reps, reviewers at every level with limits, a
customer, products) with the risk rules pinned to payment terms plus a test blocking rule."""

from __future__ import annotations

import pytest

from contracts.risk_rules import payment_terms
from tests.factories.contracts_workflow import TODAY, World, blocking_when_flagged


@pytest.fixture(name="world")
def world_fixture(db, monkeypatch, today) -> World:
    monkeypatch.setattr("contracts.risk_rules.RULES", [payment_terms, blocking_when_flagged])
    today(TODAY)
    return World()
