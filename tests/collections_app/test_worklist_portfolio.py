"""Portfolios: assignment rules by entity, country and size applied in bulk; manual override kept
by the rules; corporate groups follow the parent; history; who may reassign."""

from __future__ import annotations

from decimal import Decimal

import pytest

from collections_app.models import CollectorAssignment, CollectorAssignmentChange
from collections_app.services.portfolio import (
    assignment_rule_create,
    portfolio_apply_rules,
    portfolio_reassign,
    portfolio_release_override,
)
from otc.errors import PermissionDenied, ValidationFailed
from tests.factories.billing import de_entity
from tests.factories.collections_worklist import collector, issued_for, manager
from tests.factories.customers import CustomerFactory
from tests.factories.otc import user_with_role

pytestmark = pytest.mark.django_db
D = Decimal


def collector_of(customer) -> int | None:
    return CollectorAssignment.objects.filter(customer=customer).values_list("collector_id", flat=True).first()


def test_rules_assign_by_entity_country_and_size_lowest_priority_first_in_bulk():
    boss = manager()
    de, fr_entity = de_entity(), de_entity("FR01")
    anna, ben, carl = collector(username="anna"), collector(username="ben"), collector(username="carl")
    big_de = CustomerFactory(country="DE", credit_limit=D("500000"))
    small_de = CustomerFactory(country="DE", credit_limit=D("10000"))
    french = CustomerFactory(country="FR", credit_limit=D("10000"))
    other_entity = CustomerFactory(country="DE", credit_limit=D("10000"))
    for customer in (big_de, small_de, french):
        issued_for(de, customer, "100.00")
    issued_for(fr_entity, other_entity, "100.00")
    assignment_rule_create(by=boss, collector_id=anna.pk, priority=10, legal_entity_id=de.pk, size="large")
    assignment_rule_create(by=boss, collector_id=ben.pk, priority=20, legal_entity_id=de.pk, country="DE")
    assignment_rule_create(by=boss, collector_id=carl.pk, priority=30)

    result = portfolio_apply_rules(by=boss)

    assert (collector_of(big_de), collector_of(small_de), collector_of(french), collector_of(other_entity)) == (
        anna.pk, ben.pk, carl.pk, carl.pk)
    assert result["changed"] == 4 and result["unassigned"] == 0
    # applying again changes nothing and writes no history
    before = CollectorAssignmentChange.objects.count()
    assert portfolio_apply_rules(by=boss)["changed"] == 0
    assert CollectorAssignmentChange.objects.count() == before


def test_a_manual_override_survives_the_rules_until_released_and_history_records_each_change():
    boss = manager()
    anna, ben = collector(username="anna"), collector(username="ben")
    customer = CustomerFactory()
    assignment_rule_create(by=boss, collector_id=anna.pk)
    portfolio_apply_rules(by=boss)
    assert collector_of(customer) == anna.pk

    portfolio_reassign(by=boss, customer_ids=[customer.pk], collector_id=ben.pk, note="Ben speaks French")
    portfolio_apply_rules(by=boss)
    assert collector_of(customer) == ben.pk
    assert CollectorAssignment.objects.get(customer=customer).is_manual

    portfolio_release_override(by=boss, customer_ids=[customer.pk])
    assert collector_of(customer) == anna.pk
    history = list(CollectorAssignmentChange.objects.filter(customer=customer).order_by("at", "id")
                   .values_list("from_collector_id", "to_collector_id", "source", "note"))
    assert history == [(None, anna.pk, "rule", "Assignment rules applied"),
                       (anna.pk, ben.pk, "manual", "Ben speaks French"),
                       (ben.pk, anna.pk, "rule", "Assignment rules applied")]


def test_a_corporate_group_is_worked_by_the_parents_collector():
    boss = manager()
    anna, ben = collector(username="anna"), collector(username="ben")
    parent = CustomerFactory(country="DE", credit_limit=D("900000"))
    child = CustomerFactory(country="FR", credit_limit=D("1000"), parent=parent)
    assignment_rule_create(by=boss, collector_id=anna.pk, size="large")
    assignment_rule_create(by=boss, collector_id=ben.pk, priority=200)
    portfolio_apply_rules(by=boss)
    assert (collector_of(parent), collector_of(child)) == (anna.pk, anna.pk)
    assert CollectorAssignment.objects.get(customer=child).source == "group"
    # reassigning the parent takes the group along
    portfolio_reassign(by=boss, customer_ids=[parent.pk], collector_id=ben.pk)
    assert (collector_of(parent), collector_of(child)) == (ben.pk, ben.pk)


def test_only_a_portfolio_manager_reassigns_and_only_to_a_collector():
    customer = CustomerFactory()
    with pytest.raises(PermissionDenied):
        portfolio_reassign(by=collector(), customer_ids=[customer.pk], collector_id=collector(username="x").pk)
    with pytest.raises(ValidationFailed, match="collections worklist"):
        portfolio_reassign(by=manager(), customer_ids=[customer.pk],
                           collector_id=user_with_role("Sales Rep").pk)
    assert not CollectorAssignment.objects.exists()
