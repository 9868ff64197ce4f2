"""Usage records: idempotent by source id, normalised to the month, only for usage lines of the
version in force; and two reviewers deciding the same level at once (PostgreSQL)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission

from contracts import services
from contracts.models import Approval, UsageRecord
from otc.errors import DomainError, InvalidTransition, ValidationFailed
from tests.factories.contracts_workflow import World, world_fixture  # noqa: F401
from tests.factories.races import race

pytestmark = pytest.mark.django_db


@pytest.fixture
def contracts_world_built(db):
    """This module has transactional tests (they commit): the World is built for each test."""
    return World()


@pytest.fixture
def usage_contract(world):
    version = world.draft(lines=[world.line(), world.usage_line()])
    services.contract_submit(version_id=version.id, by=world.rep)
    services.contract_decide(version_id=version.id, by=world.reviewer, decision="approved")
    return version


def _allow_usage(world):
    """Give the rep the integration's permission (the same user posts usage in these tests)."""
    world.rep.user_permissions.add(Permission.objects.get(codename="add_usagerecord"))
    world.rep = type(world.rep).objects.get(pk=world.rep.pk)


def _post(world, version, **overrides):
    args = {"contract_id": version.contract_id, "line_key": version.lines.get(kind="usage").line_key,
            "period_start": dt.date(2026, 3, 17), "quantity": Decimal("1200"), "source_id": "meter-1", "by": world.rep}
    args.update(overrides)
    return services.usage_record_post(**args)


def test_resend_returns_the_stored_record(world, usage_contract):
    _allow_usage(world)

    record, created = _post(world, usage_contract)
    again, created_again = _post(world, usage_contract, line_key=str(record.line_key), quantity="1200.00")

    assert (created, created_again, again.pk) == (True, False, record.pk)
    assert (record.period_start, record.quantity) == (dt.date(2026, 3, 1), Decimal("1200"))
    with pytest.raises(ValidationFailed) as exc:
        _post(world, usage_contract, quantity=Decimal("1300"))
    assert list(exc.value.fields) == ["source_id"]
    assert UsageRecord.objects.count() == 1


def test_only_usage_lines_of_a_contract_in_force(world, usage_contract):
    _allow_usage(world)
    recurring_key = usage_contract.lines.get(kind="recurring").line_key

    with pytest.raises(ValidationFailed) as exc:
        _post(world, usage_contract, line_key=recurring_key)
    assert list(exc.value.fields) == ["line_key"]
    with pytest.raises(ValidationFailed) as exc:
        _post(world, usage_contract, quantity=1.5)
    assert list(exc.value.fields) == ["quantity"]

    draft = world.draft(lines=[world.usage_line()])
    with pytest.raises(InvalidTransition):
        _post(world, draft, source_id="meter-2")
    assert UsageRecord.objects.count() == 0


def test_usage_needs_the_permission(world, usage_contract):
    with pytest.raises(DomainError):
        _post(world, usage_contract)  # a sales rep does not post usage; the CRM integration does
    assert UsageRecord.objects.count() == 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_reviewers_deciding_the_same_level_at_once_make_one_approval(monkeypatch, today):
    from contracts.risk_rules import payment_terms
    from tests.factories.contracts_workflow import TODAY, blocking_when_flagged

    monkeypatch.setattr("contracts.risk_rules.RULES", [payment_terms, blocking_when_flagged])
    today(TODAY)
    world = World()
    version = world.submitted("10000.00")  # two levels: both reviewers race for level 1

    def decide(user):
        try:
            services.contract_decide(version_id=version.id, by=user, decision="approved")
            return "ok"
        except DomainError as exc:
            return type(exc).__name__

    outcomes, failures = race([lambda u=u: decide(u) for u in (world.reviewer, world.reviewer2)])
    assert failures == []
    assert sorted(outcomes) == ["PermissionDenied", "ok"]  # the loser finds level 2, a Finance Manager's
    assert list(Approval.objects.filter(version=version).values_list("level", flat=True)) == [1]
    version.refresh_from_db()
    assert version.status == "in_review"
