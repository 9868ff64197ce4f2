"""/api/v1/contracts/: create, upsert, submit, usage, retrieve, filters, field-named errors,
scopes, sales-rep scoping and query counts."""

from __future__ import annotations

import json

import pytest

from contracts import services
from contracts.models import Contract, ContractVersion, UsageRecord
from tests.factories.contracts_api import (
    crm_body,
    crm_fixture,  # noqa: F401 - a fixture
)
from tests.factories.contracts_workflow import contracts_world_built, world_fixture  # noqa: F401
from tests.factories.otc import integration_client
from tests.factories.queries import queries_for

pytestmark = pytest.mark.django_db
URL = "/api/v1/contracts/"


def _post(client, url, body, **headers):
    return client.post(url, data=json.dumps(body), content_type="application/json", **headers)


def test_create_returns_the_contract_with_terms_values_and_findings(crm, world):
    response = _post(crm, URL, crm_body(world, payment_terms_days=45))

    assert response.status_code == 201, response.json()
    body = response.json()
    contract = Contract.objects.get()
    assert (body["number"], body["status"], body["version"]) == (contract.number, "draft", 1)
    version = body["current_version"]
    assert (version["payment_terms_days"], version["lines"][0]["product_sku"]) == (45, "PLAT")
    assert version["values"]["total"] == "12000.00"  # issue 15: amounts in the minor unit
    assert [(f["rule"], f["severity"]) for f in version["assessment"]["findings"]] == [("payment_terms", "warning")]
    assert body["customer"]["id"] == world.customer.id


def test_validation_error_names_the_line_field_and_writes_nothing(crm, world):
    body = crm_body(world)
    body["lines"].append({"product_sku": "PLAT", "kind": "recurring", "unit_price": 12.5})

    response = _post(crm, URL, body)

    assert response.status_code == 400
    error = response.json()
    assert error["error"] == "validation_error"
    assert list(error["fields"]) == ["lines[1].unit_price"]
    assert error["message"].startswith("Please correct: lines[1].unit_price: Send amounts as strings")
    assert Contract.objects.count() == 0


def test_model_rule_error_names_the_line_field(crm, world):
    body = crm_body(world)
    body["lines"].append({"product_sku": "PLAT", "kind": "milestone", "unit_price": "100.00"})
    body["lines"].append({"product_sku": "NOPE", "kind": "recurring", "unit_price": "1.00"})

    response = _post(crm, URL, body)

    assert response.status_code == 400
    assert response.json()["fields"] == {"lines[2].product_sku": ["No product with SKU 'NOPE'."]}
    body["lines"].pop()
    response = _post(crm, URL, body)
    assert response.json()["fields"] == {"lines[1].milestone_date": ["A milestone needs its date."]}
    assert Contract.objects.count() == 0


def test_upsert_by_crm_ids_creates_then_updates_then_refuses_once_submitted(crm, world):
    world.customer.external_crm_id = "ACC-1"
    world.customer.save(update_fields=["external_crm_id"])
    body = crm_body(world, crm_opportunity_id="OPP-1", customer_crm_id="ACC-1")
    del body["customer_id"]

    first = _post(crm, URL + "upsert/", body)
    key = first.json()["current_version"]["lines"][0]["line_key"]
    body["lines"][0].update(line_key=key, unit_price="600.00")
    second = _post(crm, URL + "upsert/", body)

    assert (first.status_code, second.status_code) == (201, 200)
    assert Contract.objects.count() == 1 and ContractVersion.objects.count() == 1
    line = second.json()["current_version"]["lines"][0]
    assert (line["line_key"], line["unit_price"]) == (key, "600.00")

    contract = Contract.objects.get()
    submitted = _post(crm, f"{URL}{contract.pk}/submit/", {})
    assert submitted.status_code == 200
    assert submitted.json()["current_version"]["status"] == "submitted"
    refused = _post(crm, URL + "upsert/", body)
    assert refused.status_code == 409
    assert "amend it instead" in refused.json()["message"]
    assert ContractVersion.objects.get().lines.get().unit_price == 600


