"""The API as a contract (issue 15): one error shape for every answer, strict query parameters
and bodies, strict amounts, finance-controlled fields read-only to integrations, split scopes."""

from __future__ import annotations

import json

import pytest
from django.test import override_settings

from customers.models import Contact, Customer
from otc.roles import AUDITOR, SALES_REP
from tests.factories.customers import CustomerFactory, customer_data
from tests.factories.otc import integration_client, user_with_role

pytestmark = pytest.mark.django_db
CUSTOMERS = "/api/v1/customers/"


def _client(api_client, *scopes, name="CRM"):
    client, token = integration_client(scopes=list(scopes), name=name)
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return api_client


@pytest.fixture
def crm(api_client):
    return _client(api_client, "customers:read", "customers:write")


def _post(client, url, body, **extra):
    return client.post(url, data=json.dumps(body), content_type="application/json", **extra)


def _shape(response, status, code):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error", "message", "fields"} and body["error"] == code and body["message"]
    return body


# --- one error shape for every answer ------------------------------------------------------------

def test_an_unknown_api_route_is_a_json_404(crm):
    _shape(crm.get("/api/v1/no-such-thing/"), 404, "not_found")


def test_post_without_the_trailing_slash_is_a_404_never_a_redirect(crm):
    before = Customer.objects.count()
    response = _post(crm, "/api/v1/customers", customer_data())
    body = _shape(response, 404, "not_found")
    assert "/api/v1/customers/" in body["message"]
    assert Customer.objects.count() == before


def test_a_wrong_method_is_a_405_in_the_shape(crm):
    _shape(crm.delete(CUSTOMERS), 405, "method_not_allowed")


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1000)
def test_a_big_body_is_a_413_in_the_shape(crm):
    before = Customer.objects.count()
    _shape(_post(crm, CUSTOMERS, customer_data(notes="x" * 5000)), 413, "payload_too_large")
    _shape(_post(crm, CUSTOMERS, customer_data(notes="x" * 5000), HTTP_IDEMPOTENCY_KEY="k1"), 413, "payload_too_large")
    assert Customer.objects.count() == before


