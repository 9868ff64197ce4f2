"""The approval-limits page: Controllers keep the limits every approval reads; others read or are refused."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from otc.models import ApprovalLimit
from otc.services import approval_limit
from tests.factories.otc import role_group, user_with_role

pytestmark = pytest.mark.django_db


def _form(**overrides):
    data = {"kind": "credit_note", "legal_entity": "", "role": role_group("Billing Specialist").pk, "user": "",
            "currency": "eur", "max_amount": "1,500.00", "reason": "policy 2027"}
    return {**data, **overrides}


def test_controller_adds_and_changes_a_limit_that_approvals_then_read(client):
    controller = user_with_role("Controller")
    specialist = user_with_role("Billing Specialist")
    client.force_login(controller)

    response = client.post(reverse("approval_limits"), _form())

    assert response.status_code == 302
    limit = ApprovalLimit.objects.get()
    assert (limit.kind, limit.currency, limit.max_amount, limit.role.name) == (
        "credit_note", "EUR", Decimal("1500.00"), "Billing Specialist")
    assert approval_limit(user=specialist, kind="credit_note", currency="EUR") == Decimal("1500.00")
    assert limit.history.first().history_user == controller
    assert limit.history.first().history_change_reason == "policy 2027"

    client.post(reverse("approval_limit_edit", args=[limit.pk]), _form(max_amount="2,000"))
    assert approval_limit(user=specialist, kind="credit_note", currency="EUR") == Decimal("2000")

    client.post(reverse("approval_limit_delete", args=[limit.pk]))
    assert not ApprovalLimit.objects.exists()
    assert approval_limit(user=specialist, kind="credit_note", currency="EUR") == Decimal("0")


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"max_amount": "1,5,0"}, "is not an amount"),
        ({"max_amount": "-5"}, "non-negative"),
        ({"user": "__controller__"}, "not both"),
        ({"role": ""}, "not both"),
        ({"currency": "XXQ"}, "Unknown currency"),
    ],
)
def test_bad_limits_are_refused_with_a_message_and_write_nothing(client, overrides, message):
    controller = user_with_role("Controller")
    client.force_login(controller)
    if overrides.get("user") == "__controller__":
        overrides["user"] = controller.pk

    response = client.post(reverse("approval_limits"), _form(**overrides))

    assert response.status_code == 200
    assert message in response.content.decode()
    assert not ApprovalLimit.objects.exists()


def test_finance_manager_reads_but_cannot_change_limits(client):
    limit = ApprovalLimit.objects.create(kind="write_off", role=Group.objects.get_or_create(name="Collector")[0],
                                         currency="USD", max_amount=Decimal("500"))
    client.force_login(user_with_role("Finance Manager"))

    page = client.get(reverse("approval_limits"))
    assert page.status_code == 200 and "500.00" in page.content.decode()
    assert "Add a limit" not in page.content.decode()
    assert client.post(reverse("approval_limits"), _form()).status_code == 403
    assert client.post(reverse("approval_limit_delete", args=[limit.pk])).status_code == 403
    assert ApprovalLimit.objects.count() == 1


@pytest.mark.parametrize("role", ["Sales Rep", "Billing Specialist", "Collector", "Contract Reviewer"])
def test_roles_without_the_permission_are_refused(client, role):
    client.force_login(user_with_role(role))
    assert client.get(reverse("approval_limits")).status_code == 403
    assert client.post(reverse("approval_limits"), _form()).status_code == 403
    assert not ApprovalLimit.objects.exists()
