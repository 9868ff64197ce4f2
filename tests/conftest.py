"""Shared fixtures. Reference rows (the roles, from the idempotent `ensure_roles`, and the reference
tax codes) are seeded once per test database (`django_db_setup` below). A transactional test's flush
keeps them when the test left them as seeded (`_keep_unchanged_reference_rows_in_flush`); a flush
that emptied them is followed by seeding them again, committed (`_reference_rows_after_flush`)."""

from __future__ import annotations

import datetime as dt
import os
import shutil

import pytest
from django.db import connection
from django.db.models.signals import post_migrate

from otc import dates
from tests import db_template, gc_tuning, shared_data

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
# Debian's headless shell (package chromium-headless-shell, the build Playwright itself runs headless)
# before the full browser: the same Blink, about a third less CPU over the browser tests (decision
# 0018, session 15).
CHROMIUM = (os.environ.get("CHROMIUM_PATH") or shutil.which("chromium-headless-shell") or shutil.which("chromium")
            or shutil.which("chromium-browser"))


def pytest_configure(config):
    """The flush after each transactional test (the browser, live-server and race tests) on
    PostgreSQL. Django's is one `TRUNCATE` of every table: about 5 s on this server for the
    project's 144 tables, whatever they hold (each table and index gets a new file), against
    0.1 s for a `DELETE FROM` of each table holding a test's few rows. So the flush deletes,
    with the session's triggers off (`session_replication_role = replica`, for the transaction
    only: the immutability guards would refuse deleting issued documents, and the deferred
    foreign-key checks are not needed when every table is emptied). That setting needs a
    superuser; for another role, or when sequences are to be reset, the flush truncates as
    Django does. The billing tables refuse TRUNCATE (issued documents are immutable, billing
    migration 0006) unless the session says `otc.allow_truncate`: the truncating flush says so,
    inside the flush's own transaction."""
    # xdist's loadfile/loadscope order (most tests first) would put the long one-test files last;
    # the suite's own order (`_order_for_workers`) is kept instead.
    if hasattr(config.option, "loadscopereorder"):
        config.option.loadscopereorder = False
    db_template.use_in_worker(config)

    from django.db.backends.postgresql.operations import DatabaseOperations

    original = DatabaseOperations.sql_flush
    if getattr(original, "allows_truncate", False):
        return

    def sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
        if tables and not reset_sequences and _may_turn_off_triggers(self.connection):
            return ["SET LOCAL session_replication_role = replica",
                    *(f"DELETE FROM {style.SQL_FIELD(self.quote_name(table))};" for table in tables)]
        statements = original(self, style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade)
        return ["SET LOCAL otc.allow_truncate = 'on'", *statements] if statements else statements

    sql_flush.allows_truncate = True
    DatabaseOperations.sql_flush = sql_flush


def _may_turn_off_triggers(connection) -> bool:
    """Whether the test database's role may set `session_replication_role` (a superuser)."""
    if not hasattr(connection, "otc_is_superuser"):
        with connection.cursor() as cursor:
            cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
            connection.otc_is_superuser = bool(cursor.fetchone()[0])
    return connection.otc_is_superuser


# The longest test files, longest first (CI durations, decision 0018): xdist's `--dist loadfile` hands
# them out first, so the long ones run side by side while the short files fill both workers up to
# the end, instead of one of them running alone for minutes at the end. A file missing here (or
# renamed) only loses its place in the queue.
HEAVY_FILES = (
    "tests/test_deployment.py",
    "tests/receivables/test_matching.py",
    "tests/otc/test_schemathesis.py",
    "tests/otc/test_sortable_lists.py",
    "tests/demo/test_seed_demo.py",
    "tests/browser/test_walkthrough.py",
    "tests/ledger/test_stateful.py",
    "tests/receivables/test_stateful.py",
    "tests/otc/test_ci_guard.py",
    "tests/collections_app/test_writeoffs_property.py",
    "tests/receivables/aging/test_as_of_stateful.py",
)


def _needs_database(item) -> bool:
    """Whether a test uses the test database (its mark, its fixtures or a Django test case)."""
    from django.test import TransactionTestCase

    if item.get_closest_marker("django_db") is not None or "django_db_setup" in getattr(item, "fixturenames", ()):
        return True
    cls = getattr(item, "cls", None)
    return cls is not None and issubclass(cls, TransactionTestCase)