def test_usage_single_and_list_idempotent_by_source_id(crm, world):
    version = world.draft(lines=[world.line(), world.usage_line()])
    services.contract_submit(version_id=version.id, by=world.rep)
    services.contract_decide(version_id=version.id, by=world.reviewer, decision="approved")
    key = str(version.lines.get(kind="usage").line_key)
    url = f"{URL}{version.contract_id}/usage/"
    one = {"line_key": key, "period_start": "2026-01-17", "quantity": "1500", "source_id": "m-1"}

    created = _post(crm, url, one)
    again = _post(crm, url, one)
    batch = _post(crm, url, [one, {**one, "source_id": "m-2", "period_start": "2026-02-01"}])
    conflict = _post(crm, url, {**one, "quantity": "1600"})

    assert (created.status_code, again.status_code, batch.status_code) == (201, 200, 201)
    assert created.json()["period_start"] == "2026-01-01"
    assert created.json()["id"] == again.json()["id"]
    assert [r["source_id"] for r in batch.json()] == ["m-1", "m-2"]
    assert conflict.status_code == 400
    assert list(conflict.json()["fields"]) == ["source_id"]
    assert UsageRecord.objects.count() == 2


def test_scope_refusal(api_client, world):
    _, token = integration_client(scopes=["contracts:read"], name="Reader")
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")

    response = _post(api_client, URL, crm_body(world))

    assert response.status_code == 403
    assert "contracts:write" in response.json()["message"]
    assert Contract.objects.count() == 0
    assert api_client.get(URL).status_code == 200


def test_sales_rep_sees_only_own_contracts_via_session(client, world):
    mine = world.draft()
    other_customer = type(world.customer).objects.create(
        account_number="C999", legal_name="Other", country="DE", address_line1="x", city="y",
        default_currency="EUR", sales_owner=world.other_rep)
    other = services.contract_create(data=world.data(customer_id=other_customer.id), lines=[world.line()],
                                     by=world.other_rep)

    client.force_login(world.rep)
    listed = client.get(URL).json()

    assert [c["id"] for c in listed["results"]] == [mine.contract_id]
    assert client.get(f"{URL}{other.pk}/").status_code == 404
    assert client.post(f"{URL}{other.pk}/submit/").status_code == 404
    assert ContractVersion.objects.get(contract=other).status == "draft"


def test_filters(crm, world):
    draft = world.draft(crm_opportunity_id="OPP-9")
    active = world.active()

    def ids(query):
        return [c["id"] for c in crm.get(URL + query).json()["results"]]

    assert ids("?status=active") == [active.contract_id]
    assert ids("?crm_opportunity_id=OPP-9") == [draft.contract_id]
    assert sorted(ids(f"?customer={world.customer.id}")) == sorted([draft.contract_id, active.contract_id])
    assert ids("?updated_since=2100-01-01T00:00:00Z") == []


def test_query_counts_do_not_grow_with_rows(crm, world):
    first = world.active()
    services.contract_comment_add(contract_id=first.contract_id, by=world.reviewer, body="x")

    def count(url):
        return queries_for(crm, url)

    count(URL)  # warm-up: the client's last-used stamp is written once a minute
    list_one, detail_small = count(URL), count(f"{URL}{first.contract_id}/")
    for _ in range(3):
        world.submitted("10000.00", payment_terms_days=90)
    big = world.draft(lines=[world.line(), world.line(), world.usage_line(), world.line()], payment_terms_days=95)
    services.contract_submit(version_id=big.id, by=world.rep)
    services.contract_decide(version_id=big.id, by=world.reviewer, decision="approved")
    services.contract_decide(version_id=big.id, by=world.manager, decision="approved")

    assert list_one == 5
    assert count(URL) == list_one
    assert count(f"{URL}{big.contract_id}/") == detail_small == 10
