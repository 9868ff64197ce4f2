"""Reserve pages, the calculation sheet (PDF, XLSX), the derivation export and the API, with who
may do what."""

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from openpyxl import load_workbook

from collections_app.models import ProvisionPolicy, ReserveRun
from collections_app.services.reserve import provision_policy_create
from otc.models import ApprovalLimit
from otc.roles import AUDITOR, CONTROLLER, FINANCE_MANAGER, SALES_REP
from tests.factories.collections_reserve import item_in_bucket, reserve_entity, snapshot
from tests.factories.customers import CustomerFactory
from tests.factories.otc import integration_client, user_with_role
from tests.factories.queries import queries_for

D = Decimal
AS_OF = dt.date(2026, 6, 30)


@pytest.fixture
def setup(db):
    entity = reserve_entity("VW1")
    item_in_bucket(entity, CustomerFactory(), "10000.00", as_of=AS_OF, days_past_due=-3, currency="EUR")
    item_in_bucket(entity, CustomerFactory(), "2000.00", as_of=AS_OF, days_past_due=100, currency="EUR")
    snapshot(entity, AS_OF)
    controller = user_with_role(CONTROLLER)
    provision_policy_create(legal_entity_id=entity.id, effective_date=dt.date(2026, 1, 1), method="matrix",
                            by=controller, rates=[{"bucket": b, "rate": r} for b, r in
                                                  enumerate(["0.01", "0.02", "0.05", "0.10", "0.50"])])
    ApprovalLimit.objects.create(kind="reserve", role=Group.objects.get(name=CONTROLLER), currency="EUR",
                                 max_amount=D("1000000"))
    return {"entity": entity, "controller": controller, "manager": user_with_role(FINANCE_MANAGER)}


def test_prepare_approve_post_through_the_pages_and_download_the_sheet(client, setup):
    entity, controller, manager = setup["entity"], setup["controller"], setup["manager"]
    client.force_login(manager)
    response = client.post("/collections/reserve/prepare/", {"entity": entity.pk, "as_of": "2026-06-30"})
    run = ReserveRun.objects.get(legal_entity=entity)
    assert response.status_code == 302 and response["Location"] == f"/collections/reserve/runs/{run.pk}/"
    page = client.get(f"/collections/reserve/runs/{run.pk}/").content.decode()
    assert "1,100.00" in page and 'data-testid="approve"' not in page  # own run: no approve button
    assert client.post(f"/collections/reserve/runs/{run.pk}/approve/").status_code == 302
    run.refresh_from_db()
    assert run.status == "proposed"  # refused: the preparer never approves
    client.force_login(controller)
    client.post(f"/collections/reserve/runs/{run.pk}/approve/")
    client.post(f"/collections/reserve/runs/{run.pk}/post/")
    run.refresh_from_db()
    assert run.status == "posted" and run.journal_entry.kind == "reserve"
    pdf = client.get(f"/collections/reserve/runs/{run.pk}/sheet.pdf")
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    xlsx = client.get(f"/collections/reserve/runs/{run.pk}/sheet.xlsx")
    sheet = load_workbook(io.BytesIO(xlsx.content))["Calculation"]
    totals = {row[0]: row[6] for row in sheet.iter_rows(values_only=True) if row[0]}
    assert (D(str(totals["Required allowance"])), D(str(totals["True-up (+ charge, - release)"]))) == (
        D("1100"), D("1100"))
    assert sheet.cell(row=5, column=3).number_format.startswith("#,##0.00")


def test_pages_render_for_readers_and_refuse_others(client, setup):
    client.force_login(user_with_role(AUDITOR))
    for url in ("/collections/reserve/", "/collections/reserve/policies/",
                "/collections/reserve/derivation/?as_of=2026-06-30", "/collections/reserve/rollforward/"):
        assert client.get(url).status_code == 200, url
    assert client.post("/collections/reserve/prepare/", {"entity": setup["entity"].pk}).status_code == 403
    assert client.post("/collections/reserve/policies/new/", {"entity": setup["entity"].pk}).status_code == 403
    client.force_login(user_with_role(SALES_REP))
    assert client.get("/collections/reserve/").status_code == 403


