"""Gapless invoice numbers under concurrency: real threads, real PostgreSQL connections."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from billing.models import Invoice
from billing.services import invoices_issue
from ledger.models import JournalEntry
from ledger.selectors import ar_reconciliation
from tests.factories.billing import ISSUE, de_entity, draft

THREADS, PER_THREAD = 6, 4


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_issuing_numbers_one_to_n_without_gaps_or_duplicates():
    entity = de_entity()
    chunks = [[draft(entity).pk for _ in range(PER_THREAD)] for _ in range(THREADS)]
    barrier = threading.Barrier(THREADS)
    errors: list[BaseException] = []

    def work(ids: list[int]) -> None:
        try:
            barrier.wait(timeout=30)
            invoices_issue(invoice_ids=ids, by=None, issue_date=ISSUE, queue_documents=False)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(ids,)) for ids in chunks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    total = THREADS * PER_THREAD
    numbers = sorted(Invoice.objects.filter(legal_entity=entity).values_list("number", flat=True))
    assert numbers == [f"DE01-INV-2026-{n:06d}" for n in range(1, total + 1)]
    for ids in chunks:  # each chunk's numbers are consecutive (one series take per chunk)
        seq = [int(n[-6:]) for n in Invoice.objects.filter(pk__in=ids).order_by("pk").values_list("number", flat=True)]
        assert seq == list(range(seq[0], seq[0] + PER_THREAD))
    assert JournalEntry.objects.filter(legal_entity=entity, kind="invoice").count() == total
    assert all(row["difference"] == 0 for row in ar_reconciliation(legal_entity_id=entity.id))
