"""Issue 11: "every posted run is immutable and can be recomputed exactly from the snapshot and
policy version it used (a test recomputes last year's runs and gets the same cents)".

Twelve month-end snapshots of 2025 (taken by the aging snapshot service), a run prepared,
approved and posted for each month, the policy changing once on 1 July (so two versions are used),
and the book moving on afterwards (new invoices, a write-off, a third policy version, every date
snapshotted again): recomputing each posted run gives the same cents per line and in total."""

import calendar
import datetime as dt
from decimal import Decimal

import pytest

from collections_app.services.reserve import (
    provision_policy_create,
    reserve_run_approve,
    reserve_run_post,
    reserve_run_prepare,
    reserve_run_recompute,
)
from otc.models import ApprovalLimit
from otc.roles import CONTROLLER, FINANCE_MANAGER
from tests.factories.collections_reserve import item_in_bucket, reserve_entity, snapshot, write_off
from tests.factories.customers import CustomerFactory
from tests.factories.otc import user_with_role

D = Decimal
MONTH_ENDS = [dt.date(2025, m, calendar.monthrange(2025, m)[1]) for m in range(1, 13)]


def _key(lines):
    return sorted((line.kind, line.segment, line.bucket, line.customer_id, line.invoice_id,
                   D(line.balance), D(line.rate), D(line.allowance)) for line in lines)


@pytest.mark.django_db
def test_last_years_twelve_posted_runs_recompute_to_the_same_cents():
    from django.contrib.auth.models import Group

    entity = reserve_entity("YR1")
    controller, manager = user_with_role(CONTROLLER), user_with_role(FINANCE_MANAGER)
    ApprovalLimit.objects.create(kind="reserve", role=Group.objects.get(name=CONTROLLER), currency="EUR",
                                 max_amount=D("10000000"))
    # version 1 (January-June): odd rates so that rounding per bucket matters
    v1 = provision_policy_create(legal_entity_id=entity.id, effective_date=dt.date(2025, 1, 1), method="matrix",
                                 by=controller, rates=[{"bucket": b, "rate": r} for b, r in
                                                       enumerate(["0.0037", "0.0213", "0.0577", "0.1333", "0.4999"])])
    # version 2 (from 1 July): new rates and a forward-looking factor
    v2 = provision_policy_create(legal_entity_id=entity.id, effective_date=dt.date(2025, 7, 1), method="matrix",
                                 by=controller, overlay_factor=D("1.15"), overlay_reason="Recession outlook",
                                 rates=[{"bucket": b, "rate": r} for b, r in
                                        enumerate(["0.0041", "0.0187", "0.0633", "0.1111", "0.6667"])])
    customers = [CustomerFactory() for _ in range(4)]
    runs = []
    for month, as_of in enumerate(MONTH_ENDS, start=1):
        # each month bills new invoices (some of them paid late, so they age into later buckets)
        for index, customer in enumerate(customers):
            amount = D("1234.57") * month + D("99.99") * index
            item_in_bucket(entity, customer, amount, as_of=as_of, days_past_due=-5 + 17 * index, currency="EUR")
        if month == 5:
            # a loss in May: part of an old invoice written off against the allowance
            item = item_in_bucket(entity, customers[3], "777.77", as_of=as_of, days_past_due=120, currency="EUR")
            write_off(item, "333.33", date=as_of)
        snapshot(entity, as_of)
        run = reserve_run_prepare(legal_entity_id=entity.id, as_of=as_of, by=manager)
        run = reserve_run_post(run_id=reserve_run_approve(run_id=run.id, by=controller).id, by=controller)
        assert run.status == "posted" and run.required_total > 0
        runs.append(run)
    assert [run.policy_id for run in runs] == [v1.id] * 6 + [v2.id] * 6

    # the year after: more invoices dated in last year, a third policy version backdated into it,
    # and every month-end snapshotted again (the old snapshots are kept as "replaced")
    provision_policy_create(legal_entity_id=entity.id, effective_date=dt.date(2025, 3, 15), method="matrix",
                            by=controller, rates=[{"bucket": b, "rate": "0.9"} for b in range(5)])
    for as_of in MONTH_ENDS:
        item_in_bucket(entity, CustomerFactory(), "55555.55", as_of=as_of, days_past_due=45, currency="EUR")
        snapshot(entity, as_of)

    for run in runs:
        run.refresh_from_db()
        calc = reserve_run_recompute(run_id=run.id)
        assert calc.policy.id == run.policy_id and calc.snapshot.id == run.snapshot_id
        assert _key([*calc.lines, *calc.specifics]) == _key(run.lines.all()), run.as_of
        assert (calc.matrix_total, calc.specific_total, calc.total) == (
            run.matrix_total, run.specific_total, run.required_total), run.as_of
    # the recomputed cents are not trivially zero and differ between the versions
    totals = [run.required_total for run in runs]
    assert len(set(totals)) == 12 and all(t == t.quantize(D("0.01")) for t in totals)
