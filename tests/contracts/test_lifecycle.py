"""Activation (at once and by the daily task), expiry and auto-renewal, termination, amendments
with supersession from their effective date, the daily command and its beat schedule."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.management import call_command

from contracts import services
from contracts.models import Contract, ContractVersion
from otc.errors import InvalidTransition, PermissionDenied, ValidationFailed
from otc.models import OutboxEvent, StatusChange
from tests.factories.contracts_workflow import contracts_world_built, world_fixture  # noqa: F401

pytestmark = pytest.mark.django_db


def _approve_all(version, *users):
    for user in users:
        services.contract_decide(version_id=version.id, by=user, decision="approved")
    version.refresh_from_db()
    return version


def test_future_start_waits_for_the_daily_task(world):
    version = world.submitted(start_date=dt.date(2026, 3, 1), end_date=dt.date(2027, 2, 28))
    version = _approve_all(version, world.reviewer)
    assert (version.status, version.contract.status) == ("approved", "approved")

    assert services.contracts_activate_due(today=dt.date(2026, 2, 28)) == 0
    assert services.contracts_activate_due(today=dt.date(2026, 3, 1)) == 1
    assert services.contracts_activate_due(today=dt.date(2026, 3, 1)) == 0  # idempotent

    version.refresh_from_db()
    contract = Contract.objects.get()
    assert (version.status, contract.status, contract.current_version_id) == ("active", "active", version.id)


def test_expiry_without_auto_renew(world):
    version = world.active()
    assert services.contracts_expire_due(today=dt.date(2026, 12, 31)) == 0
    assert services.contracts_expire_due(today=dt.date(2027, 1, 1)) == 1
    assert services.contracts_expire_due(today=dt.date(2027, 1, 2)) == 0
    version.refresh_from_db()
    assert (version.status, version.contract.status) == ("expired", "expired")
    assert OutboxEvent.objects.filter(topic="contract.expired").count() == 1


def test_auto_renew_extends_by_the_original_term_each_time(world):
    version = world.active(auto_renew=True, renewal_notice_days=60)

    assert services.contracts_expire_due(today=dt.date(2027, 1, 1)) == 1
    assert services.contracts_expire_due(today=dt.date(2027, 1, 1)) == 0
    version.refresh_from_db()
    assert (version.status, version.end_date) == ("active", dt.date(2027, 12, 31))
    assert services.contracts_expire_due(today=dt.date(2028, 1, 5)) == 1
    version.refresh_from_db()
    assert version.end_date == dt.date(2028, 12, 31)  # 12 months again, not 24
    renewals = StatusChange.objects.filter(field="end_date", object_id=version.id)
    assert list(renewals.values_list("from_state", "to_state", "note")) == [
        ("2026-12-31", "2027-12-31", "auto-renewed for 12 months"),
        ("2027-12-31", "2028-12-31", "auto-renewed for 12 months")]


def test_termination(world):
    version = world.active()
    contract = version.contract

    with pytest.raises(PermissionDenied):
        services.contract_terminate(contract_id=contract.id, by=world.manager, on=dt.date(2026, 6, 30), reason="x")
    with pytest.raises(ValidationFailed):
        services.contract_terminate(contract_id=contract.id, by=world.controller, on=dt.date(2026, 6, 30), reason="")
    with pytest.raises(ValidationFailed):
        services.contract_terminate(contract_id=contract.id, by=world.controller, on=dt.date(2027, 6, 30),
                                    reason="Customer insolvent")
    contract.refresh_from_db()
    assert contract.status == "active"

    services.contract_terminate(contract_id=contract.id, by=world.controller, on=dt.date(2026, 6, 30),
                                reason="Customer insolvent")
    contract.refresh_from_db()
    version.refresh_from_db()
    assert (contract.status, contract.terminated_on, contract.termination_reason) == (
        "terminated", dt.date(2026, 6, 30), "Customer insolvent")
    assert version.status == "terminated"
    with pytest.raises(InvalidTransition):
        services.contract_amend(contract_id=contract.id, by=world.rep, effective_date=dt.date(2026, 5, 1))


def test_amendment_reviewed_then_supersedes_from_its_effective_date(world):
    v1 = world.active(lines=None)
    key = v1.lines.get().line_key

    v2 = services.contract_amend(contract_id=v1.contract_id, by=world.rep, effective_date=dt.date(2026, 7, 1))
    assert (v2.version, v2.status, v2.amends_id, v2.effective_date) == (2, "draft", v1.id, dt.date(2026, 7, 1))
    assert list(v2.lines.values_list("line_key", "unit_price")) == [(key, Decimal("1000.0000"))]
    with pytest.raises(InvalidTransition, match="already an open amendment"):
        services.contract_amend(contract_id=v1.contract_id, by=world.rep, effective_date=dt.date(2026, 8, 1))

    services.contract_version_update(version_id=v2.id, data={}, by=world.rep,
                                     lines=[world.line("1500.00", line_key=str(key)), world.usage_line()])
    services.contract_submit(version_id=v2.id, by=world.rep)
    v2 = _approve_all(v2, world.reviewer2)
    v1.refresh_from_db()
    contract = Contract.objects.get()
    assert (v2.status, v1.status, contract.status, contract.current_version_id) == (
        "approved", "active", "active", v1.id)

    assert services.contracts_activate_due(today=dt.date(2026, 7, 1)) == 1
    v1.refresh_from_db()
    v2.refresh_from_db()
    contract.refresh_from_db()
    assert (v1.status, v2.status, contract.current_version_id) == ("superseded", "active", v2.id)
    assert v2.lines.get(kind="recurring").line_key == key
    note = StatusChange.objects.get(object_id=v1.id, to_state="superseded").note
    assert note == "superseded by v2 from 2026-07-01"


def test_amendment_rejection_leaves_the_contract_on_its_old_version(world):
    v1 = world.active()
    v2 = services.contract_amend(contract_id=v1.contract_id, by=world.rep, effective_date=dt.date(2026, 2, 1))
    services.contract_submit(version_id=v2.id, by=world.rep)
    services.contract_decide(version_id=v2.id, by=world.reviewer2, decision="rejected", comment="Price too low")
    v1.refresh_from_db()
    assert (v1.status, v1.contract.status, v1.contract.current_version_id) == ("active", "active", v1.id)
    assert ContractVersion.objects.get(pk=v2.id).status == "rejected"


def test_amendment_already_effective_activates_at_once(world):
    v1 = world.active()
    v2 = services.contract_amend(contract_id=v1.contract_id, by=world.rep, effective_date=dt.date(2026, 1, 10))
    services.contract_submit(version_id=v2.id, by=world.rep)
    v2 = _approve_all(v2, world.reviewer2)
    v1.refresh_from_db()
    assert (v1.status, v2.status) == ("superseded", "active")


def test_amendment_date_must_follow_the_version_in_force(world):
    v1 = world.active()
    with pytest.raises(ValidationFailed) as exc:
        services.contract_amend(contract_id=v1.contract_id, by=world.rep, effective_date=dt.date(2026, 1, 1))
    assert list(exc.value.fields) == ["effective_date"]
    assert ContractVersion.objects.count() == 1


def test_daily_command_and_schedule(world):
    from django_celery_beat.models import PeriodicTask

    version = world.submitted(start_date=dt.date(2026, 2, 1), end_date=dt.date(2026, 12, 31))
    _approve_all(version, world.reviewer)
    call_command("contracts_daily", "--date", "2026-02-01")
    version.refresh_from_db()
    assert version.status == "active"

    call_command("contracts_schedule")
    call_command("contracts_schedule")
    task = PeriodicTask.objects.get(task="contracts.daily")
    assert (task.crontab.hour, task.crontab.minute, task.enabled) == ("0", "30", True)


def test_daily_task_runs_both(world, today):
    from contracts.tasks import contracts_daily

    world.active()
    today(dt.date(2027, 1, 1))
    assert contracts_daily.delay().get() == {"activated": 0, "expired_or_renewed": 1}
