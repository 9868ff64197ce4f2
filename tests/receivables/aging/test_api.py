"""GET /api/v1/reports/aging/ and /api/v1/reports/kpis/: scoped, one error shape, in the schema,
constant query count."""

import pytest
from django.core.cache import cache

from otc.roles import FINANCE_MANAGER
from receivables.aging.cache import recent_reports_clear
from tests.factories.customers import CustomerFactory
from tests.factories.ledger import post_invoice
from tests.factories.otc import integration_client, user_with_role
from tests.factories.queries import queries_for

from .conftest import AS_OF

AGING = "/api/v1/reports/aging/"


def _crm(api_client, scopes):
    client, token = integration_client(scopes=scopes)
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return api_client


def test_a_crm_with_the_reports_scope_reads_the_aging(api_client, aging_book):
    response = _crm(api_client, ["reports:read"]).get(AGING, {"as_of": AS_OF.isoformat(), "entity": "AG1"})
    assert response.status_code == 200, response.content
    [block] = response.json()["entities"]
    assert block["buckets"] == ["Current", "1-30", "31-60", "61-90", "91-120", "Over 120"]
    acme = next(r for r in block["rows"] if r["label"] == "Acme GmbH")
    assert acme["buckets"] == ["1000.0000", "500.0000", "0.0000", "0.0000", "1400.0000", "0.0000"]
    assert (acme["credits"], acme["total"]) == ("-100.0000", "2800.0000")
    assert block["control"] == [{"currency": "EUR", "aging_total": "3050.0000", "control_balance": "3050.0000",
                                 "difference": "0.0000"}]


def test_without_the_scope_a_client_is_refused(api_client, aging_book):
    response = _crm(api_client, ["customers:read"]).get(AGING)
    assert response.status_code == 403
    assert response.json()["error"] == "permission_denied"


@pytest.mark.parametrize(("params", "field"), [
    ({"as_of": "2025-01-01"}, "as_of"), ({"entity": "NOPE"}, "entity"), ({"currency": "QQQ"}, "currency"),
    ({"buckets": "..0, 1-30, 30.."}, "buckets"), ({"buckets": "..0, 1-30, 40.."}, "buckets"),
    ({"group_by": "moon"}, "group_by"), ({"entity": "999999"}, "entity"),
])
def test_bad_input_is_a_400_in_the_one_error_shape(api_client, aging_book, params, field):
    api_client.force_authenticate(user_with_role(FINANCE_MANAGER))
    response = api_client.get(AGING, params)
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["error"] == "validation_error" and field in body["fields"]


def test_group_by_and_net(api_client, aging_book):
    api_client.force_authenticate(user_with_role(FINANCE_MANAGER))
    body = api_client.get(AGING, {"as_of": AS_OF.isoformat(), "group_by": "country", "net": "true"}).json()
    rows = {r["label"]: r for r in body["entities"][0]["rows"]}
    assert rows["France (FR)"]["buckets"][1] == "-50.0000" and rows["France (FR)"]["unapplied_cash"] == "0.0000"


def test_kpis_endpoint(api_client, aging_book):
    response = _crm(api_client, ["reports:read"]).get("/api/v1/reports/kpis/", {"months": 3})
    assert response.status_code == 200
    assert [b["entity"] for b in response.json()] == ["AG1"]
    assert len(response.json()[0]["months"]) == 3


def test_query_count_is_constant_in_customers(api_client, aging_book):
    api_client.force_authenticate(user_with_role(FINANCE_MANAGER))

    def count():
        cache.clear()  # the uncached path: the page and API keep a report per state of the books
        recent_reports_clear()
        return queries_for(api_client, AGING, {"as_of": AS_OF.isoformat()})

    count()  # warm-up: the user's permissions are cached after the first request
    before = count()
    for _ in range(12):
        post_invoice(aging_book["entity"], CustomerFactory(), "10.00", date=AS_OF, currency="EUR")
    assert count() == before


def test_the_endpoints_are_in_the_openapi_schema(api_client, db):
    api_client.force_authenticate(user_with_role(FINANCE_MANAGER))
    schema = api_client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    assert "/api/v1/reports/aging/" in schema["paths"] and "/api/v1/reports/kpis/" in schema["paths"]
    names = {p["name"] for p in schema["paths"]["/api/v1/reports/aging/"]["get"]["parameters"]}
    assert {"as_of", "group_by", "entity", "currency"} <= names
