"""The customer list's Excel export needs `customers.export_customers` (the list component's
`?export=xlsx` must not be a way around the export view's permission): a sales rep, who may
view their own customers but not export them, is refused; a controller gets the workbook."""

from __future__ import annotations

import pytest
from django.urls import reverse

from otc.roles import CONTROLLER, SALES_REP
from tests.factories.customers import CustomerFactory
from tests.factories.otc import user_with_role

pytestmark = pytest.mark.django_db


def test_a_role_without_the_export_permission_cannot_export_the_list_through_its_query(client):
    rep = user_with_role(SALES_REP)
    CustomerFactory(legal_name="Own Customer GmbH", sales_owner=rep)
    client.force_login(rep)
    assert client.get(reverse("customers:list")).status_code == 200
    response = client.get(reverse("customers:list"), {"export": "xlsx"})
    assert response.status_code == 403


def test_a_role_with_the_export_permission_gets_the_workbook(client):
    CustomerFactory(legal_name="Any Customer GmbH")
    client.force_login(user_with_role(CONTROLLER))
    response = client.get(reverse("customers:list"), {"export": "xlsx"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
