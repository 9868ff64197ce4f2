"""Races on PostgreSQL with real separate connections: the unique CRM id decides."""

import pytest

from customers.models import Customer
from customers.services import customer_upsert_by_crm_id
from tests.factories.customers import customer_data
from tests.factories.otc import user_with_role
from tests.factories.races import race


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_upserts_create_exactly_one_customer():
    crm = user_with_role("Integration")
    workers = 4

    def upsert(n: int) -> bool:
        return customer_upsert_by_crm_id(external_crm_id="RACE-1", data=customer_data(payment_terms_days=30 + n),
                                         by=crm)[1]

    created, failures = race([lambda n=n: upsert(n) for n in range(workers)])

    assert failures == []
    assert sorted(created) == [False, False, False, True]
    customer = Customer.objects.get(external_crm_id="RACE-1")
    assert customer.history.count() == workers
