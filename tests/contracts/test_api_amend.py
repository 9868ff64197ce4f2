"""A CRM amends an active contract through the API (issue 15): one call, all or nothing, then
the draft version is submitted for review like any version."""

from __future__ import annotations

import json

import pytest

from contracts.models import ContractVersion
from tests.factories.contracts_api import crm_fixture  # noqa: F401
from tests.factories.contracts_workflow import contracts_world_built, world_fixture  # noqa: F401

pytestmark = pytest.mark.django_db
URL = "/api/v1/contracts/"


def test_a_crm_amends_an_active_contract_and_submits_it(crm, world):  # noqa: F811
    v1 = world.active()
    key = str(v1.lines.get().line_key)
    body = {"effective_date": "2026-07-01", "payment_terms_days": 45,
            "lines": [{"line_key": key, "product_sku": world.product.sku, "kind": "recurring", "quantity": "2",
                       "unit_price": "1000.00"}]}
    response = crm.post(f"{URL}{v1.contract_id}/amend/", data=json.dumps(body), content_type="application/json")
    assert response.status_code == 201, response.content
    assert [(v["version"], v["status"]) for v in response.json()["versions"]] == [(1, "active"), (2, "draft")]
    v2 = ContractVersion.objects.get(contract_id=v1.contract_id, version=2)
    assert (v2.amends_id, str(v2.effective_date), v2.payment_terms_days) == (v1.id, "2026-07-01", 45)
    assert [(str(line.line_key), str(line.quantity)) for line in v2.lines.all()] == [(key, "2.0000")]
    submitted = crm.post(f"{URL}{v1.contract_id}/submit/")
    assert submitted.status_code == 200
    v2.refresh_from_db()
    assert v2.status != "draft"


def test_a_bad_amendment_writes_nothing(crm, world):  # noqa: F811
    v1 = world.active()
    body = {"effective_date": "2026-07-01", "lines": [{"product_sku": "NOPE", "kind": "recurring", "unit_price": "1"}]}
    response = crm.post(f"{URL}{v1.contract_id}/amend/", data=json.dumps(body), content_type="application/json")
    assert response.status_code == 400
    body["lines"] = [{"product_id": world.product.id, "kind": "recurring", "unit_price": "-5"}]
    response = crm.post(f"{URL}{v1.contract_id}/amend/", data=json.dumps(body), content_type="application/json")
    assert response.status_code == 400, response.content
    assert not ContractVersion.objects.filter(contract_id=v1.contract_id, version=2).exists()
