"""Operator commands: api_client_create prints the token once."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from otc.models import ApiClient
from otc.services import api_client_authenticate
from tests.factories.otc import admin_user

pytestmark = pytest.mark.django_db


def test_api_client_create_prints_a_working_token_once(capsys):
    admin_user(username="root")

    call_command("api_client_create", "--name", "CRM", "--scopes", "customers:read,customers:write")

    lines = capsys.readouterr().out.strip().splitlines()
    client = ApiClient.objects.get()
    assert lines[0] == "Created API client 'CRM' (user api-crm) with scopes customers:read, customers:write."
    assert lines[-1].startswith(f"otc_{client.key_prefix}_")
    assert api_client_authenticate(lines[-1]) == client
    assert client.created_by.username == "root"
    assert client.user.groups.get().permissions.exists()  # the Integration role carries its permissions


def test_api_client_create_refuses_unknown_scopes():
    admin_user(username="root")

    with pytest.raises(CommandError, match=r"Unknown scope\(s\): customers:delete"):
        call_command("api_client_create", "--name", "CRM", "--scopes", "customers:delete")
    assert ApiClient.objects.count() == 0


def test_api_client_create_needs_an_administrator():
    with pytest.raises(CommandError, match="No superuser exists"):
        call_command("api_client_create", "--name", "CRM", "--scopes", "customers:read")
