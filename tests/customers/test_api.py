"""/api/v1/customers/: list, filters, retrieve, create, update, upsert, scopes, scoping, errors."""

import datetime as dt
import json

import pytest

from customers.models import Contact, Customer
from tests.factories.customers import ContactFactory, CustomerFactory, customer_data
from tests.factories.otc import integration_client, user_with_role
from tests.factories.queries import queries_for

pytestmark = pytest.mark.django_db
URL = "/api/v1/customers/"


@pytest.fixture
def crm(api_client):
    _, token = integration_client(scopes=["customers:read", "customers:write"])
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return api_client


@pytest.fixture
def reader(api_client):
    _, token = integration_client(scopes=["customers:read"], name="Reader")
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return api_client


def _post(client, url, body, **headers):
    return client.post(url, data=json.dumps(body), content_type="application/json", **headers)


def test_list_and_retrieve_with_contacts(crm):
    customer = CustomerFactory(legal_name="Acme GmbH", external_crm_id="A-1")
    ContactFactory(customer=customer, name="Ann", email="ann@acme.example")

    listed = crm.get(URL)
    detail = crm.get(f"{URL}{customer.pk}/")

    assert listed.status_code == 200
    assert listed.json()["count"] == 1
    body = detail.json()
    assert (body["account_number"], body["legal_name"], body["credit_limit"]) == (customer.account_number, "Acme GmbH", "50000.00")
    assert [(c["name"], c["email"]) for c in body["contacts"]] == [("Ann", "ann@acme.example")]


def test_filters(crm):
    de = CustomerFactory(country="DE", status="active", risk_rating="high", legal_name="Alpha AG")
    CustomerFactory(country="FR", default_currency="EUR", legal_name="Beta SA")
    us = CustomerFactory(country="US", default_currency="USD", external_crm_id="CRM-US", legal_name="Gamma Inc")
    Customer.objects.filter(pk=de.pk).update(updated_at=dt.datetime(2020, 1, 1, tzinfo=dt.UTC))

    def ids(query):
        return sorted(c["id"] for c in crm.get(URL + query).json()["results"])

    assert ids("?country=DE") == [de.pk]
    assert ids("?currency=usd") == [us.pk]
    assert ids("?risk_rating=high") == [de.pk]
    assert ids("?external_crm_id=CRM-US") == [us.pk]
    assert ids("?search=gamma") == [us.pk]
    assert len(ids("?updated_since=2021-01-01T00:00:00Z")) == 2
    assert de.pk not in ids("?updated_since=2021-01-01T00:00:00Z")
    assert crm.get(URL + "?status=nonsense").status_code == 400


def crm_data(**overrides):
    """What a CRM sends: the customer without finance-controlled values (issue 15: integrations
    never write credit limits, terms, status or tax status)."""
    data = customer_data(**overrides)
    data.pop("credit_limit", None)
    return data


def test_create_returns_201_and_writes_history(crm):
    response = _post(crm, URL, crm_data(contacts=[{"name": "Ann", "email": "ann@acme.example", "is_billing_contact": True}]))

    assert response.status_code == 201, response.json()
    customer = Customer.objects.get()
    assert response.json()["account_number"] == customer.account_number
    assert customer.contacts.get().is_billing_contact is True
    assert customer.history.get().history_user.username == "api-crm"


def test_validation_error_shape(crm):
    response = _post(crm, URL, crm_data(tax_id="DE136695977", default_currency="ABC"))

    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "validation_error"
    assert body["message"].startswith("Please correct:")
    assert set(body["fields"]) == {"tax_id", "default_currency"}
    assert Customer.objects.count() == 0


def test_float_amount_refused_by_shape(crm):
    response = _post(crm, URL, customer_data(credit_limit=12.5))

    assert response.status_code == 400
    assert response.json()["fields"] == {"credit_limit": ['Send amounts as strings, e.g. "1234.50", not as floating-point numbers.']}


