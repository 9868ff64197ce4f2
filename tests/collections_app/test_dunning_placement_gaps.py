"""Issue 10 gaps: placed items in the aging grouped by placement, a settlement for less than the
balance leading to the write-off flow, and credit holds per legal entity."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.urls import reverse

from collections_app.services.agency import placement_create
from otc.roles import FINANCE_MANAGER
from receivables.aging.engine import AgingParams, aging_report
from tests.factories.collections_dunning import agency_for, customer, eu_entity, invoice
from tests.factories.otc import user_with_role

pytestmark = pytest.mark.django_db
D = Decimal
DAY = dt.date(2026, 6, 20)


@pytest.fixture
def book(today):
    today(DAY)
    return eu_entity()


def test_the_aging_groups_placed_items_by_agency_and_the_rest_as_not_placed(book, client, api_client):
    cust, other = customer(), customer("Fremd GmbH")
    placed = invoice(book, cust, "1000.00")  # 1,190.00
    invoice(book, cust, "100.00")  # 119.00: the customer's other invoice stays "(not placed)"
    invoice(book, other, "200.00")  # 238.00
    agency = agency_for(book)
    manager = user_with_role(FINANCE_MANAGER)
    client.force_login(manager)
    cache.clear()
    before = client.get(reverse("receivables:aging"), {"group_by": "placement", "as_of": DAY.isoformat()})
    assert agency.name not in before.content.decode()  # (a cached report would hide the placement below)
    placement_create(agency_id=agency.pk, customer_id=cust.pk, invoice_ids=[placed.pk], by=None)

    report = aging_report(params=AgingParams(as_of=DAY, group_by="placement"), user=manager)
    rows = {row.label: row.total for block in report.entities for row in block.rows}
    assert rows == {agency.name: D("1190.00"), "(not placed)": D("357.00")}

    page = client.get(reverse("receivables:aging"), {"group_by": "placement", "as_of": DAY.isoformat()})
    assert page.status_code == 200
    html = page.content.decode()
    assert agency.name in html and "(not placed)" in html and 'value="placement"' in html
    api_client.force_authenticate(manager)
    body = api_client.get("/api/v1/reports/aging/", {"as_of": DAY.isoformat(), "group_by": "placement"}).json()
    labels = {r["label"]: r["total"] for e in body["entities"] for r in e["rows"]}
    assert D(labels[agency.name]) == D("1190.00") and D(labels["(not placed)"]) == D("357.00")


def test_a_credit_hold_in_one_entity_holds_the_customers_drafts_there_only(django_capture_on_commit_callbacks):
    """Credit holds apply per legal entity: a hold in DE01 holds the customer's DE01 drafts and not
    its US01 ones; contract review and the release of a held draft read the hold in their entity."""
    from billing.models import BillingException
    from collections_app.services.credit_holds import credit_hold_place
    from contracts.assessment import customer_exposure
    from otc.registry import credit_holds
    from tests.factories.billing import us_entity
    from tests.factories.billing_run import contract, invoice_of, run

    de = eu_entity()
    us = us_entity()
    cust = customer("Gehalten GmbH", tax_id="DE136695976")
    credit_hold_place(legal_entity_id=de.pk, customer_id=cust.pk, by=None, reason="Cheque bounced")
    assert credit_holds(customer_ids=[cust.pk], legal_entity_id=us.pk) == {}
    assert credit_holds(customer_ids=[cust.pk], legal_entity_id=de.pk) == {
        cust.pk: "on credit hold (DE01): Cheque bounced"}
    in_de, in_us = contract(de, cust=cust), contract(us, cust=cust, currency="USD")
    result = run(capture=django_capture_on_commit_callbacks)
    de_draft, us_draft = invoice_of(in_de), invoice_of(in_us)
    assert (de_draft.on_hold, de_draft.hold_reason) == (True, "Customer on credit hold (DE01): Cheque bounced")
    assert (us_draft.on_hold, us_draft.hold_reason) == (False, "")
    assert list(BillingException.objects.filter(run=result, code="customer_on_hold")
                .values_list("contract_id", flat=True)) == [in_de.pk]
    assert customer_exposure(customer=cust, contract_currency="EUR", first_year=D("1000"), on=DAY,
                             legal_entity_id=de.pk).credit_hold.startswith("on credit hold (DE01)")
    assert customer_exposure(customer=cust, contract_currency="USD", first_year=D("1000"), on=DAY,
                             legal_entity_id=us.pk).credit_hold == ""


def test_a_settlement_for_less_than_the_balance_requests_the_write_off_of_the_rest(book, client):
    from collections_app.models.writeoffs import WriteOff
    from collections_app.services.agency import placement_transition, recovery_record

    cust = customer()
    first, second = invoice(book, cust, "1000.00"), invoice(book, cust, "100.00")  # 1,190.00 and 119.00
    agency = agency_for(book)
    collector = user_with_role("Collector")
    placement = placement_create(agency_id=agency.pk, customer_id=cust.pk, invoice_ids=[first.pk, second.pk],
                                 by=collector)
    recovery_record(placement_id=placement.pk, invoice_id=first.pk, amount=D("500.00"), by=collector)
    recovery_record(placement_id=placement.pk, invoice_id=second.pk, amount=D("119.00"), by=collector)
    placement_transition(placement_id=placement.pk, to="negotiating", by=collector)
    assert not WriteOff.objects.exists()  # only settling leads to the write-off flow

    placement_transition(placement_id=placement.pk, to="settled", by=collector, note="Agreed 500 in full")

    write_off = WriteOff.objects.get()
    assert (write_off.reason, write_off.status, write_off.amount, write_off.requested_by) == (
        "settlement", "submitted", D("690.00"), collector)
    assert [line.invoice_id for line in write_off.lines.all()] == [first.pk]  # the paid one is not written off
    assert f"Placement #{placement.pk} with {agency.name}" in write_off.explanation
    client.force_login(collector)
    page = client.get(reverse("collections_app:placement", args=[placement.pk])).content.decode()
    assert reverse("collections_app:writeoffs-detail", args=[write_off.pk]) in page and str(write_off) in page


def test_settling_in_full_or_by_someone_who_may_not_request_write_offs_requests_none(book):
    from collections_app.models.writeoffs import WriteOff
    from collections_app.services.agency import placement_transition, recovery_record

    cust = customer()
    paid, rest = invoice(book, cust, "100.00"), invoice(book, cust, "200.00")
    agency = agency_for(book)
    collector = user_with_role("Collector")
    in_full = placement_create(agency_id=agency.pk, customer_id=cust.pk, invoice_ids=[paid.pk], by=collector)
    recovery_record(placement_id=in_full.pk, invoice_id=paid.pk, amount=D("119.00"), by=collector)
    assert placement_transition(placement_id=in_full.pk, to="settled", by=collector).status == "settled"
    unsettled = placement_create(agency_id=agency.pk, customer_id=cust.pk, invoice_ids=[rest.pk], by=collector)
    assert placement_transition(placement_id=unsettled.pk, to="settled", by=None).status == "settled"
    assert not WriteOff.objects.exists()
