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

# How many modules' data are being shared now (their outer transactions open); a transactional
# test may not run meanwhile (tests/conftest.py refuses it): it would commit inside them.
open_blocks = 0


def built_once(django_db_blocker, build: Callable[[], T]) -> Iterator[T]:
    """Use as a module-scoped fixture's body: `yield from built_once(django_db_blocker, build)`."""
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer._from_testcase = True  # as django.test.TestCase marks its own: durable blocks may nest
        outer.__enter__()
        global open_blocks
        open_blocks += 1
        try:
            yield build()
        finally:
            open_blocks -= 1
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


def fresh_copy(built: T) -> T:
    """The test's own copy of what the module built."""
    return copy.deepcopy(built)


def transactional_inside(fixturenames, *, marked_transaction: bool) -> bool:
    """Whether a test that is transactional (by its fixtures or its `django_db(transaction=True)`
    mark) would run while a module's shared data is open."""
    transactional = marked_transaction or bool({"transactional_db", "live_server"} & set(fixturenames))
    return bool(open_blocks) and transactional
