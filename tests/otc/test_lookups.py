"""otc.lookups: `field__any=values` selects exactly what `field__in=values` selects, on PostgreSQL
with the integer keys sent as one array parameter."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from otc.models import OutboxEvent, StatusChange, User


def _events(n: int) -> list[OutboxEvent]:
    return [OutboxEvent.objects.create(topic="t", subject_type="invoice", subject_id=i, payload={}) for i in range(n)]


@pytest.mark.django_db
@pytest.mark.parametrize("shape", [list, tuple, set, frozenset, sorted])
def test_any_selects_what_in_selects(shape):
    events = _events(5)
    wanted = shape([events[0].pk, events[3].pk, events[4].pk, 10**12])  # and one key that does not exist
    got = sorted(OutboxEvent.objects.filter(pk__any=wanted).values_list("pk", flat=True))
    assert got == sorted(OutboxEvent.objects.filter(pk__in=wanted).values_list("pk", flat=True))
    assert got == [events[0].pk, events[3].pk, events[4].pk]
    assert OutboxEvent.objects.filter(subject_id__any=[1, 2]).count() == 2  # a plain integer column
    assert OutboxEvent.objects.exclude(pk__any=wanted).count() == 2


@pytest.mark.django_db
def test_any_falls_back_to_in_for_other_values():
    events = _events(3)
    assert OutboxEvent.objects.filter(pk__any=[]).count() == 0  # nothing, as __in
    assert OutboxEvent.objects.filter(pk__any=[events[1].pk, None]).count() == 1  # NULL never equal
    assert OutboxEvent.objects.filter(pk__any=[str(events[1].pk)]).count() == 1  # prepared by the field
    assert OutboxEvent.objects.filter(topic__any=["t", "u"]).count() == 3  # not an integer column
    assert OutboxEvent.objects.filter(pk__any=OutboxEvent.objects.filter(subject_id=2).values("pk")).count() == 1


@pytest.mark.django_db
def test_any_on_a_foreign_key_takes_keys_and_objects():
    user, other = User.objects.create(username="a"), User.objects.create(username="b")
    from django.contrib.contenttypes.models import ContentType

    kind = ContentType.objects.get_for_model(User)
    for by in (user, other, None):
        StatusChange.objects.create(content_type=kind, object_id=1, from_state="x", to_state="y", by=by)
    assert StatusChange.objects.filter(by_id__any=[user.pk]).get().by_id == user.pk
    assert StatusChange.objects.filter(by__any=[user.pk, other.pk]).count() == 2
    assert StatusChange.objects.filter(by__any=[user, other]).count() == 2  # objects: the foreign key's __in


@pytest.mark.postgres  # the array form is PostgreSQL's
@pytest.mark.django_db
def test_any_sends_integer_keys_as_one_array_on_postgresql():
    events = _events(3)
    with CaptureQueriesContext(connection) as queries:
        assert OutboxEvent.objects.filter(pk__any=[e.pk for e in events]).count() == 3
        assert OutboxEvent.objects.filter(topic__any=["t", "u"]).count() == 3  # not an integer column: __in
    sql = queries.captured_queries[0]["sql"]
    assert "= ANY('{" in sql and "}'::bigint[])" in sql and " IN (" not in sql
    assert " IN (" in queries.captured_queries[1]["sql"]
