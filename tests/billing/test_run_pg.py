"""The billing run under real concurrency: two workers generating the same contracts at once
(a redelivered chunk, or two runs for one month) bill each contract exactly once."""

from __future__ import annotations

import datetime as dt

import pytest

from billing.models import BillingException, BillingRun, Invoice, InvoiceLine
from billing.services import billing_run_generate_chunk, billing_run_issue
from ledger.selectors import ar_reconciliation
from tests.factories.billing import de_entity
from tests.factories.billing_run import MARCH, contract
from tests.factories.races import race

CONTRACTS = 12


def _race(jobs: list[tuple[int, list[int]]]) -> list[BaseException]:
    """Generate the chunks (run id, contract ids) at once; the errors raised."""
    return race([lambda run_id=run_id, ids=ids: billing_run_generate_chunk(run_id=run_id, contract_ids=ids)
                 for run_id, ids in jobs])[1]


def _runs(n: int, total: int) -> list[BillingRun]:
    return [BillingRun.objects.create(period_start=MARCH, contracts_total=total) for _ in range(n)]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_runs_generating_the_same_contracts_concurrently_bill_each_once():
    entity = de_entity()
    ids = sorted(contract(entity).pk for _ in range(CONTRACTS))
    first, second = _runs(2, CONTRACTS)
    # the second worker takes the contracts in reverse chunk order: row locks in pk order, no deadlock
    assert _race([(first.pk, ids), (second.pk, ids[::-1])]) == []
    assert Invoice.objects.count() == CONTRACTS
    assert sorted(Invoice.objects.values_list("contract_id", flat=True)) == ids
    assert InvoiceLine.objects.count() == CONTRACTS
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.invoices_created + second.invoices_created == CONTRACTS
    assert (first.contracts_done, second.contracts_done, first.status, second.status) == (
        CONTRACTS, CONTRACTS, "generated", "generated")
    losers = BillingException.objects.filter(code="already_invoiced").count()
    assert losers == CONTRACTS and first.skipped + second.skipped == CONTRACTS


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_one_chunk_delivered_twice_at_once_and_parallel_chunks_then_issue(monkeypatch):
    monkeypatch.setattr("billing.services.invoices.documents_queue", lambda ids: None)  # no PDFs here
    entity = de_entity()
    ids = sorted(contract(entity).pk for _ in range(CONTRACTS))
    [run] = _runs(1, CONTRACTS)
    half = CONTRACTS // 2
    jobs = [(run.pk, ids[:half]), (run.pk, ids[:half]), (run.pk, ids[half:])]  # the first chunk redelivered
    assert _race(jobs) == []
    run.refresh_from_db()
    assert (run.contracts_done, run.invoices_created, run.skipped, run.status) == (CONTRACTS, CONTRACTS, 0, "generated")
    assert Invoice.objects.count() == CONTRACTS
    issued = billing_run_issue(run_id=run.pk, by=None, issue_date=dt.date(2026, 3, 31), chunk_size=5)
    assert issued.invoices_issued == CONTRACTS
    assert all(row["difference"] == 0 for row in ar_reconciliation(legal_entity_id=entity.pk))
