"""Named counters (otc.services.counter_next) and the one-statement increment under them."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from otc.bulk import increment_returning
from otc.models import Counter
from otc.services import counter_next
from tests.factories.races import race

pytestmark = pytest.mark.django_db


def test_a_counter_starts_at_one_and_reserves_consecutive_blocks():
    assert counter_next(name="test-orders") == [1]
    assert counter_next(name="test-orders", count=3) == [2, 3, 4]
    assert counter_next(name="test-other") == [1]
    assert Counter.objects.get(name="test-orders").value == 4


def test_the_increment_answers_the_new_value_or_none_without_a_row():
    assert increment_returning(Counter, "value", 5, name="test-missing") is None
    assert not Counter.objects.filter(name="test-missing").exists()
    Counter.objects.create(name="test-present", value=10)
    with CaptureQueriesContext(connection) as statements:
        assert increment_returning(Counter, "value", 5, name="test-present") == 15
    assert len(statements.captured_queries) == 1
    assert Counter.objects.get(name="test-present").value == 15


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_takes_never_share_a_value():
    counter_next(name="test-race")  # the row exists: the takes below all contend for its lock

    def take():
        return [v for _ in range(10) for v in counter_next(name="test-race", count=2)]

    results, failures = race([take] * 5)
    assert failures == []
    values = sorted(v for taken in results for v in taken)
    assert values == list(range(2, 102))


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_first_uses_create_one_row_and_share_its_values():
    def take():
        return counter_next(name="test-first-use", count=3)

    results, failures = race([take] * 6)
    assert failures == []
    assert sorted(v for taken in results for v in taken) == list(range(1, 19))
    assert Counter.objects.filter(name="test-first-use").count() == 1
