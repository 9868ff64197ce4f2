"""Roles: the groups, their permissions, and who may do what."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission

from otc import roles
from otc.roles import AUDITOR_EXTRA, HUMAN_ROLES, ensure_roles
from tests.factories.otc import user_with_role

pytestmark = pytest.mark.django_db


def snapshot() -> dict[str, set[str]]:
    return {
        g.name: {f"{p.content_type.app_label}.{p.codename}" for p in g.permissions.select_related("content_type")}
        for g in Group.objects.prefetch_related("permissions")
    }


def test_ensure_roles_is_idempotent():
    first_counts = ensure_roles()
    first = snapshot()

    second_counts = ensure_roles()

    assert second_counts == first_counts
    assert snapshot() == first
    assert Group.objects.count() == len(roles.ROLE_PERMISSIONS)


def test_ensure_roles_sets_exactly_the_mapped_permissions():
    ensure_roles()
    group = Group.objects.get(name=roles.SALES_REP)
    group.permissions.add(Permission.objects.get(codename="delete_customer"))

    ensure_roles()

    # the stray permission is gone and the role holds exactly its mapping
    assert "customers.delete_customer" not in snapshot()[roles.SALES_REP]
    assert snapshot()[roles.SALES_REP] == set(roles.ROLE_PERMISSIONS[roles.SALES_REP])


def test_every_human_role_exists_with_permissions():
    ensure_roles()

    existing = set(Group.objects.values_list("name", flat=True))

    assert set(HUMAN_ROLES) <= existing
    assert len(HUMAN_ROLES) == 9
    for role in HUMAN_ROLES:
        assert snapshot()[role], f"{role} has no permissions"


def test_ensure_roles_command_prints_every_role(capsys):
    from django.core.management import call_command

    call_command("ensure_roles")

    out = capsys.readouterr().out
    for role in roles.ROLE_PERMISSIONS:
        assert f"{role}: " in out


def test_auditor_reads_everything_and_changes_nothing():
    ensure_roles()
    perms = snapshot()[roles.AUDITOR]
    codenames = {p.split(".", 1)[1] for p in perms}

    assert {p for p in perms if not p.split(".", 1)[1].startswith("view_")} == {
        p for p in AUDITOR_EXTRA if not p.split(".", 1)[1].startswith("view_")
    } == {"customers.export_customers", "ledger.export_gl"}
    assert not any(c.startswith(("add_", "change_", "delete_")) for c in codenames)
    all_views = {
        f"{p.content_type.app_label}.{p.codename}"
        for p in Permission.objects.filter(content_type__app_label__in=roles.PROJECT_APPS, codename__startswith="view_")
        .select_related("content_type")
    }
    assert all_views <= perms
    assert {"customers.view_all_customers", "ledger.view_trial_balance", "otc.view_audit_trail"} <= perms


# Which role holds which key permission. A change here is a change of policy: update on purpose.
SR, CR, FM, CO, BS, CA, CL, HD, AU = HUMAN_ROLES
MATRIX = {
    "customers.view_customer": {SR, CR, FM, CO, BS, CA, CL, HD, AU},
    "customers.view_all_customers": {CR, FM, CO, BS, CA, CL, HD, AU},
    "customers.add_customer": {BS},
    "customers.change_customer": {FM, CO, BS},
    "customers.delete_customer": set(),
    "customers.import_customers": {BS},
    "customers.export_customers": {FM, CO, BS, AU},
    "customers.add_contact": {BS, CL},
    "customers.delete_contact": {BS},
    "ledger.view_trial_balance": {FM, CO, CA, AU},
    "ledger.view_journalentry": {FM, CO, BS, CA, AU},
    "ledger.post_manual_journal": {CO},
    "ledger.manage_periods": {CO},
    "ledger.export_gl": {CO, AU},
    "ledger.add_fxrate": {CO},
    "otc.view_approvallimit": {FM, CO, AU},
    "otc.change_approvallimit": {CO},
    "otc.view_audit_trail": {CR, FM, CO, BS, CA, CL, HD, AU},
    "otc.add_apiclient": set(),
    "receivables.view_receipt": {SR, CR, FM, CO, BS, CA, CL, HD, AU},
    "receivables.add_receipt": {CA},
    "receivables.apply_receipt": {CA},
    "receivables.import_statement": {CA},
    "receivables.reverse_receipt": {CA},
    "receivables.refund_receipt": {FM, CO},
    "receivables.add_bankaccount": {CO},
}


def test_role_permission_matrix():
    users = {role: user_with_role(role, username=f"m-{role.lower().replace(' ', '-')}") for role in HUMAN_ROLES}

    actual = {perm: {role for role, user in users.items() if user.has_perm(perm)} for perm in MATRIX}

    assert actual == MATRIX


def test_integration_role_cannot_touch_the_ledger():
    user = user_with_role(roles.INTEGRATION)
    assert user.has_perm("customers.change_customer")
    assert not user.has_perm("ledger.post_manual_journal")
    assert not user.has_perm("ledger.add_journalentry")
    # a bank integration posts receipts; applying them by hand stays with people
    assert user.has_perm("receivables.add_receipt") and not user.has_perm("receivables.apply_receipt")


def test_ensure_roles_costs_a_fixed_handful_of_queries(django_assert_max_num_queries):
    """Not one query per permission or role: the suite seeds roles once per database with it."""
    Group.objects.all().delete()
    with django_assert_max_num_queries(8):  # permissions, groups, insert groups, groups, grants, insert grants
        counts = ensure_roles()
    assert counts == {name: len(perms) for name, perms in snapshot().items()}
    with django_assert_max_num_queries(5):  # nothing to change: three reads (and the savepoint)
        assert ensure_roles() == counts
