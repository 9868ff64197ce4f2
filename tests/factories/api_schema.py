"""Shared test helpers (moved from tests/otc/test_api_schema.py)."""

from __future__ import annotations

import json

from rest_framework.test import APIClient

from tests.factories.otc import user_with_role


def fetch_schema() -> dict:
    client = APIClient()
    client.force_login(user_with_role("Auditor"))
    response = client.get("/api/v1/schema/", {"format": "json"})
    assert response.status_code == 200
    return json.loads(response.content)