def _order_for_workers(items) -> None:
    """The files none of whose tests use the database first (those in HEAVY_FILES first, in its
    order), then the other HEAVY_FILES, then the other `slow` and `browser` files, then the rest with
    the most tests first (what xdist's own reordering does, which `pytest_configure` turns off because
    it would send the long one-test files last). Each file's tests stay together and in order.

    The database-free files go first because, in a PostgreSQL run with workers, the controller is
    still migrating the template database when the workers have collected (tests/db_template.py):
    a worker given a database test first sat idle until then (about 8 s on each of the two)."""
    files: dict[str, list] = {}
    for item in items:
        files.setdefault(item.nodeid.split("::", 1)[0], []).append(item)
    without_database = {path for path, tests in files.items() if not any(map(_needs_database, tests))}

    def weight(path: str) -> tuple[int, int, int]:
        heavy = HEAVY_FILES.index(path) if path in HEAVY_FILES else len(HEAVY_FILES)
        if path in without_database:
            return (0, heavy, -len(files[path]))
        if path in HEAVY_FILES:
            return (1, heavy, 0)
        if any("slow" in item.keywords or "browser" in item.keywords for item in files[path]):
            return (2, 0, 0)
        return (3, 0, -len(files[path]))

    items[:] = [item for path in sorted(files, key=weight) for item in files[path]]


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session):
    """The xdist controller of a PostgreSQL run starts migrating the one test database the workers
    clone (tests/db_template.py) before it starts the workers (xdist's own sessionstart is trylast)."""
    db_template.start(session.config)


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node):
    db_template.configure_node(node)


def pytest_unconfigure(config):
    db_template.finish(config)


def pytest_collection_finish(session):
    """Every test process, once its tests are collected (the project and the tests imported): the
    collector's settings for long-running processes (tests/gc_tuning.py; about 6% of a worker's CPU)."""
    gc_tuning.tune()


def pytest_collection_modifyitems(config, items):
    _order_for_workers(items)
    is_postgres = connection.vendor == "postgresql"
    for item in items:
        if "postgres" in item.keywords and not is_postgres and not IN_CI:
            item.add_marker(pytest.mark.skip(reason="needs PostgreSQL (set DATABASE_URL); runs in CI"))
        if "browser" in item.keywords and not CHROMIUM and not IN_CI:
            item.add_marker(pytest.mark.skip(reason="needs Debian's chromium (apt-get install chromium-headless-shell); runs in CI"))
        if "redis" in item.keywords and not os.environ.get("REDIS_URL") and not IN_CI:
            item.add_marker(pytest.mark.skip(reason="needs REDIS_URL and a Celery worker; runs in CI"))


def pytest_runtest_setup(item):
    """In CI a PostgreSQL test runs on PostgreSQL. A transactional test (it commits, and the flush
    after it empties every table) may not run while a module's data built once is open
    (tests/shared_data.py): that module builds its data per test."""
    if IN_CI and "postgres" in item.keywords and connection.vendor != "postgresql":
        pytest.fail("CI must run the suite on PostgreSQL (set DATABASE_URL): this test needs it")
    marker = item.get_closest_marker("django_db")
    if shared_data.transactional_inside(item.fixturenames,
                                        marked_transaction=bool(marker and marker.kwargs.get("transaction"))):
        pytest.fail(f"{item.nodeid} is transactional but runs inside its module's shared data "
                    "(tests/shared_data.py): build that data per test in this module.", pytrace=False)


