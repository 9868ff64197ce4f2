"""The test database between tests: a transactional test's flush (Django's `flush` command, which
the test runner calls after each transactional test) empties it, and the reference rows (the roles
with their permissions, the reference tax codes) are seeded again, committed, so the tests after it
on the same worker start from what a fresh test database holds (tests/conftest.py, decision 0018,
session 11). When the test left the reference rows as seeded, the flush keeps them instead of
deleting and inserting them again (session 12)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.db import connection

from billing.models import TaxCode
from billing.tax import seed_tax_codes
from customers.models import Customer
from otc.roles import ROLE_PERMISSIONS, ensure_roles
from tests.conftest import REFERENCE_TABLES
from tests.factories.customers import CustomerFactory


@pytest.mark.django_db(transaction=True)
def test_after_a_flush_the_reference_rows_are_there_and_nothing_else():
    CustomerFactory(legal_name="Committed GmbH")
    tax_codes = TaxCode.objects.count()

    call_command("flush", verbosity=0, interactive=False)

    assert not Customer.objects.exists()
    roles = {group.name: group.permissions.count() for group in Group.objects.filter(name__in=list(ROLE_PERMISSIONS))}
    assert set(roles) == set(ROLE_PERMISSIONS) and all(roles.values())
    assert roles == ensure_roles()  # every grant was there already
    assert TaxCode.objects.count() == tax_codes > 30
    assert seed_tax_codes() == 0


def _flush_as_the_runner_does() -> None:
    call_command("flush", verbosity=0, interactive=False, reset_sequences=False, allow_cascade=False,
                 inhibit_post_migrate=False)


@pytest.mark.django_db(transaction=True)
def test_a_flush_keeps_the_reference_rows_a_test_left_as_seeded():
    CustomerFactory(legal_name="Committed GmbH")
    kept = {table: _rows(table) for table in REFERENCE_TABLES}
    assert all(kept.values())

    _flush_as_the_runner_does()

    assert not Customer.objects.exists()
    assert {table: _rows(table) for table in REFERENCE_TABLES} == kept  # the same rows, not new ones


@pytest.mark.django_db(transaction=True)
def test_a_flush_after_a_test_changed_a_reference_row_empties_everything_and_seeds_again():
    controller = Group.objects.get(name="Controller")
    granted = controller.permissions.count()
    controller.permissions.remove(controller.permissions.first())
    TaxCode.objects.filter(code=TaxCode.objects.order_by("pk").first().code).update(rate="0.99")
    CustomerFactory(legal_name="Committed GmbH")

    _flush_as_the_runner_does()

    assert not Customer.objects.exists()
    assert Group.objects.get(name="Controller").permissions.count() == granted
    assert not TaxCode.objects.filter(rate="0.99").exists() and seed_tax_codes() == 0
    assert Group.objects.get(name="Controller").pk != controller.pk  # emptied and created again


def _rows(table: str) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)} ORDER BY 1")
        return cursor.fetchall()