def test_controller_enters_a_policy_version_in_percent(client, setup):
    entity = setup["entity"]
    client.force_login(setup["controller"])
    data = {"entity": entity.pk, "effective_date": "2026-07-01", "method": "matrix", "segment_by": "",
            "lookback_months": "12", "overlay_factor": "1",
            **{f"rate_{b}": r for b, r in enumerate(["0.3", "1.6", "3.6", "6.6", "10.6"])},
            "overlay_4": "2", "reason_4": "Sector stress"}
    client.post("/collections/reserve/policies/new/", data)
    policy = ProvisionPolicy.objects.get(legal_entity=entity, effective_date=dt.date(2026, 7, 1))
    assert [(r.rate, r.overlay) for r in policy.rates.order_by("bucket")][::4] == [
        (D("0.00300000"), D("0")), (D("0.10600000"), D("0.02000000"))]


def test_derivation_page_and_excel(client, setup):
    client.force_login(setup["controller"])
    page = client.get("/collections/reserve/derivation/", {"entity": setup["entity"].pk, "as_of": "2026-06-30",
                                                          "method": "roll_rate"})
    assert page.status_code == 200 and b'data-testid="derivation"' in page.content
    xlsx = client.get("/collections/reserve/derivation/", {"entity": setup["entity"].pk, "as_of": "2026-06-30",
                                                          "method": "loss_rate", "format": "xlsx"})
    assert load_workbook(io.BytesIO(xlsx.content)).active.title == "Derivation"


def test_api_reads_the_reserve_with_its_lines(api_client, setup):
    _client, token = integration_client(scopes=["reserve:read"])
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    response = api_client.get("/api/v1/reserve/", {"entity": "VW1", "as_of": "2026-06-30"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["source"], body["required_total"], body["functional_currency"]) == ("computed", "1100.0000", "EUR")
    assert [(ln["bucket_label"], ln["balance"], ln["rate"], ln["allowance"]) for ln in body["lines"]] == [
        ("Current", "10000.0000", "0.01000000", "100.0000"), ("Over 90", "2000.0000", "0.50000000", "1000.0000")]
    missing = api_client.get("/api/v1/reserve/", {"entity": "VW1", "as_of": "2026-05-31"})
    assert missing.status_code == 400 and missing.json()["error"] == "no_snapshot"


def test_api_without_the_scope_is_refused(api_client, setup):
    _client, token = integration_client(scopes=["reports:read"])
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert api_client.get("/api/v1/reserve/", {"entity": "VW1"}).status_code == 403


def test_run_page_and_api_query_counts_do_not_grow_with_specific_reserves(client, api_client, setup):
    from collections_app.services.reserve import reserve_run_prepare, specific_reserve_create

    entity, controller = setup["entity"], setup["controller"]
    client.force_login(controller)
    api_client.force_authenticate(controller)

    def counts(n_specific: int) -> tuple[int, int]:
        for _ in range(n_specific):
            customer = CustomerFactory()
            item_in_bucket(entity, customer, "100.00", as_of=AS_OF, days_past_due=45, currency="EUR")
            specific_reserve_create(legal_entity_id=entity.id, customer_id=customer.id, percent=D("50"),
                                    reason="bankruptcy", effective_from=dt.date(2026, 6, 1), by=controller)
        snapshot(entity, AS_OF)
        run = reserve_run_prepare(legal_entity_id=entity.id, as_of=AS_OF, by=setup["manager"])
        return (queries_for(client, f"/collections/reserve/runs/{run.pk}/"),
                queries_for(api_client, "/api/v1/reserve/", {"entity": "VW1", "as_of": "2026-06-30"}))

    assert counts(1) == counts(5)
