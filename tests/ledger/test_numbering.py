"""Gapless numbering per legal entity, document type and year, also under concurrency."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection

from ledger.models import JournalEntry, NumberSeries
from ledger.services import LineSpec, journal_post, number_series_take
from otc.errors import ValidationFailed
from tests.factories.customers import CustomerFactory
from tests.factories.ledger import LegalEntityFactory, post_invoice
from tests.factories.races import race


@pytest.mark.django_db
def test_journal_numbers_are_gapless_per_entity_and_year():
    first, second, customer = LegalEntityFactory(), LegalEntityFactory(), CustomerFactory()
    numbers = [
        post_invoice(first, customer, "1.00", date=dt.date(2026, 1, 5)).number,
        post_invoice(second, customer, "1.00", date=dt.date(2026, 1, 5)).number,
        post_invoice(first, customer, "1.00", date=dt.date(2026, 12, 31)).number,
        post_invoice(first, customer, "1.00", date=dt.date(2027, 1, 1)).number,
    ]
    assert numbers == [
        f"JE-{first.code}-2026-000001", f"JE-{second.code}-2026-000001",
        f"JE-{first.code}-2026-000002", f"JE-{first.code}-2027-000001",
    ]


@pytest.mark.django_db
def test_a_refused_posting_leaves_no_gap():
    entity = LegalEntityFactory()
    post_invoice(entity, CustomerFactory(), "1.00")
    with pytest.raises(ValidationFailed):
        journal_post(legal_entity_id=entity.id, kind="receipt", document_date=dt.date(2026, 3, 1), by=None,
                     lines=[LineSpec(Decimal("1.00"), role="cash"), LineSpec(Decimal("-2.00"), role="suspense")])
    assert post_invoice(entity, CustomerFactory(), "1.00").number.endswith("-000002")


@pytest.mark.django_db
def test_number_series_take_reserves_a_batch():
    entity = LegalEntityFactory()
    assert number_series_take(legal_entity_id=entity.id, doc_type="invoice", fiscal_year=2026, count=3) == [1, 2, 3]
    assert number_series_take(legal_entity_id=entity.id, doc_type="invoice", fiscal_year=2026) == [4]
    assert number_series_take(legal_entity_id=entity.id, doc_type="credit_note", fiscal_year=2026) == [1]
    assert NumberSeries.objects.get(legal_entity=entity, doc_type="invoice").next_number == 5


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_postings_get_distinct_consecutive_numbers():
    entity, customer = LegalEntityFactory(), CustomerFactory()
    threads_count, per_thread = 6, 5

    def work():
        for _ in range(per_thread):
            post_invoice(entity, customer, "10.00")

    _, failures = race([work] * threads_count)
    assert failures == []
    numbers = sorted(JournalEntry.objects.filter(legal_entity=entity).values_list("number", flat=True))
    total = threads_count * per_thread
    assert numbers == [f"JE-{entity.code}-2026-{n:06d}" for n in range(1, total + 1)]
    assert connection.vendor == "postgresql"


@pytest.mark.django_db
def test_a_series_in_use_takes_its_numbers_in_one_statement():
    from django.test.utils import CaptureQueriesContext

    entity = LegalEntityFactory()
    assert number_series_take(legal_entity_id=entity.id, doc_type="journal", fiscal_year=2031) == [1]
    with CaptureQueriesContext(connection) as taken:
        assert number_series_take(legal_entity_id=entity.id, doc_type="journal", fiscal_year=2031, count=2) == [2, 3]
    assert [q["sql"].split()[0] for q in taken.captured_queries] == ["UPDATE"]
    assert "RETURNING" in taken.captured_queries[0]["sql"]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_first_takes_of_a_series_create_it_once():
    entity = LegalEntityFactory()

    def take():
        return number_series_take(legal_entity_id=entity.id, doc_type="credit_note", fiscal_year=2032, count=2)

    results, failures = race([take] * 5)
    assert failures == []
    assert sorted(n for taken in results for n in taken) == list(range(1, 11))
    assert NumberSeries.objects.get(legal_entity=entity, doc_type="credit_note", fiscal_year=2032).next_number == 11
