"""Documents by the number a CRM has (issue 15): invoices and credit notes by number, a credit
note requested for an invoice given by id or by number (exactly one, `oneOf` in the schema).
Visibility holds: another rep's customer's document is a 404 by number as by id."""

from __future__ import annotations

import json

import pytest
from django.core.cache import cache
from drf_spectacular.generators import SchemaGenerator

from billing.models import CreditNote
from billing.services import credit_note_request
from tests.factories.billing import de_entity, issued, specialist
from tests.factories.customers import CustomerFactory
from tests.factories.otc import integration_client, user_with_role

pytestmark = pytest.mark.django_db


@pytest.fixture
def docs():
    cache.clear()
    entity = de_entity()
    rep, other_rep = user_with_role("Sales Rep"), user_with_role("Sales Rep")
    mine = issued(entity, customer=CustomerFactory(country="DE", sales_owner=rep))
    theirs = issued(entity, customer=CustomerFactory(country="DE", legal_name="Andere AG", sales_owner=other_rep))
    return {"entity": entity, "rep": rep, "mine": mine, "theirs": theirs}


def _token(api_client, *scopes):
    _, token = integration_client(scopes=list(scopes))
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return api_client


def _post(api, url, body):
    return api.post(url, data=json.dumps(body), content_type="application/json")


def test_an_invoice_by_number_is_the_same_as_by_id(api_client, docs):
    api = _token(api_client, "invoices:read")
    invoice = docs["mine"]
    by_number = api.get(f"/api/v1/invoices/by-number/{invoice.number}/")
    by_id = api.get(f"/api/v1/invoices/{invoice.pk}/")
    assert by_number.status_code == 200, by_number.content
    assert by_number.json() == by_id.json() and by_number.json()["lines"]
    missing = api.get("/api/v1/invoices/by-number/DE01-INV-2099-999999/")
    assert missing.status_code == 404 and missing.json()["error"] == "not_found"


def test_another_reps_invoice_is_a_404_by_number(api_client, docs):
    api_client.force_authenticate(docs["rep"])
    assert api_client.get(f"/api/v1/invoices/by-number/{docs['mine'].number}/").status_code == 200
    assert api_client.get(f"/api/v1/invoices/by-number/{docs['theirs'].number}/").status_code == 404


def test_a_credit_note_by_number(api_client, docs):
    note = credit_note_request(invoice_id=docs["mine"].pk, by=specialist(), reason="goodwill", explanation="x")
    note.number = "DE01-CN-2026-000001"  # numbered at issue; a requested note has none yet
    note.save(update_fields=["number"])
    api = _token(api_client, "credit_notes:read")
    response = api.get(f"/api/v1/credit-notes/by-number/{note.number}/")
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["id"], body["invoice_id"], body["invoice_number"]) == (note.pk, docs["mine"].pk, docs["mine"].number)
    assert api.get("/api/v1/credit-notes/by-number/NOPE-1/").status_code == 404


def test_a_credit_note_is_requested_for_an_invoice_by_number(api_client, docs):
    api = _token(api_client, "credit_notes:write")
    response = _post(api, "/api/v1/credit-notes/", {"invoice_number": docs["mine"].number, "reason": "goodwill",
                                                    "explanation": "Late delivery", "amount": "100.00"})
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["invoice_id"], body["invoice_number"], body["net_total"]) == (
        docs["mine"].pk, docs["mine"].number, "100.00")
    assert CreditNote.objects.get().invoice_id == docs["mine"].pk


@pytest.mark.parametrize("ref", ["both", "neither", "unknown"])
def test_the_invoice_is_given_exactly_once_and_must_exist(api_client, docs, ref):
    api = _token(api_client, "credit_notes:write")
    invoice = docs["mine"]
    given = {"both": {"invoice_id": invoice.pk, "invoice_number": invoice.number}, "neither": {},
             "unknown": {"invoice_number": "DE01-INV-2099-000001"}}[ref]
    response = _post(api, "/api/v1/credit-notes/", {**given, "reason": "goodwill", "explanation": "x"})
    assert response.status_code == 400 and response.json()["error"] == "validation_error", response.content
    fields = response.json()["fields"]
    assert {"both": {"invoice_id", "invoice_number"}, "neither": {"invoice_id", "invoice_number"},
            "unknown": {"invoice_number"}}[ref] == set(fields)
    assert not CreditNote.objects.exists()


def test_a_reps_request_for_another_reps_invoice_by_number_is_refused(api_client, docs):
    api_client.force_authenticate(docs["rep"])
    response = _post(api_client, "/api/v1/credit-notes/", {"invoice_number": docs["theirs"].number,
                                                           "reason": "goodwill", "explanation": "x"})
    assert response.status_code in (400, 403) and not CreditNote.objects.exists()


def test_the_schema_says_one_of_id_or_number():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    request = schema["components"]["schemas"]["CreditNoteRequestRequest"]
    assert request["oneOf"] == [{"required": ["invoice_id"]}, {"required": ["invoice_number"]}]
    assert {"/api/v1/invoices/by-number/{number}/", "/api/v1/credit-notes/by-number/{number}/"} <= set(schema["paths"])
