"""tests/shared_data.py: a module's data is built once, each test changes it only for itself."""

import pytest
from django.db import transaction

from customers.models import Customer
from tests import shared_data
from tests.factories.customers import CustomerFactory
from tests.shared_data import built_once, fresh_copy

pytestmark = pytest.mark.django_db


def _build():
    with transaction.atomic(durable=True):  # a service's durable block runs inside the module's data
        customer = CustomerFactory(legal_name="Shared GmbH")
    return {"customer": customer}


@pytest.fixture(scope="module")
def _shared(django_db_setup, django_db_blocker):
    yield from built_once(django_db_blocker, _build)


@pytest.fixture
def shared(_shared, db):
    return fresh_copy(_shared)


def test_a_test_changes_the_shared_row_and_its_own_copy(shared):
    customer = shared["customer"]
    customer.legal_name = "Changed GmbH"
    customer.save()
    assert Customer.objects.get(pk=customer.pk).legal_name == "Changed GmbH"
    assert Customer.objects.filter(legal_name="Shared GmbH").count() == 0


def test_the_next_test_sees_the_row_and_the_object_as_built(shared):
    # the first test's change was rolled back with its savepoint, and its copy was its own
    assert shared["customer"].legal_name == "Shared GmbH"
    assert Customer.objects.get(pk=shared["customer"].pk).legal_name == "Shared GmbH"
    assert Customer.objects.filter(legal_name="Shared GmbH").count() == 1  # built once, not per test


def test_a_durable_block_of_a_test_still_runs(shared):
    with transaction.atomic(durable=True):
        CustomerFactory(legal_name="Another AG")
    assert Customer.objects.filter(legal_name__in=["Shared GmbH", "Another AG"]).count() == 2



def test_a_transactional_test_is_refused_while_a_modules_data_is_shared(shared):
    # tests/conftest.py fails such a test before it runs: it would commit inside the shared data
    assert shared_data.transactional_inside(["db", "transactional_db"], marked_transaction=False)
    assert shared_data.transactional_inside(["live_server"], marked_transaction=False)
    assert shared_data.transactional_inside(["db"], marked_transaction=True)
    assert not shared_data.transactional_inside(["db", "today"], marked_transaction=False)
