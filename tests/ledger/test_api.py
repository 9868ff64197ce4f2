"""/api/v1/ ledger endpoints: permissions, scopes, filters, visibility and query counts."""

import datetime as dt
from decimal import Decimal

import pytest

from ledger.models import OpenItem
from otc.roles import CONTROLLER, SALES_REP
from tests.factories.customers import CustomerFactory
from tests.factories.ledger import LegalEntityFactory, post_invoice, post_receipt
from tests.factories.otc import integration_client, user_with_role
from tests.factories.queries import queries_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def books():
    entity, other = LegalEntityFactory(), LegalEntityFactory(functional_currency="USD")
    rep = user_with_role(SALES_REP)
    mine, theirs = CustomerFactory(sales_owner=rep), CustomerFactory()
    post_invoice(entity, mine, "100.00", number="A-1", date=dt.date(2026, 3, 1))
    post_invoice(entity, theirs, "200.00", number="A-2", date=dt.date(2026, 3, 1))
    post_invoice(other, theirs, "300.00", number="B-1", date=dt.date(2026, 3, 1), due=dt.date(2026, 6, 30))
    post_receipt(OpenItem.objects.get(document_number="A-2"), "200.00")
    return {"entity": entity, "other": other, "rep": rep, "mine": mine, "theirs": theirs}


def _numbers(response):
    return sorted(row["document_number"] for row in response.json()["results"])


def test_open_items_filters(api_client, books):
    api_client.force_authenticate(user_with_role(CONTROLLER))
    url = "/api/v1/open-items/"
    assert _numbers(api_client.get(url)) == ["A-1", "A-2", "B-1"]
    assert _numbers(api_client.get(url, {"open": "true"})) == ["A-1", "B-1"]
    assert _numbers(api_client.get(url, {"legal_entity": books["other"].code})) == ["B-1"]
    assert _numbers(api_client.get(url, {"customer": books["mine"].id})) == ["A-1"]
    assert _numbers(api_client.get(url, {"due_before": "2026-05-01"})) == ["A-1", "A-2"]
    assert _numbers(api_client.get(url, {"currency": "usd"})) == ["B-1"]  # post_invoice uses the entity currency
    row = api_client.get(url, {"customer": books["mine"].id}).json()["results"][0]
    assert (row["original_amount"], row["open_amount"], row["currency"], row["is_open"]) == ("100.0000", "100.0000", "EUR", True)


def test_sales_rep_sees_only_own_customers_open_items(api_client, books):
    api_client.force_authenticate(books["rep"])
    assert _numbers(api_client.get("/api/v1/open-items/")) == ["A-1"]
    theirs = OpenItem.objects.get(document_number="B-1")
    assert api_client.get(f"/api/v1/open-items/{theirs.id}/").status_code == 404
    assert api_client.get("/api/v1/journal-entries/").status_code == 403


def test_journal_entries_with_lines(api_client, books):
    api_client.force_authenticate(user_with_role(CONTROLLER))
    data = api_client.get("/api/v1/journal-entries/", {"legal_entity": books["entity"].code, "kind": "invoice"}).json()
    assert data["count"] == 2
    lines = data["results"][0]["lines"]
    assert sorted((line["account_code"], line["amount"]) for line in lines)[0][0] == "1100"
    assert all(Decimal(line["functional_amount"]) == Decimal(line["amount"]) for line in lines)


def test_legal_entities_and_accounts(api_client, books):
    api_client.force_authenticate(user_with_role(CONTROLLER))
    codes = [e["code"] for e in api_client.get("/api/v1/legal-entities/").json()["results"]]
    assert codes == sorted([books["entity"].code, books["other"].code])
    accounts = api_client.get("/api/v1/accounts/", {"legal_entity": books["entity"].code, "role": "ar"}).json()
    assert [(a["code"], a["role"]) for a in accounts["results"]] == [("1100", "ar")]


def test_token_client_needs_the_ledger_read_scope(api_client, books):
    _, token = integration_client(scopes=["customers:read"], name="CRM")
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    response = api_client.get("/api/v1/open-items/")
    assert response.status_code == 403 and "ledger:read" in response.json()["message"]
    _, token = integration_client(scopes=["ledger:read"], name="BI")
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert _numbers(api_client.get("/api/v1/open-items/")) == ["A-1", "A-2", "B-1"]
    assert api_client.post("/api/v1/open-items/", {}).status_code == 405


def test_query_counts_do_not_grow_with_rows(api_client, books):
    api_client.force_authenticate(user_with_role(CONTROLLER))
    urls = ["/api/v1/open-items/", "/api/v1/journal-entries/", "/api/v1/accounts/", "/api/v1/legal-entities/"]
    queries_for(api_client, urls[0])  # warm the permission cache
    before = [queries_for(api_client, url) for url in urls]
    for n in range(6):
        post_invoice(LegalEntityFactory(), CustomerFactory(), f"{n + 1}.00")
    assert [queries_for(api_client, url) for url in urls] == before


def test_schema_lists_the_ledger_endpoints(api_client, books):
    api_client.force_authenticate(user_with_role(CONTROLLER))
    paths = api_client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()["paths"]
    for path in ["/api/v1/legal-entities/", "/api/v1/accounts/", "/api/v1/journal-entries/{id}/", "/api/v1/open-items/"]:
        assert path in paths
