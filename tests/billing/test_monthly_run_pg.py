"""Two deliveries of the monthly beat at the same instant (PostgreSQL): one run, each contract
billed once; the losing delivery returns the winner's run."""

from __future__ import annotations

import pytest

from billing.models import BillingRun, Invoice
from billing.services import billing_run_monthly_start
from tests.factories.billing import de_entity
from tests.factories.billing_run import MARCH, contract
from tests.factories.races import race

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_two_deliveries_at_once_make_one_run():
    entity = de_entity()
    contracts = [contract(entity) for _ in range(4)]

    results, errors = race([lambda: billing_run_monthly_start(period_start=MARCH).pk for _ in range(4)])

    assert errors == []
    assert len(set(results)) == 1
    run = BillingRun.objects.get(period_start=MARCH)
    assert (run.pk, run.scheduled, run.status, run.invoices_created) == (results[0], True, "generated", 4)
    assert Invoice.objects.filter(billing_run=run).count() == len(contracts)
