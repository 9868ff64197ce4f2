"""Receivables fixtures: `book` (tests/factories/receivables.make_book) for every module that does
not define its own."""

from __future__ import annotations

import pytest

from tests.factories.receivables import make_book
from tests.shared_data import built_once, fresh_copy


@pytest.fixture(scope="module")
def _book(django_db_setup, django_db_blocker):
    """Built once per test module (tests/shared_data.py); each test gets its own copy."""
    yield from built_once(django_db_blocker, make_book)


@pytest.fixture
def book(_book, db):
    return fresh_copy(_book)
