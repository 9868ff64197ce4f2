"""One shape per concept (issue 15, docs/api.md "References"): a legal entity is `legal_entity`
(its code) with `legal_entity_id` readable; a person is their e-mail with `<role>_id` readable;
an invoice is `invoice_id` with `invoice_number`. The schema is walked for every response body,
and the inputs take the new spellings while the old ones stay accepted, marked deprecated."""

from __future__ import annotations

import json

import pytest
from django.core.cache import cache
from drf_spectacular.generators import SchemaGenerator

from contracts.models import Contract
from tests.factories.contracts_api import crm_body, crm_fixture  # noqa: F401
from tests.factories.contracts_workflow import contracts_world_built, world_fixture  # noqa: F401

PEOPLE = {"sales_owner", "requested_by", "decided_by", "approver", "submitted_by", "override_by", "requester",
          "assignee", "author", "owner", "collector", "taken_by", "by"}
URL = "/api/v1/contracts/"


@pytest.fixture(scope="module")
def components():
    return SchemaGenerator().get_schema(request=None, public=True)["components"]["schemas"]


def _responses(components):
    return {name: c.get("properties", {}) for name, c in components.items() if not name.endswith("Request")}


def test_a_legal_entity_is_its_code_with_the_id_beside_it_in_every_response(components):
    seen = []
    for name, props in _responses(components).items():
        if "legal_entity" in props:
            seen.append(name)
            assert props["legal_entity"].get("type") == "string", name
            assert props.get("legal_entity_id", {}).get("type") == "integer", name
        if "entity" in props:  # the reports' old spelling: kept, deprecated, beside the new one
            assert props["entity"].get("deprecated") and "legal_entity" in props, name
    assert {"InvoiceList", "CreditNoteList", "ReceiptOutput", "ContractList", "TicketList", "WriteOff", "OpenItem",
            "JournalEntry", "Account", "AgingEntity", "KpiEntity", "ReserveOutput"} <= set(seen)


def test_a_person_is_an_e_mail_with_the_id_beside_it_in_every_response(components):
    seen = []
    for name, props in _responses(components).items():
        for field in PEOPLE & set(props):
            if name in ("AgingOutput",):  # `by` there is the aging mode (document/customer), not a person
                continue
            seen.append((name, field))
            assert props[field].get("type") == "string", (name, field)
            assert props.get(f"{field}_id", {}).get("type") == "integer", (name, field)
    assert ("CustomerOutput", "sales_owner") in seen and ("CreditNoteOutput", "requested_by") in seen
    assert ("Comment", "author") in seen and ("DisputeOutput", "owner") in seen


def test_an_invoice_is_referred_to_one_way_in_every_response(components):
    for name, props in _responses(components).items():
        assert "invoice" not in props or props["invoice"].get("deprecated"), name  # never {id, number}
        if "invoice_id" in props:
            assert "invoice_number" in props, name
        if "invoice_number" in props and name not in ("InvoicePayment",):
            assert "invoice_id" in props, name


def test_old_input_spellings_are_deprecated_in_the_schema(components):
    contract = components["ContractInputRequest"]["properties"]
    assert contract["legal_entity_id"]["deprecated"] and not contract["legal_entity"].get("deprecated")
    assert contract["sales_owner_id"]["deprecated"]
    customer = components["CustomerInputRequest"]["properties"]
    assert customer["sales_owner_email"]["deprecated"]
    assert [v.get("deprecated", False) for v in customer["sales_owner"]["oneOf"]] == [False, True]  # an id: old
    assert components["CustomerOutput"]["properties"]["sales_owner_username"]["deprecated"]


@pytest.mark.django_db
def test_a_contract_names_its_entity_by_code_and_its_owner_by_e_mail(crm, world):  # noqa: F811
    body = crm_body(world, legal_entity=world.entity.code, sales_owner=world.rep.email)
    del body["legal_entity_id"]
    response = crm.post(URL, data=json.dumps(body), content_type="application/json")
    assert response.status_code == 201, response.content
    out = response.json()
    assert (out["legal_entity"], out["legal_entity_id"]) == (world.entity.code, world.entity.pk)
    assert (out["sales_owner"], out["sales_owner_id"]) == (world.rep.email, world.rep.pk)
    contract = Contract.objects.get()
    assert (contract.legal_entity_id, contract.sales_owner_id) == (world.entity.pk, world.rep.pk)


@pytest.mark.django_db
def test_the_old_entity_id_is_still_accepted_but_not_with_the_code(crm, world):  # noqa: F811
    assert crm.post(URL, data=json.dumps(crm_body(world)), content_type="application/json").status_code == 201
    both = crm.post(URL, data=json.dumps(crm_body(world, legal_entity=world.entity.code)),
                    content_type="application/json")
    assert both.status_code == 400 and set(both.json()["fields"]) == {"legal_entity", "legal_entity_id"}
    unknown = crm_body(world, legal_entity="NOPE")
    del unknown["legal_entity_id"]
    refused = crm.post(URL, data=json.dumps(unknown), content_type="application/json")
    assert refused.status_code == 400 and "legal_entity" in refused.json()["fields"]
    nobody = crm_body(world, sales_owner="nobody@otc.example")
    refused = crm.post(URL, data=json.dumps(nobody), content_type="application/json")
    assert refused.status_code == 400 and "sales_owner" in refused.json()["fields"]
    assert Contract.objects.count() == 1


@pytest.mark.django_db
def test_reports_take_legal_entity_and_the_deprecated_entity_alike(api_client):
    import datetime as dt

    from tests.factories.customers import CustomerFactory
    from tests.factories.ledger import LegalEntityFactory, post_invoice
    from tests.factories.otc import integration_client

    cache.clear()
    entity = LegalEntityFactory(code="AG1", functional_currency="EUR")
    post_invoice(entity, CustomerFactory(), "1000.00", number="A1", date=dt.date(2026, 5, 31), currency="EUR")
    _, token = integration_client(scopes=["reports:read"])
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    new = api_client.get("/api/v1/reports/aging/", {"as_of": "2026-06-30", "legal_entity": "AG1"})
    old = api_client.get("/api/v1/reports/aging/", {"as_of": "2026-06-30", "entity": "AG1"})
    assert new.status_code == old.status_code == 200, new.content
    blocks = new.json()["entities"]
    assert blocks == old.json()["entities"]
    assert [(b["legal_entity"], b["legal_entity_id"], b["entity"]) for b in blocks] == [("AG1", entity.pk, "AG1")]
    clash = api_client.get("/api/v1/reports/aging/", {"legal_entity": "AG1", "entity": "XX"})
    assert clash.status_code == 400 and "legal_entity" in clash.json()["fields"]
