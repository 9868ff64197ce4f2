"""The review workflow: submit, approval chains by value and findings, segregation of duties,
limits, blocking findings and the override, changes requested and resubmission, events, e-mail."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core import mail

from contracts import services
from contracts.models import Approval, Contract, ContractComment, ContractVersion
from contracts.selectors import can_decide, changes_requested_queue, next_level, review_queue, versions_diff
from otc.errors import (
    InvalidTransition,
    LimitExceeded,
    NotFound,
    PermissionDenied,
    SegregationOfDuties,
    ValidationFailed,
)
from otc.models import OutboxEvent, StatusChange
from tests.factories.contracts_workflow import contracts_world_built, world_fixture  # noqa: F401
from tests.factories.otc import user_with_role

pytestmark = pytest.mark.django_db


def _approve(version, user, comment=""):
    return services.contract_decide(version_id=version.id, by=user, decision="approved", comment=comment)


def test_create_numbers_the_contract_and_assesses_version_1(world):
    version = world.draft("1000.00")

    contract = version.contract
    assert contract.number == "CT-2026-00001"
    assert (contract.status, contract.sales_owner, contract.created_by) == ("draft", world.rep, world.rep)
    assert (version.version, version.status, version.effective_date) == (1, "draft", dt.date(2026, 1, 1))
    assert version.assessments.get().contract_value == Decimal("12000.00")
    assert version.lines.get().position == 1


def test_create_names_the_bad_line_field_and_writes_nothing(world):
    lines = [world.line(), world.line(), world.line(unit_price=0.5)]

    with pytest.raises(ValidationFailed) as exc:
        services.contract_create(data=world.data(), lines=lines, by=world.rep)

    assert list(exc.value.fields) == ["lines[2].unit_price"]
    assert "lines[2].unit_price: Send amounts as strings" in exc.value.message
    assert Contract.objects.count() == 0 and ContractVersion.objects.count() == 0


def test_create_refuses_another_reps_customer(world):
    with pytest.raises(ValidationFailed) as exc:
        services.contract_create(data=world.data(), lines=[world.line()], by=world.other_rep)

    assert exc.value.fields == {"customer_id": ["No such customer."]}
    assert Contract.objects.count() == 0


def test_one_level_contract_approved_and_active_at_once(world, django_capture_on_commit_callbacks):
    version = world.draft("1000.00")
    with django_capture_on_commit_callbacks(execute=True):
        services.contract_submit(version_id=version.id, by=world.rep)
    version.refresh_from_db()
    assert (version.status, version.submitted_by) == ("submitted", world.rep)
    assert next_level(version) == 1

    with django_capture_on_commit_callbacks(execute=True):
        _approve(version, world.reviewer, "fine")

    version.refresh_from_db()
    contract = version.contract
    contract.refresh_from_db()
    assert version.status == "active"
    assert (contract.status, contract.current_version_id) == ("active", version.id)
    assert list(version.approvals.values_list("level", "approver__username", "decision")) == [
        (1, "reviewer", "approved")]
    changes = StatusChange.objects.filter(object_id=version.id, content_type__model="contractversion")
    assert list(changes.values_list("from_state", "to_state")) == [
        ("", "draft"), ("draft", "submitted"), ("submitted", "in_review"), ("in_review", "approved"),
        ("approved", "active")]
    topics = list(OutboxEvent.objects.values_list("topic", flat=True))
    assert topics == ["contract.submitted", "contract.approved", "contract.activated"]
    assert [m.to for m in mail.outbox] == [["reviewer2@otc.example"], ["reviewer@otc.example"], ["rep@otc.example"]]
    assert mail.outbox[0].subject.startswith("For review: CT-2026-00001 v1")
    assert mail.outbox[-1].to == ["rep@otc.example"]
    assert "was approved by" in mail.outbox[-1].body


def test_two_levels_by_value(world):
    version = world.submitted("10000.00")  # 120,000 > the reviewer's 100,000
    assert version.assessments.first().required_levels == 2

    _approve(version, world.reviewer)
    version.refresh_from_db()
    assert (version.status, next_level(version)) == ("in_review", 2)
    with pytest.raises(PermissionDenied, match="Level 2 needs the Finance Manager role"):
        _approve(version, world.reviewer2)

    _approve(version, world.manager)
    version.refresh_from_db()
    assert version.status == "active"
    assert list(version.approvals.values_list("level", "approver__username")) == [(1, "reviewer"), (2, "manager")]


def test_two_levels_by_high_finding(world):
    version = world.submitted("1000.00", payment_terms_days=90)
    assert version.assessments.first().required_levels == 2
    _approve(version, world.reviewer)
    _approve(version, world.manager)
    version.refresh_from_db()
    assert version.status == "active"


def test_three_levels_by_value(world):
    version = world.submitted("50000.00")  # 600,000 > the manager's 500,000
    assert version.assessments.first().required_levels == 3
    _approve(version, world.reviewer)
    _approve(version, world.manager)
    version.refresh_from_db()
    assert (version.status, next_level(version)) == ("in_review", 3)
    _approve(version, world.controller)
    version.refresh_from_db()
    assert version.status == "active"


def test_a_higher_role_may_take_a_lower_level_but_only_one(world):
    version = world.submitted("10000.00")
    _approve(version, world.manager)  # level 1, taken by a Finance Manager

    with pytest.raises(SegregationOfDuties, match="already approved level 1"):
        _approve(version, world.manager)

    assert version.approvals.count() == 1
    _approve(version, world.controller)
    version.refresh_from_db()
    assert version.status == "active"


@pytest.mark.parametrize("who", ["rep", "creator", "submitter"])
def test_parties_to_the_contract_never_decide(world, who):
    version = world.draft("1000.00")
    if who == "creator":  # a reviewer who created the contract for the rep
        version.contract.created_by = world.reviewer
        version.contract.save(update_fields=["created_by"])
        decider = world.reviewer
    elif who == "submitter":
        submitter = user_with_role("Contract Reviewer", username="sub")
        submitter.groups.add(*world.rep.groups.all())
        submitter = type(submitter).objects.get(pk=submitter.pk)
        version.contract.customer.sales_owner = submitter
        version.contract.customer.save(update_fields=["sales_owner"])
        decider = submitter
    else:
        world.rep.groups.add(*world.reviewer.groups.all())
        decider = type(world.rep).objects.get(pk=world.rep.pk)
    services.contract_submit(version_id=version.id, by=decider if who == "submitter" else world.rep)

    with pytest.raises(SegregationOfDuties):
        services.contract_decide(version_id=version.id, by=decider, decision="approved")

    version.refresh_from_db()
    assert version.status == "submitted"
    assert Approval.objects.count() == 0
    assert not OutboxEvent.objects.filter(topic="contract.approved").exists()


def test_wrong_role_refused(world):
    version = world.submitted()
    rep_reader = user_with_role("Billing Specialist", username="billing")
    with pytest.raises(PermissionDenied):
        _approve(version, rep_reader)
    assert Approval.objects.count() == 0


def test_limit_exceeded_refused_on_the_final_level(world):
    from otc.models import ApprovalLimit

    ApprovalLimit.objects.filter(role__name="Contract Reviewer").update(max_amount=Decimal("5000"))
    version = world.submitted("1000.00")  # 12,000

    with pytest.raises(LimitExceeded, match="exceeds your contract approval limit"):
        _approve(version, world.reviewer)

    version.refresh_from_db()
    assert version.status == "submitted"
    assert Approval.objects.count() == 0


def test_blocking_finding_prevents_approval_until_a_controller_overrides(world):
    version = world.submitted("1000.00", notes="BLOCK")
    assert version.assessments.first().highest_severity == "blocking"

    with pytest.raises(InvalidTransition) as exc:
        _approve(version, world.reviewer)
    assert exc.value.code == "blocking_finding"
    assert Approval.objects.count() == 0

    with pytest.raises(PermissionDenied):
        services.contract_override_blocking(version_id=version.id, by=world.manager, reason="ok")
    with pytest.raises(ValidationFailed):
        services.contract_override_blocking(version_id=version.id, by=world.controller, reason="  ")
    version.refresh_from_db()
    assert version.override_by is None

    services.contract_override_blocking(version_id=version.id, by=world.controller,
                                        reason="Prepayment received in full.")
    version.refresh_from_db()
    assert (version.override_by, version.override_reason) == (world.controller, "Prepayment received in full.")
    assert version.assessments.first().required_levels == 3

    _approve(version, world.reviewer)
    _approve(version, world.manager)
    _approve(version, world.controller)  # the override is not an approval: the Controller still decides level 3
    version.refresh_from_db()
    assert version.status == "active"


def test_changes_requested_then_edit_and_resubmit_restarts_at_level_1(world, django_capture_on_commit_callbacks):
    version = world.submitted("10000.00")
    _approve(version, world.reviewer)

    with pytest.raises(ValidationFailed):
        services.contract_decide(version_id=version.id, by=world.manager, decision="changes_requested")
    with django_capture_on_commit_callbacks(execute=True):
        services.contract_decide(version_id=version.id, by=world.manager, decision="changes_requested",
                                 comment="Net 30 please, and a lower price.")
    version.refresh_from_db()
    assert version.status == "changes_requested"
    assert version.contract.status == "draft"
    assert [m.to for m in mail.outbox] == [["rep@otc.example"]]
    assert "sent back for changes" in mail.outbox[0].subject
    assert changes_requested_queue(world.rep)[0] == version

    key = version.lines.get().line_key
    services.contract_version_update(version_id=version.id, data={"title": "Platform deal (revised)"},
                                     lines=[world.line("9000.00", line_key=str(key))], by=world.rep)
    services.contract_submit(version_id=version.id, by=world.rep)
    version.refresh_from_db()
    assert version.lines.get().line_key == key
    assert next_level(version) == 1
    _approve(version, world.reviewer)  # the same reviewer approves level 1 again
    _approve(version, world.manager)
    version.refresh_from_db()
    assert version.status == "active"
    rows = [(a.level, a.decision, a.voided_at is not None) for a in version.approvals.order_by("id")]
    assert rows == [(1, "approved", True), (2, "changes_requested", False), (1, "approved", False),
                    (2, "approved", False)]
    assert list(OutboxEvent.objects.values_list("topic", flat=True)) == [
        "contract.submitted", "contract.changes_requested", "contract.submitted", "contract.approved",
        "contract.activated"]


def test_rejection_of_version_1_rejects_the_contract(world):
    version = world.submitted()
    services.contract_decide(version_id=version.id, by=world.reviewer, decision="rejected", comment="No.")
    version.refresh_from_db()
    assert (version.status, version.contract.status) == ("rejected", "rejected")
    assert OutboxEvent.objects.filter(topic="contract.rejected").count() == 1
    with pytest.raises(InvalidTransition):
        services.contract_submit(version_id=version.id, by=world.rep)


def test_edit_refused_once_submitted_and_nothing_changes(world):
    version = world.submitted()
    with pytest.raises(InvalidTransition):
        services.contract_version_update(version_id=version.id, data={"payment_terms_days": 90}, lines=None,
                                         by=world.rep)
    version.refresh_from_db()
    assert version.payment_terms_days == 30


def test_queues_and_can_decide(world):
    small = world.submitted("1000.00")
    big = world.submitted("10000.00")
    _approve(big, world.reviewer)

    assert [v.id for v in review_queue(world.reviewer)] == [small.id]
    assert [v.id for v in review_queue(world.reviewer2)] == [small.id]
    assert [(v.id, v.next_level) for v in review_queue(world.manager)] == [(small.id, 1), (big.id, 2)]
    assert review_queue(world.rep) == []
    assert can_decide(world.manager, big) and not can_decide(world.reviewer, big)
    assert not can_decide(world.rep, small)


def test_comment_and_diff(world):
    version = world.active("1000.00")
    comment = services.contract_comment_add(contract_id=version.contract_id, by=world.reviewer, body="Looks good")
    assert ContractComment.objects.get() == comment
    with pytest.raises(NotFound):  # another rep's contract does not exist for them
        services.contract_comment_add(contract_id=version.contract_id, by=world.other_rep, body="hi")
    assert ContractComment.objects.count() == 1

    amendment = services.contract_amend(contract_id=version.contract_id, by=world.rep,
                                        effective_date=dt.date(2026, 7, 1))
    services.contract_version_update(
        version_id=amendment.id, data={"payment_terms_days": 45},
        lines=[world.line("1200.00", line_key=str(version.lines.get().line_key))], by=world.rep)
    amendment.refresh_from_db()
    diff = versions_diff(version, amendment)
    assert ("Effective date", dt.date(2026, 1, 1), dt.date(2026, 7, 1)) in diff
    assert ("Payment terms (days)", 30, 45) in diff
    assert ("Line 1 (Platform subscription): unit price", Decimal("1000.0000"), Decimal("1200.0000")) in diff