CI_ONLY_MARKERS = ("postgres", "redis", "browser")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """In CI a test that needs PostgreSQL, Redis or Chromium must run: its skip (a `pytest.skip`
    inside it or a fixture, an importorskip, a skip marker) is reported as a failure, so the run
    fails and the report names the test and the reason it gave."""
    outcome = yield
    report = outcome.get_result()
    if IN_CI and report.skipped and any(m in item.keywords for m in CI_ONLY_MARKERS) and not hasattr(report, "wasxfail"):
        reason = (report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)).removeprefix("Skipped: ")
        report.outcome = "failed"
        report.longrepr = f"CI must run this test ({', '.join(m for m in CI_ONLY_MARKERS if m in item.keywords)}), " \
                          f"but it skipped: {reason}"


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Seed the reference rows once per test database (each xdist worker has its own): the roles
    and the reference tax codes. The tests roll back to them, so `role_group` finds the roles
    without running `ensure_roles` per test, and `de_entity`'s `seed_tax_codes` finds every code
    (one query) instead of saving them with their history in every test that makes an entity
    (decision 0018, session 9). A transactional test's flush removes them and
    `_reference_rows_after_flush` seeds them again."""
    with django_db_blocker.unblock():
        _seed_reference_rows()
    post_migrate.connect(_reference_rows_after_flush, dispatch_uid="otc-tests-reference-rows")
    _keep_unchanged_reference_rows_in_flush()


def _reference_rows_after_flush(sender, **kwargs):
    """Seed the reference rows again, committed, when a transactional test's flush has emptied the
    database. Django sends `post_migrate` for each app after the flush (that is how the content
    types and permissions come back); on the last app's signal every permission exists, so the
    roles can be granted. Without this the flush left every later test on the worker without
    roles and tax codes, and each test saved them again inside its own transaction (about 40-75 ms
    a test that makes a user or an entity; decision 0018, session 11)."""
    from django.apps import apps

    if sender is [config for config in apps.get_app_configs() if config.models_module][-1]:
        _seed_reference_rows()


def _seed_reference_rows() -> None:
    from billing.tax import seed_tax_codes
    from otc.roles import ensure_roles

    ensure_roles()
    seed_tax_codes()
    _REFERENCE_ROWS[connection.alias] = _reference_fingerprint(connection)


# The tables of the reference rows: the content types and permissions (Django's post_migrate),
# the roles and their grants, and the reference tax codes. No row in them points at a row of
# another table.
REFERENCE_TABLES = ("django_content_type", "auth_permission", "auth_group", "auth_group_permissions",
                    "billing_taxcode", "billing_historicaltaxcode")
_REFERENCE_ROWS: dict[str, str] = {}


def _reference_fingerprint(conn) -> str:
    """A digest of every row of the reference tables (about 1,600 rows: a few milliseconds)."""
    import hashlib

    digest = hashlib.sha256()
    with conn.cursor() as cursor:
        for table in REFERENCE_TABLES:
            cursor.execute(f"SELECT * FROM {conn.ops.quote_name(table)} ORDER BY 1")
            digest.update(repr((table, cursor.fetchall())).encode())
    return digest.hexdigest()


def _keep_unchanged_reference_rows_in_flush() -> None:
    """A transactional test's flush keeps the reference rows when the test left them as seeded.
    Deleting them made Django's post_migrate create every content type and permission again, and
    `_reference_rows_after_flush` every role grant and tax code: about 1,600 rows inserted after
    each transactional test. When a test changed one of them (a role's permissions, a tax code),
    its digest differs and the flush empties every table as before, and they are seeded again."""
    from django.core.management.commands import flush

    original = flush.Command.handle
    if getattr(original, "keeps_reference_rows", False):
        return

    def handle(self, **options):
        from django.db import connections

        conn = connections[options["database"]]
        expected = _REFERENCE_ROWS.get(conn.alias)
        if expected is None or options.get("reset_sequences", True) or _reference_fingerprint(conn) != expected:
            return original(self, **options)
        table_names = conn.introspection.django_table_names

        def without_reference_tables(*args, **kwargs):
            return [table for table in table_names(*args, **kwargs) if table not in REFERENCE_TABLES]

        conn.introspection.django_table_names = without_reference_tables
        try:
            # every row post_migrate would create is still there
            return original(self, **{**options, "inhibit_post_migrate": True})
        finally:
            del conn.introspection.django_table_names

    handle.keeps_reference_rows = True
    flush.Command.handle = handle


@pytest.fixture
def today(monkeypatch):
    """Pin "today" for the code under test: `today(dt.date(2026, 3, 31))`."""

    def pin(day: dt.date) -> dt.date:
        monkeypatch.setattr(dates, "today", lambda: day)
        return day

    return pin


@pytest.fixture
def api_client():
    from rest_framework.test import APIClient

    return APIClient()


@pytest.fixture(scope="session")
def einvoice_validator():
    """The e-invoice validator (OASIS UBL 2.1 XSD, EN 16931 and Peppol BIS 3 rules, vendored in
    tests/standards/), its stylesheets compiled once per test process (about 4 s)."""
    from tests.standards.validate_einvoice import Validator

    with Validator() as validator:
        yield validator
