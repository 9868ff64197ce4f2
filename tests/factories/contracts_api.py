"""Shared test helpers (moved from tests/contracts/test_api.py)."""

from __future__ import annotations

import pytest

from tests.factories.contracts_workflow import contracts_world_built, world_fixture  # noqa: F401
from tests.factories.otc import integration_client


@pytest.fixture(name="crm")
def crm_fixture(api_client, world):
    _, token = integration_client(scopes=["contracts:read", "contracts:write"])
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return api_client

def crm_body(world, **overrides):
    body = {
        "customer_id": world.customer.id, "legal_entity_id": world.entity.id, "title": "Platform deal",
        "currency": "EUR", "start_date": "2026-01-01", "end_date": "2026-12-31", "payment_terms_days": 30,
        "lines": [{"product_sku": "PLAT", "kind": "recurring", "quantity": "2", "unit_price": "500.00"}],
    }
    body.update(overrides)
    return body
