"""The order the suite hands its files to the xdist workers (tests/conftest.py `_order_for_workers`)."""

import pytest
from django.test import TestCase

from tests.conftest import HEAVY_FILES, _order_for_workers


class Item:
    """What the ordering reads of a collected test."""

    def __init__(self, nodeid: str, *, db: bool = False, fixtures: tuple[str, ...] = (), cls=None,
                 keywords: tuple[str, ...] = ()):
        self.nodeid = nodeid
        self.fixturenames = fixtures
        self.cls = cls
        self.keywords = dict.fromkeys(keywords, True)
        self._db = db

    def get_closest_marker(self, name: str):
        return pytest.mark.django_db if name == "django_db" and self._db else None

    def __repr__(self) -> str:
        return self.nodeid


class ACase(TestCase):
    pass


def test_files_without_database_tests_go_first_then_the_heavy_ones_then_the_rest():
    heavy_db, heavy_free = "tests/otc/test_schemathesis.py", "tests/test_deployment.py"
    assert heavy_db in HEAVY_FILES and heavy_free in HEAVY_FILES
    items = [
        Item("tests/a/test_small.py::test_one", db=True),
        Item("tests/a/test_big.py::test_one", db=True), Item("tests/a/test_big.py::test_two", fixtures=("django_db_setup",)),
        Item("tests/a/test_pure.py::test_one"),
        Item(f"{heavy_db}::test_contract", db=True),
        Item("tests/a/test_case.py::ACase::test_one", cls=ACase),
        Item("tests/a/test_mixed.py::test_pure"), Item("tests/a/test_mixed.py::test_db", db=True),
        Item("tests/a/test_slow.py::test_one", db=True, keywords=("slow",)),
        Item(f"{heavy_free}::test_compose"), Item(f"{heavy_free}::test_gunicorn"),
    ]

    _order_for_workers(items)

    files = list(dict.fromkeys(item.nodeid.split("::")[0] for item in items))
    assert files == [
        heavy_free, "tests/a/test_pure.py",  # no database: while the template database is migrated
        heavy_db,
        "tests/a/test_slow.py",
        "tests/a/test_big.py", "tests/a/test_mixed.py", "tests/a/test_small.py", "tests/a/test_case.py",
    ]
    # a file's tests stay together and in their order
    assert [item.nodeid for item in items][-6:-4] == ["tests/a/test_big.py::test_one", "tests/a/test_big.py::test_two"]
    assert [item.nodeid for item in items][:2] == [f"{heavy_free}::test_compose", f"{heavy_free}::test_gunicorn"]
