"""The monthly schedule's run: one a month, decided by the unique constraint
`billingrun_monthly_once`; manual and resumed runs are not limited by it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import IntegrityError, transaction

from billing.models import BillingRun, Invoice
from billing.services import billing_run_monthly_start
from tests.factories.billing import de_entity
from tests.factories.billing_run import MARCH, contract, run

pytestmark = pytest.mark.django_db


def test_the_scheduled_run_bills_the_month_and_a_second_delivery_returns_it(django_capture_on_commit_callbacks):
    entity = de_entity()
    contracts = [contract(entity) for _ in range(3)]
    with django_capture_on_commit_callbacks(execute=True):
        first = billing_run_monthly_start(period_start=dt.date(2026, 3, 15))
    first.refresh_from_db()

    second = billing_run_monthly_start(period_start=MARCH)

    assert second.pk == first.pk
    assert (first.period_start, first.scheduled, first.status, first.contracts_total, first.invoices_created) == (
        MARCH, True, "generated", 3, 3)
    assert sorted(Invoice.objects.filter(billing_run=first).values_list("contract_id", flat=True)) == sorted(
        c.pk for c in contracts)
    assert BillingRun.objects.filter(period_start=MARCH).count() == 1


def test_the_database_refuses_a_second_scheduled_run_for_a_month():
    BillingRun.objects.create(period_start=MARCH, scheduled=True)
    with pytest.raises(IntegrityError), transaction.atomic():
        BillingRun.objects.create(period_start=MARCH, scheduled=True)
    BillingRun.objects.create(period_start=dt.date(2026, 4, 1), scheduled=True)  # another month
    assert BillingRun.objects.filter(scheduled=True).count() == 2


def test_manual_runs_of_the_same_month_are_not_limited(django_capture_on_commit_callbacks):
    de_entity()
    BillingRun.objects.create(period_start=MARCH, scheduled=True)
    first, second = run(capture=django_capture_on_commit_callbacks), run(capture=django_capture_on_commit_callbacks)
    assert (first.scheduled, second.scheduled, BillingRun.objects.filter(period_start=MARCH).count()) == (False, False, 3)


def test_the_run_state_map_names_every_status_and_failed_is_final():
    statuses = set(BillingRun.Status.values)
    assert set(BillingRun.TRANSITIONS) == statuses
    assert all(set(targets) <= statuses for targets in BillingRun.TRANSITIONS.values())
    assert BillingRun.TRANSITIONS["failed"] == () and "generating" not in BillingRun.TRANSITIONS["issued"]