def test_patch_and_put(crm):
    customer = CustomerFactory()

    patched = crm.patch(f"{URL}{customer.pk}/", data={"city": "Potsdam"}, format="json")
    put = crm.put(f"{URL}{customer.pk}/", data=crm_data(legal_name="Renamed AG"), format="json")
    put_missing = crm.put(f"{URL}{customer.pk}/", data={"region": "BB"}, format="json")

    assert patched.status_code == 200
    assert patched.json()["city"] == "Potsdam"
    assert put.status_code == 200
    assert put.json()["legal_name"] == "Renamed AG"
    assert put_missing.status_code == 400
    assert set(put_missing.json()["fields"]) == {"legal_name", "country", "address_line1", "city"}


def test_upsert_created_then_updated_same_id(crm):
    first = _post(crm, URL + "upsert/", crm_data(external_crm_id="0061A"))
    second = _post(crm, URL + "upsert/", {"external_crm_id": "0061A", "city": "Bonn"})

    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["id"] == second.json()["id"]
    assert second.json()["city"] == "Bonn"
    assert Customer.objects.count() == 1


def test_upsert_idempotency_key_replays(crm):
    body = crm_data(external_crm_id="0061B")

    first = _post(crm, URL + "upsert/", body, HTTP_IDEMPOTENCY_KEY="key-1")
    replay = _post(crm, URL + "upsert/", body, HTTP_IDEMPOTENCY_KEY="key-1")
    other = _post(crm, URL + "upsert/", {**body, "city": "Bonn"}, HTTP_IDEMPOTENCY_KEY="key-1")

    assert (first.status_code, replay.status_code) == (201, 201)
    assert replay["Idempotent-Replayed"] == "true"
    assert replay.json() == first.json()
    assert Customer.objects.get().history.count() == 1  # the replay wrote nothing
    assert other.status_code == 400
    assert other.json()["error"] == "idempotency_key_reused"


def test_read_scope_cannot_write(reader):
    created = _post(reader, URL, customer_data())
    upserted = _post(reader, URL + "upsert/", customer_data(external_crm_id="X"))

    assert (created.status_code, upserted.status_code) == (403, 403)
    assert created.json()["error"] == "permission_denied"
    assert "customers:write" in created.json()["message"]
    assert Customer.objects.count() == 0
    assert Contact.objects.count() == 0
    assert reader.get(URL).status_code == 200


def test_no_token_refused(api_client):
    response = api_client.get(URL)

    assert response.status_code == 401
    assert response.json()["error"] == "not_authenticated"


def test_sales_rep_session_sees_only_own(api_client):
    rep = user_with_role("Sales Rep")
    own = CustomerFactory(sales_owner=rep)
    other = CustomerFactory(sales_owner=user_with_role("Sales Rep"))
    api_client.force_login(rep)

    listed = api_client.get(URL)
    theirs = api_client.get(f"{URL}{other.pk}/")
    write = api_client.patch(f"{URL}{own.pk}/", data={"notes": "x"}, format="json")

    assert [c["id"] for c in listed.json()["results"]] == [own.pk]
    assert theirs.status_code == 404
    assert write.status_code == 403
    own.refresh_from_db()
    assert own.notes == ""


def test_auditor_reads_but_cannot_write(api_client):
    api_client.force_login(user_with_role("Auditor"))
    customer = CustomerFactory()

    assert api_client.get(f"{URL}{customer.pk}/").status_code == 200
    assert api_client.patch(f"{URL}{customer.pk}/", data={"notes": "x"}, format="json").status_code == 403
    assert _post(api_client, URL, customer_data()).status_code == 403
    assert Customer.objects.count() == 1


def test_list_query_count_does_not_grow(crm):
    crm.get(URL)  # the first call stamps the token's last use
    for _ in range(5):
        ContactFactory(customer=CustomerFactory(sales_owner=user_with_role("Sales Rep")))
    few = queries_for(crm, URL)
    for _ in range(20):
        ContactFactory(customer=CustomerFactory(sales_owner=user_with_role("Sales Rep"), parent=Customer.objects.first()))
    many = queries_for(crm, URL)

    assert many == few


def test_schema_lists_customer_endpoints(crm):
    response = crm.get("/api/v1/schema/?format=json")

    paths = response.json()["paths"]
    assert {"/api/v1/customers/", "/api/v1/customers/{id}/", "/api/v1/customers/upsert/"} <= set(paths)
