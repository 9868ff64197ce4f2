"""Shared test helpers (moved from tests/receivables/test_api.py)."""

from __future__ import annotations

from django.contrib.auth.models import Permission

from otc.models import User
from tests.factories.otc import integration_client


def grant(user: User, *labels: str) -> User:
    """Give a user these permissions on top of its role's (the Integration role already carries
    receivables.view_receipt and add_receipt; a client stripped of its role gets only these)."""
    for label in labels:
        app, codename = label.split(".")
        user.user_permissions.add(Permission.objects.get(content_type__app_label=app, codename=codename))
    return User.objects.get(pk=user.pk)

def bank_client(api_client, *scopes: str, name: str = "Bank feed", perms=("receivables.view_receipt",
                                                                          "receivables.add_receipt")):
    client, token = integration_client(scopes=list(scopes), name=name)
    if not perms:  # scopes alone: a client whose user lost its role's permissions
        client.user.groups.clear()
    grant(client.user, *perms)
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return api_client
