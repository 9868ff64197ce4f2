"""Receivables fixtures: `book` (tests/factories/receivables.make_book) for every module that does
not define its own."""

from __future__ import annotations

import pytest

from tests.factories.receivables import make_book


@pytest.fixture
def book():
    return make_book()
