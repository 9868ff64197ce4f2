"""Kernel admin: users with roles and history, approval limits, API clients via the services."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from otc.models import ApiClient, ApprovalLimit, User
from otc.roles import FINANCE_MANAGER, ensure_roles
from otc.services import api_client_authenticate
from tests.factories.otc import admin_user, integration_client, role_group, user_with_role

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_():
    ensure_roles()
    client = Client()
    client.force_login(admin_user(username="root"))
    return client


def test_user_changelist_shows_kind_and_roles(admin_client_):
    user_with_role(FINANCE_MANAGER, username="fiona")

    response = admin_client_.get("/admin/otc/user/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "fiona" in html and FINANCE_MANAGER in html


def test_user_change_page_and_history(admin_client_):
    user = user_with_role(FINANCE_MANAGER, username="fiona")

    change = admin_client_.get(f"/admin/otc/user/{user.pk}/change/")
    history = admin_client_.get(f"/admin/otc/user/{user.pk}/history/")

    assert change.status_code == 200
    assert 'name="kind"' in change.content.decode()
    assert history.status_code == 200


def test_approval_limit_admin_creates_a_limit(admin_client_):
    group = role_group(FINANCE_MANAGER)

    response = admin_client_.post("/admin/otc/approvallimit/add/", {
        "kind": "credit_note", "role": group.pk, "currency": "EUR", "max_amount": "10000.00",
    })

    assert response.status_code == 302
    limit = ApprovalLimit.objects.get()
    assert (limit.kind, limit.role, str(limit.max_amount)) == ("credit_note", group, "10000.0000")
    assert admin_client_.get("/admin/otc/approvallimit/").status_code == 200


def test_creating_an_api_client_shows_the_token_once(admin_client_):
    response = admin_client_.post("/admin/otc/apiclient/add/", {
        "name": "CRM", "scopes": ["customers:read", "customers:write"], "throttle_rate": "",
    }, follow=True)

    assert response.status_code == 200
    client = ApiClient.objects.get()
    assert client.scopes == ["customers:read", "customers:write"]
    assert client.user.username == "api-crm"
    assert client.created_by.username == "root"
    html = response.content.decode()
    assert "shown once; store it now" in html
    token = re.search(r"<code data-token>(otc_[0-9a-f]+_[A-Za-z0-9_-]+)</code>", html).group(1)
    assert api_client_authenticate(token) == client
    assert token not in client.key_hash
    # Shown once: the change page never shows it again.
    again = admin_client_.get(f"/admin/otc/apiclient/{client.pk}/change/").content.decode()
    assert token not in again
    assert client.key_hash not in again
    assert "shown once" not in again


def test_api_client_add_form_refuses_a_duplicate_name(admin_client_):
    integration_client(scopes=["customers:read"], name="CRM")

    response = admin_client_.post("/admin/otc/apiclient/add/", {"name": "CRM", "scopes": ["customers:read"]})

    assert response.status_code == 200
    assert ApiClient.objects.count() == 1


def test_revoke_action_calls_the_service(admin_client_):
    client, token = integration_client(scopes=["customers:read"], name="CRM")

    response = admin_client_.post("/admin/otc/apiclient/", {
        "action": "revoke", "_selected_action": [client.pk],
    }, follow=True)

    assert response.status_code == 200
    client.refresh_from_db()
    assert client.revoked_at is not None
    assert client.revoked_by.username == "root"
    assert client.user.is_active is False
    assert "Revoked 1 API client(s)" in response.content.decode()


def test_api_clients_cannot_be_deleted(admin_client_):
    client, _ = integration_client(scopes=["customers:read"], name="CRM")
    assert admin_client_.get(f"/admin/otc/apiclient/{client.pk}/delete/").status_code == 403


def test_admin_adds_a_user_with_kind_and_roles(admin_client_):
    group = role_group(FINANCE_MANAGER)
    assert admin_client_.get("/admin/otc/user/add/").status_code == 200

    response = admin_client_.post("/admin/otc/user/add/", {
        "username": "fiona", "password1": "A-long-enough-pw-42", "password2": "A-long-enough-pw-42",
        "usable_password": "true", "first_name": "Fiona", "last_name": "Finance", "email": "f@otc.example",
        "kind": "human", "job_title": "Finance manager", "groups": [group.pk],
    })

    assert response.status_code == 302
    user = User.objects.get(username="fiona")
    assert (user.kind, user.job_title, user.role_names) == ("human", "Finance manager", [FINANCE_MANAGER])
    assert user.check_password("A-long-enough-pw-42")
    assert user.history.count() >= 1
