"""The test database between tests: a transactional test's flush (Django's `flush` command, which
the test runner calls after each transactional test) empties it, and the reference rows (the roles
with their permissions, the reference tax codes) are seeded again, committed, so the tests after it
on the same worker start from what a fresh test database holds (tests/conftest.py, decision 0018,
session 11)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command

from billing.models import TaxCode
from billing.tax import seed_tax_codes
from customers.models import Customer
from otc.roles import ROLE_PERMISSIONS, ensure_roles
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
