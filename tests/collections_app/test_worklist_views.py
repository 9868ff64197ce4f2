"""The worklist page (ranked, explained, filtered, Excel, bulk reassign, query count constant in the
number of customers), the customer's collections page (log a call with a promise), the manager's
view, and who is refused."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from collections_app.models import Activity, CollectorAssignment, PromiseToPay
from collections_app.selectors.worklist import worklist
from collections_app.services.portfolio import portfolio_reassign
from tests.factories.billing import de_entity
from tests.factories.collections_worklist import collector, issued_for, manager
from tests.factories.customers import CustomerFactory
from tests.factories.otc import user_with_role

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def world(today):
    today(dt.date(2026, 5, 20))
    entity = de_entity()
    cole = collector(username="cole")
    risky = CustomerFactory(legal_name="Risky AG", risk_rating="high")
    calm = CustomerFactory(legal_name="Calm GmbH", risk_rating="low")
    paid_up = CustomerFactory(legal_name="Paid Up GmbH")
    old = issued_for(entity, risky, "10000.00", on=dt.date(2026, 1, 5))    # due 02-04: 105 days over
    recent = issued_for(entity, calm, "10000.00", on=dt.date(2026, 4, 1))  # due 05-01: 19 days over
    issued_for(entity, paid_up, "100.00", on=dt.date(2026, 5, 10))         # not due yet
    portfolio_reassign(by=manager(), customer_ids=[risky.pk, calm.pk, paid_up.pk], collector_id=cole.pk)
    return {"entity": entity, "cole": cole, "risky": risky, "calm": calm, "paid_up": paid_up, "old": old,
            "recent": recent}


def test_ranked_by_an_explained_score_and_only_customers_with_something_to_do(world):
    rows = worklist(user=world["cole"])
    assert [r.name for r in rows] == ["Risky AG", "Calm GmbH"]
    risky, calm = rows
    # 11,900 over 90 days x3 weight = 35.7 per 1,000 x high 1.5 = 53.55, capped at 50; never contacted 10
    assert risky.buckets == [D("0"), D("0"), D("0"), D("11900.00")]
    assert [(r.label.split(" ")[0], r.points) for r in risky.reasons] == [("Overdue", D("50.00")), ("Never", D("10.00"))]
    assert risky.score == D("60.00")
    # 11,900 in 1-30 x1 = 11.9 x low 1 ; never contacted 10
    assert calm.score == D("21.90")


def test_the_page_shows_rows_and_its_query_count_does_not_grow_with_customers(client, world):
    client.force_login(world["cole"])
    url = "/collections/"
    with CaptureQueriesContext(connection) as few:
        response = client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Risky AG" in html and "Calm GmbH" in html and "Paid Up GmbH" not in html
    for n in range(6):
        customer = CustomerFactory(legal_name=f"More {n} GmbH")
        issued_for(world["entity"], customer, "500.00", on=dt.date(2026, 2, 1))
        portfolio_reassign(by=manager(), customer_ids=[customer.pk], collector_id=world["cole"].pk)
    with CaptureQueriesContext(connection) as many:
        response = client.get(url)
    assert response.content.decode().count('data-customer="') == 8
    assert len(many.captured_queries) == len(few.captured_queries)


def test_filters_and_excel(client, world):
    client.force_login(world["cole"])
    html = client.get("/collections/?risk=high").content.decode()
    assert "Risky AG" in html and "Calm GmbH" not in html
    response = client.get("/collections/?format=xlsx")
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet["B2"].value == "Risky AG" and sheet["A2"].value == 60
    assert sheet["I2"].value == 11900  # over 90, a number


def test_bulk_reassign_by_a_manager_and_refused_to_a_collector(client, world):
    other = collector(username="olga")
    client.force_login(world["cole"])
    assert client.post("/collections/reassign/", {"customers": [world["risky"].pk], "collector": other.pk}).status_code == 403
    client.force_login(manager())
    response = client.post("/collections/reassign/", {"customers": [world["risky"].pk, world["calm"].pk],
                                                      "collector": other.pk})
    assert response.status_code == 302
    assert set(CollectorAssignment.objects.filter(collector=other).values_list("customer_id", flat=True)) == {
        world["risky"].pk, world["calm"].pk}


def test_log_a_call_with_a_promise_from_the_customer_page(client, world):
    client.force_login(world["cole"])
    page = client.get(f"/collections/customers/{world['risky'].pk}/")
    assert page.status_code == 200 and world["old"].number in page.content.decode()
    response = client.post(f"/collections/customers/{world['risky'].pk}/activity/", {
        "kind": "call", "outcome": "promised", "note": "CFO promises half next week", "promise_amount": "5000.00",
        "promise_date": "2026-05-27", "promise_invoices": [world["old"].pk]})
    assert response.status_code == 302
    promise = PromiseToPay.objects.get()
    assert (promise.amount, promise.promised_date, promise.taken_by) == (D("5000.00"), dt.date(2026, 5, 27),
                                                                        world["cole"])
    activity = Activity.objects.get()
    assert (activity.promise, activity.next_action_date) == (promise, dt.date(2026, 5, 31))
    html = client.get(f"/collections/customers/{world['risky'].pk}/").content.decode()
    assert "Promise to pay 5,000.00 EUR by 2026-05-27" in html and "CFO promises half" in html
    # an impossible promise is a form error and nothing is written
    response = client.post(f"/collections/customers/{world['risky'].pk}/activity/", {
        "kind": "call", "outcome": "promised", "promise_amount": "99999.00", "promise_date": "2026-05-27",
        "promise_invoices": [world["old"].pk]})
    assert response.status_code == 400 and "exceeds" in response.content.decode()
    assert (Activity.objects.count(), PromiseToPay.objects.count()) == (1, 1)


def test_manager_view_and_who_is_refused(client, world):
    client.force_login(manager())
    response = client.get("/collections/manager/")
    html = response.content.decode()
    assert response.status_code == 200 and world["cole"].get_full_name() in html
    assert f'collector={world["cole"].pk}">{world["cole"].get_full_name()}</a></td>\n    <td class="money">3</td><td class="money">2</td>' in html
    client.force_login(world["cole"])
    assert client.get("/collections/manager/").status_code == 403
    client.force_login(user_with_role("Sales Rep"))
    assert client.get("/collections/").status_code == 403
    assert client.get(f"/collections/customers/{world['risky'].pk}/").status_code == 403


def test_the_aging_groups_by_collector(world):
    from receivables.aging.engine import AgingParams, aging_report

    report = aging_report(params=AgingParams(as_of=dt.date(2026, 5, 20), group_by="collector"), user=manager())
    labels = {row.label for block in report.entities for row in block.rows}
    assert labels == {world["cole"].get_full_name() or "cole"}


def test_the_customer_page_panel_says_unassigned_for_a_customer_without_a_collector(client, world):
    nobody = CustomerFactory(legal_name="Nobody's GmbH")
    issued_for(world["entity"], nobody, "50.00", on=dt.date(2026, 3, 1))
    client.force_login(user_with_role("Finance Manager"))
    response = client.get(f"/customers/{nobody.pk}/")
    assert response.status_code == 200
    assert "Collector: <b>unassigned</b>" in response.content.decode()