def test_a_server_error_is_a_json_500(crm, monkeypatch):
    from customers.api import views

    def boom(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(views.CustomerViewSet, "list", boom)
    crm.raise_request_exception = False
    _shape(crm.get(CUSTOMERS), 500, "server_error")


# --- query parameters -----------------------------------------------------------------------------

@pytest.mark.parametrize("query", ["?overdue=1", "?statuss=active", "?page=0", "?page=x", "?page_size=-1",
                                   "?ordering=nope", "?ordering=-legal_name,secret", "?updated_since=yesterday"])
def test_unknown_or_malformed_query_parameters_are_refused(crm, query):
    CustomerFactory()
    body = _shape(crm.get(CUSTOMERS + query), 400, "validation_error")
    assert body["fields"]


def test_known_parameters_still_work(crm):
    CustomerFactory(legal_name="Alpha")
    CustomerFactory(legal_name="Beta")
    response = crm.get(CUSTOMERS + "?ordering=-legal_name&page=1&page_size=1&format=json")
    assert response.status_code == 200
    assert [c["legal_name"] for c in response.json()["results"]] == ["Beta"]


def test_a_detail_route_takes_no_filters(crm):
    customer = CustomerFactory()
    _shape(crm.get(f"{CUSTOMERS}{customer.pk}/?status=active"), 400, "validation_error")


def test_a_boolean_filter_needs_true_or_false(api_client):
    client = _client(api_client, "ledger:read", name="Ledger")
    assert client.get("/api/v1/open-items/?open=true").status_code == 200
    body = _shape(client.get("/api/v1/open-items/?open=1"), 400, "validation_error")
    assert body["fields"] == {"open": ['Use "true" or "false".']}


@pytest.mark.parametrize("query", ["?search=ac%00me", "?external_crm_id=%00"])
def test_a_nul_byte_in_a_query_is_a_400(crm, query):
    _shape(crm.get(CUSTOMERS + query), 400, "validation_error")


@pytest.mark.parametrize("value", ["2026-01-01T00:00:00+16:00", "2026-01-01T00:00:00-99:00",
                                   "2026-01-01T00:00:00+15:60"])
def test_a_date_time_filter_offset_out_of_range_is_a_400(crm, value):
    from urllib.parse import quote

    _shape(crm.get(CUSTOMERS + "?updated_since=" + quote(value)), 400, "validation_error")
    assert crm.get(CUSTOMERS + "?updated_since=" + quote("2026-01-01T00:00:00+15:59")).status_code == 200


# --- bodies ---------------------------------------------------------------------------------------

def test_unknown_json_fields_are_refused_and_nothing_is_written(crm):
    before = Customer.objects.count()
    body = _shape(_post(crm, CUSTOMERS, {**customer_data(credit_limit="0"), "creditLimit": "1"}), 400, "validation_error")
    assert body["fields"] == {"creditLimit": ["Unknown field: this endpoint does not take it."]}
    body = _shape(_post(crm, CUSTOMERS, customer_data(credit_limit="0", contacts=[{"name": "Ann", "mail": "a@x"}])),
                  400, "validation_error")
    assert "mail" in json.dumps(body["fields"])
    assert Customer.objects.count() == before


@pytest.mark.parametrize("amount", ["1,234.56", "+10.00", "١٢٣", "1e3", " 10", "10.", ".5", "NaN", 10.5, True,
                                    "1" * 30])
def test_lenient_amounts_are_refused(api_client, amount):
    user = user_with_role("Billing Specialist")
    api_client.force_login(user)
    customer = CustomerFactory()
    response = api_client.patch(f"{CUSTOMERS}{customer.pk}/", data=json.dumps({"credit_limit": amount}),
                                content_type="application/json")
    body = _shape(response, 400, "validation_error")
    assert "credit_limit" in body["fields"]
    customer.refresh_from_db()
    assert str(customer.credit_limit) == "50000.0000"


def test_three_decimals_in_a_two_decimal_currency_says_so(api_client):
    api_client.force_login(user_with_role("Billing Specialist"))
    customer = CustomerFactory(default_currency="EUR")
    response = api_client.patch(f"{CUSTOMERS}{customer.pk}/", data=json.dumps({"credit_limit": "10.001"}),
                                content_type="application/json")
    body = _shape(response, 400, "validation_error")
    assert "more than 2 decimal places, which EUR does not allow" in body["fields"]["credit_limit"][0]


# --- finance-controlled fields ------------------------------------------------------------------------

def _held():
    return CustomerFactory(status="on_hold", status_reason="Unpaid since March", credit_limit="5000.00",
                           risk_rating="high", external_crm_id="CRM-1")


@pytest.mark.parametrize("change", [
    {"status": "active", "status_reason": ""}, {"credit_limit": "999999.00"}, {"risk_rating": "low"},
    {"tax_exempt": True, "tax_exemption_reference": "EX-1"}, {"payment_terms_days": 90},
])
def test_an_integration_cannot_change_finance_fields(crm, change):
    customer = _held()
    for method, url, body in [("patch", f"{CUSTOMERS}{customer.pk}/", change),
                              ("post", f"{CUSTOMERS}upsert/", {"external_crm_id": "CRM-1", **change})]:
        response = getattr(crm, method)(url, data=json.dumps(body), content_type="application/json")
        out = _shape(response, 400, "finance_controlled")
        assert set(out["fields"]) <= set(change) and out["fields"]
    customer.refresh_from_db()
    assert (customer.status, customer.credit_limit, customer.risk_rating, customer.tax_exempt,
            customer.payment_terms_days) == ("on_hold", 5000, "high", False, 30)


def test_a_crm_syncing_the_whole_record_unchanged_keeps_finance_holds(crm):
    customer = _held()
    record = crm.get(f"{CUSTOMERS}{customer.pk}/").json()
    writable = {k: v for k, v in record.items() if k not in {
        "id", "account_number", "parent_account_number", "sales_owner_username", "contacts", "created_at", "updated_at"}}
    assert "sales_owner" in writable and "sales_owner_id" in writable  # sent back alike: accepted
    response = crm.put(f"{CUSTOMERS}{customer.pk}/", data=json.dumps({**writable, "city": "Hamburg"}),
                       content_type="application/json")
    assert response.status_code == 200, response.content
    customer.refresh_from_db()
    assert (customer.city, customer.status, customer.credit_limit) == ("Hamburg", "on_hold", 5000)


def test_a_crm_creates_customers_without_finance_values(crm):
    response = _post(crm, f"{CUSTOMERS}upsert/", {**customer_data(), "external_crm_id": "NEW-1"})
    _shape(response, 400, "finance_controlled")
    data = customer_data(external_crm_id="NEW-1")
    del data["credit_limit"]
    response = _post(crm, f"{CUSTOMERS}upsert/", data)
    assert response.status_code == 201
    assert response.json()["credit_limit"] == "0.00"


def test_finance_staff_still_change_finance_fields(api_client):
    api_client.force_login(user_with_role("Billing Specialist"))
    customer = _held()
    response = api_client.patch(f"{CUSTOMERS}{customer.pk}/", data=json.dumps({"credit_limit": "7000.00"}),
                                content_type="application/json", HTTP_X_CHANGE_REASON="Reviewed")
    assert response.status_code == 200
    assert response.json()["credit_limit"] == "7000.00"


# --- implausible references ---------------------------------------------------------------------------

@pytest.mark.parametrize("who", ["auditor", "integration", "inactive"])
def test_a_sales_owner_must_be_an_active_sales_rep(crm, who):
    customer = CustomerFactory()
    user = {"auditor": lambda: user_with_role(AUDITOR),
            "integration": lambda: integration_client(scopes=[], name="Other")[0].user,
            "inactive": lambda: user_with_role(SALES_REP, is_active=False)}[who]()
    body = _shape(crm.patch(f"{CUSTOMERS}{customer.pk}/", data=json.dumps({"sales_owner": user.pk}),
                            content_type="application/json"), 400, "validation_error")
    assert "sales_owner" in body["fields"]
    rep = user_with_role(SALES_REP)
    answer = crm.patch(f"{CUSTOMERS}{customer.pk}/", data=json.dumps({"sales_owner": rep.email}),
                       content_type="application/json").json()
    assert (answer["sales_owner"], answer["sales_owner_id"]) == (rep.email, rep.pk)


def test_a_parent_child_loop_is_refused(crm):
    top = CustomerFactory()
    middle = CustomerFactory(parent=top)
    bottom = CustomerFactory(parent=middle)
    for parent, child in [(bottom, top), (top, top)]:
        body = _shape(crm.patch(f"{CUSTOMERS}{child.pk}/", data=json.dumps({"parent": parent.pk}),
                                content_type="application/json"), 400, "validation_error")
        assert "parent" in body["fields"]
    top.refresh_from_db()
    assert top.parent_id is None


def test_thousands_of_contacts_in_one_upsert_are_refused(crm):
    data = {**customer_data(external_crm_id="MANY"), "contacts": [{"name": f"P{i}"} for i in range(101)]}
    del data["credit_limit"]
    body = _shape(_post(crm, f"{CUSTOMERS}upsert/", data), 400, "validation_error")
    assert "contacts" in body["fields"]
    assert not Customer.objects.exists() and not Contact.objects.exists()


# --- scopes -----------------------------------------------------------------------------------------------

def test_a_statement_reader_reads_statements_and_not_the_ledger(api_client):
    customer = CustomerFactory()
    client = _client(api_client, "statements:read", name="Statements")
    _shape(client.get("/api/v1/journal-entries/"), 403, "permission_denied")
    _shape(client.get("/api/v1/open-items/"), 403, "permission_denied")
    # the statement itself: allowed by the scope (400 here only because the customer has no postings)
    _shape(client.get(f"{CUSTOMERS}{customer.pk}/statement.pdf"), 400, "validation_error")


def test_the_ledger_scope_no_longer_opens_statements(api_client):
    customer = CustomerFactory()
    client = _client(api_client, "ledger:read", name="Ledger")
    body = _shape(client.get(f"{CUSTOMERS}{customer.pk}/statement.pdf"), 403, "permission_denied")
    assert "statements:read" in body["message"]


# --- lookups a CRM needs ----------------------------------------------------------------------------------

def test_a_crm_names_the_sales_owner_by_e_mail(crm):
    rep = user_with_role(SALES_REP, email="Rita.Rep@otc.example")
    found = crm.get("/api/v1/sales-reps/?email=rita.rep@otc.example").json()["results"]
    assert [r["id"] for r in found] == [rep.pk]
    data = {**customer_data(external_crm_id="REP-1"), "sales_owner_email": "rita.rep@OTC.example"}
    del data["credit_limit"]
    response = _post(crm, f"{CUSTOMERS}upsert/", data)
    assert response.status_code == 201, response.content
    assert (response.json()["sales_owner"], response.json()["sales_owner_id"]) == ("Rita.Rep@otc.example", rep.pk)
    body = _shape(_post(crm, f"{CUSTOMERS}upsert/", {"external_crm_id": "REP-1", "sales_owner_email": "nobody@x.example"}),
                  400, "validation_error")
    assert body["fields"] == {"sales_owner_email": ["unknown"]}
    auditor = user_with_role(AUDITOR, email="audit@otc.example")
    assert crm.get(f"/api/v1/sales-reps/?email={auditor.email}").json()["results"] == []


def test_products_lookup_by_sku(api_client):
    from contracts.models import Product

    Product.objects.create(sku="PLAT", name="Platform", default_price="1200.5", currency="EUR")
    client = _client(api_client, "contracts:read", name="Quotes")
    [product] = client.get("/api/v1/products/?sku=plat").json()["results"]
    assert (product["sku"], product["name"], product["default_price"], product["currency"]) == (
        "PLAT", "Platform", "1200.50", "EUR")


def test_legal_entities_are_readable_with_the_contracts_scope(api_client):
    from tests.factories.ledger import LegalEntityFactory

    LegalEntityFactory(code="DE01", periods=[])
    client = _client(api_client, "contracts:read", name="Deals")
    assert [e["code"] for e in client.get("/api/v1/legal-entities/").json()["results"]] == ["DE01"]
    _shape(client.get("/api/v1/accounts/"), 403, "permission_denied")


@pytest.mark.parametrize("value", ["-1.7700082659767112e+103", "99999999999999999999", "1e3", "٣"])
def test_a_number_filter_refuses_what_no_id_can_be(api_client, value):
    from urllib.parse import quote

    client = _client(api_client, "ledger:read", name="Ledger")
    _shape(client.get("/api/v1/open-items/?customer=" + quote(value)), 400, "validation_error")
    assert client.get("/api/v1/open-items/?customer=42").status_code == 200


@pytest.mark.parametrize(("value", "message"), [("1" * 30, "is too large"),
                                                ("5000000000000", "beyond the plausible maximum")])
def test_a_huge_credit_limit_from_a_form_is_refused(value, message):
    from customers.services import customer_update
    from otc.errors import ValidationFailed

    customer = CustomerFactory()
    with pytest.raises(ValidationFailed, match=message):
        customer_update(customer_id=customer.pk, data={"credit_limit": value}, by=user_with_role("Billing Specialist"))
    customer.refresh_from_db()
    assert customer.credit_limit == 50000
