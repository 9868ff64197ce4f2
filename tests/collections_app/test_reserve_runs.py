"""The reserve run: prepare -> approve (limits, segregation of duties) -> post through the
ledger; re-runs; every refusal; recomputation to the cent; roll-forward and back-test."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.db.utils import InternalError

from collections_app.models import ReserveLine, ReserveRun
from collections_app.selectors.reserve import allowance_balance
from collections_app.selectors.reserve_reports import allowance_rollforward, reserve_backtest
from collections_app.services.reserve import (
    provision_policy_create,
    reserve_monthly_due,
    reserve_run_approve,
    reserve_run_post,
    reserve_run_prepare,
    reserve_run_recompute,
    reserve_run_reverse,
)
from ledger.models import JournalEntry, Period
from otc.errors import DomainError, InvalidTransition, LimitExceeded, PermissionDenied, SegregationOfDuties
from otc.models import ApprovalLimit
from otc.roles import COLLECTOR, CONTROLLER, FINANCE_MANAGER
from tests.factories.collections_reserve import item_in_bucket, reserve_entity, snapshot, write_off
from tests.factories.customers import CustomerFactory
from tests.factories.otc import user_with_role

D = Decimal
AS_OF = dt.date(2026, 6, 30)


@pytest.fixture
def book(db):
    """EUR entity: 10,000.00 current, 4,000.00 in 31-60 and 2,000.00 over 90; matrix 1 % / 2 % /
    5 % / 10 % / 50 %: required 100.00 + 200.00 + 1,000.00 = 1,300.00."""
    from django.contrib.auth.models import Group

    entity = reserve_entity("RUN")
    customers = [CustomerFactory() for _ in range(3)]
    item_in_bucket(entity, customers[0], "10000.00", as_of=AS_OF, days_past_due=-3, currency="EUR")
    item_in_bucket(entity, customers[1], "4000.00", as_of=AS_OF, days_past_due=40, currency="EUR")
    old = item_in_bucket(entity, customers[2], "2000.00", as_of=AS_OF, days_past_due=100, currency="EUR")
    snapshot(entity, AS_OF)
    controller, manager = user_with_role(CONTROLLER), user_with_role(FINANCE_MANAGER)
    provision_policy_create(legal_entity_id=entity.id, effective_date=dt.date(2026, 1, 1), method="matrix",
                            by=controller, rates=[{"bucket": b, "rate": r} for b, r in
                                                  enumerate(["0.01", "0.02", "0.05", "0.10", "0.50"])])
    for role, amount in ((CONTROLLER, "1000000"), (FINANCE_MANAGER, "1000")):
        ApprovalLimit.objects.create(kind="reserve", role=Group.objects.get(name=role), currency="EUR",
                                     max_amount=D(amount))
    return {"entity": entity, "controller": controller, "manager": manager, "old": old}


def test_prepare_approve_post_books_the_true_up(book):
    entity, controller, manager = book["entity"], book["controller"], book["manager"]
    run = reserve_run_prepare(legal_entity_id=entity.id, as_of=AS_OF, by=manager)
    assert (run.status, run.required_total, run.ledger_balance, run.adjustment) == (
        "proposed", D("1300.00"), D("0"), D("1300.00"))
    assert run.lines.count() == 3
    with pytest.raises(SegregationOfDuties):
        reserve_run_approve(run_id=run.id, by=manager)
    run = reserve_run_approve(run_id=run.id, by=controller)
    run = reserve_run_post(run_id=run.id, by=controller)
    entry = run.journal_entry
    assert (run.status, entry.kind, entry.entry_date) == ("posted", JournalEntry.Kind.RESERVE, AS_OF)
    assert sorted((line.account.role, line.amount) for line in entry.lines.all()) == [
        ("allowance", D("-1300.0000")), ("bad_debt_expense", D("1300.0000"))]
    assert allowance_balance(legal_entity_id=entity.id, as_of=AS_OF) == D("1300.0000")


def test_next_month_trues_up_against_the_ledger_after_write_offs(book):
    entity, controller, manager = book["entity"], book["controller"], book["manager"]
    run = reserve_run_prepare(legal_entity_id=entity.id, as_of=AS_OF, by=manager)
    reserve_run_post(run_id=reserve_run_approve(run_id=run.id, by=controller).id, by=controller)
    write_off(book["old"], "2000.00", date=dt.date(2026, 7, 10))  # uses 2,000.00 of the allowance
    july = dt.date(2026, 7, 31)
    snapshot(entity, july)
    run2 = reserve_run_prepare(legal_entity_id=entity.id, as_of=july, by=manager)
    # July: 10,000.00 now 28 days overdue (1-30, 2 %: 200.00), 4,000.00 now 71 (61-90, 10 %: 400.00)
    # = 600.00 required; the allowance is 1,300.00 - 2,000.00 = -700.00 (a debit balance): charge 1,300.00
    assert (run2.required_total, run2.ledger_balance, run2.adjustment) == (D("600.00"), D("-700.0000"), D("1300.00"))


def test_rerun_replaces_an_unposted_proposal_and_refuses_once_posted(book):
    entity, controller, manager = book["entity"], book["controller"], book["manager"]
    first = reserve_run_prepare(legal_entity_id=entity.id, as_of=AS_OF, by=manager)
    second = reserve_run_prepare(legal_entity_id=entity.id, as_of=AS_OF, by=manager)
    first.refresh_from_db()
    assert (first.status, second.status) == ("replaced", "proposed")
    reserve_run_post(run_id=reserve_run_approve(run_id=second.id, by=controller).id, by=controller)
    before = ReserveRun.objects.count()
    with pytest.raises(DomainError, match="is posted"):
        reserve_run_prepare(legal_entity_id=entity.id, as_of=AS_OF, by=manager)
    assert ReserveRun.objects.count() == before
    # the way out: reverse it, then prepare again
    reserve_run_reverse(run_id=second.id, by=controller, reason="Rates corrected")
    assert allowance_balance(legal_entity_id=entity.id, as_of=AS_OF) == D("0")
    third = reserve_run_prepare(legal_entity_id=entity.id, as_of=AS_OF, by=manager)
    assert third.status == "proposed"


def test_refusals_own_run_limit_role_and_closed_period(book):
    entity, controller, manager = book["entity"], book["controller"], book["manager"]
    own = reserve_run_prepare(legal_entity_id=entity.id, as_of=AS_OF, by=controller)
    with pytest.raises(SegregationOfDuties, match="another person"):
        reserve_run_approve(run_id=own.id, by=controller)
    run = reserve_run_prepare(legal_entity_id=entity.id, as_of=AS_OF, by=controller)
    with pytest.raises(LimitExceeded, match="exceeds your reserve approval limit"):
        reserve_run_approve(run_id=run.id, by=manager)  # 1,300.00 over the manager's 1,000.00
    with pytest.raises(PermissionDenied):
        reserve_run_approve(run_id=run.id, by=user_with_role(COLLECTOR))
    with pytest.raises(InvalidTransition):
        reserve_run_post(run_id=run.id, by=controller)  # not approved
    run = reserve_run_approve(run_id=run.id, by=user_with_role(CONTROLLER))
    Period.objects.filter(legal_entity=entity, year=2026, month=6).update(status="closed")
    with pytest.raises(DomainError, match="2026-06 is closed"):
        reserve_run_post(run_id=run.id, by=controller)
    run.refresh_from_db()
    assert (run.status, run.journal_entry_id) == ("approved", None)
    assert not JournalEntry.objects.filter(kind="reserve").exists()


def test_posted_run_is_immutable_and_recomputes_to_the_cent(book):
    entity, controller, manager = book["entity"], book["controller"], book["manager"]
    run = reserve_run_prepare(legal_entity_id=entity.id, as_of=AS_OF, by=manager)
    run = reserve_run_post(run_id=reserve_run_approve(run_id=run.id, by=controller).id, by=controller)
    # later: a new policy version and more invoices do not change what the run recomputes to
    provision_policy_create(legal_entity_id=entity.id, effective_date=dt.date(2026, 6, 15), method="matrix",
                            by=controller, rates=[{"bucket": b, "rate": "0.9"} for b in range(5)])
    item_in_bucket(entity, CustomerFactory(), "99999.00", as_of=AS_OF, days_past_due=10, currency="EUR")
    calc = reserve_run_recompute(run_id=run.id)
    assert calc.total == run.required_total == D("1300.00")
    assert sorted((line.bucket, line.allowance) for line in calc.lines) == sorted(
        run.lines.values_list("bucket", "allowance"))
    run.required_total = D("1.00")
    with pytest.raises(DomainError, match="immutable"):
        run.save()
    with pytest.raises(DomainError, match="immutable"):
        run.lines.first().delete()


def test_monthly_task_prepares_once_after_the_month_end_snapshot(book):
    made = reserve_monthly_due(today=dt.date(2026, 7, 2))
    assert len(made) == 1 and ReserveRun.objects.get(pk=made[0]).prepared_by is None
    assert reserve_monthly_due(today=dt.date(2026, 7, 3)) == []


def test_rollforward_ties_to_the_ledger_and_backtest_compares_losses(book):
    entity, controller, manager = book["entity"], book["controller"], book["manager"]
    run = reserve_run_prepare(legal_entity_id=entity.id, as_of=AS_OF, by=manager)
    reserve_run_post(run_id=reserve_run_approve(run_id=run.id, by=controller).id, by=controller)
    write_off(book["old"], "1500.00", date=dt.date(2026, 7, 10))
    report = allowance_rollforward(legal_entity_id=entity.id, first=dt.date(2026, 6, 1), last=dt.date(2026, 7, 31))
    june, july = report["months"]
    assert (june["opening"], june["charge"], june["closing"]) == (D("0"), D("1300.0000"), D("1300.0000"))
    assert (july["write_offs"], july["closing"], july["difference"]) == (D("-1500.0000"), D("-200.0000"), D("0"))
    assert report["ties"]
    [test] = reserve_backtest(legal_entity_id=entity.id, until=dt.date(2026, 8, 31))
    over_90 = test["rows"][4]
    assert (over_90["rate"], over_90["written_off"], over_90["loss_rate"]) == (
        D("0.50000000"), D("1500.0000"), D("0.75000000"))


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_postgres_refuses_changing_a_posted_run():
    from django.contrib.auth.models import Group

    entity = reserve_entity("PGR")
    item_in_bucket(entity, CustomerFactory(), "1000.00", as_of=AS_OF, days_past_due=40, currency="EUR")
    snapshot(entity, AS_OF)
    controller, manager = user_with_role(CONTROLLER), user_with_role(FINANCE_MANAGER)
    provision_policy_create(legal_entity_id=entity.id, effective_date=dt.date(2026, 1, 1), method="matrix",
                            by=controller, rates=[{"bucket": b, "rate": "0.1"} for b in range(5)])
    ApprovalLimit.objects.create(kind="reserve", role=Group.objects.get(name=CONTROLLER), currency="EUR",
                                 max_amount=D("1000000"))
    run = reserve_run_prepare(legal_entity_id=entity.id, as_of=AS_OF, by=manager)
    run = reserve_run_post(run_id=reserve_run_approve(run_id=run.id, by=controller).id, by=controller)
    for sql in (f"UPDATE collections_app_reserverun SET required_total = 1 WHERE id = {run.id}",
                f"UPDATE collections_app_reserverun SET status = 'proposed' WHERE id = {run.id}",
                f"DELETE FROM collections_app_reserverun WHERE id = {run.id}",
                f"UPDATE collections_app_reserveline SET allowance = 0 WHERE run_id = {run.id}",
                f"DELETE FROM collections_app_reserveline WHERE run_id = {run.id}"):
        with pytest.raises(InternalError, match="immutable"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql)
    assert ReserveLine.objects.filter(run=run).count() == 1
    reserve_run_reverse(run_id=run.id, by=controller, reason="wrong rates")  # the one change allowed
    assert ReserveRun.objects.get(pk=run.id).status == "reversed"
