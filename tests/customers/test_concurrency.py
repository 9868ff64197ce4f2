"""Races on PostgreSQL with real separate connections: the unique CRM id decides."""

import threading

import pytest
from django.db import connection

from customers.models import Customer
from customers.services import customer_upsert_by_crm_id
from tests.factories.customers import customer_data
from tests.factories.otc import user_with_role


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_upserts_create_exactly_one_customer():
    crm = user_with_role("Integration")
    workers = 4
    barrier = threading.Barrier(workers)
    created: list[bool] = []
    failures: list[Exception] = []

    def upsert(n: int) -> None:
        try:
            barrier.wait(timeout=10)
            _, was_created = customer_upsert_by_crm_id(
                external_crm_id="RACE-1", data=customer_data(payment_terms_days=30 + n), by=crm
            )
            created.append(was_created)
        except Exception as exc:  # pragma: no cover - reported by the assertion below
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=upsert, args=(n,)) for n in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert failures == []
    assert sorted(created) == [False, False, False, True]
    customer = Customer.objects.get(external_crm_id="RACE-1")
    assert customer.history.count() == workers
