"""Data built once per test module and shared by its tests, as Django's `TestCase.setUpTestData`
does for a class (decision 0018, session 14).

The module's rows are written inside an outer transaction, opened like the one a Django test case
opens (so the services' durable blocks still run inside it); each test then runs in its own
savepoint within it, rolled back after the test as before, and gets a deep copy of the built
objects (a test that changes an instance in memory does not change the next test's). The outer
transaction is rolled back after the module's last test. Only for modules whose tests run in a
transaction (`db`), not for transactional tests (`transactional_db`, the live server), which
commit and flush."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from typing import TypeVar

from django.db import transaction

T = TypeVar("T")


def built_once(django_db_blocker, build: Callable[[], T]) -> Iterator[T]:
    """Use as a module-scoped fixture's body: `yield from built_once(django_db_blocker, build)`."""
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer._from_testcase = True  # as django.test.TestCase marks its own: durable blocks may nest
        outer.__enter__()
        try:
            yield build()
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


def fresh_copy(built: T) -> T:
    """The test's own copy of what the module built."""
    return copy.deepcopy(built)
