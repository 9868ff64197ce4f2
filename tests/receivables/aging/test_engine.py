"""The aging engine: buckets, as-of dates, modes, and the things users of other systems complain about."""

import datetime as dt
from decimal import Decimal

import pytest

from ledger.models import JournalLine, OpenItem
from ledger.selectors import trial_balance
from ledger.services import LineSpec, OpenItemSpec, journal_post
from otc.errors import ValidationFailed
from otc.roles import CONTROLLER, SALES_REP
from receivables.aging.buckets import parse_buckets
from receivables.aging.engine import AgingParams, aging_report, check_params, open_items_as_of
from receivables.aging.services import aging_policy_set
from receivables.models import AgingPolicy
from tests.factories.customers import CustomerFactory
from tests.factories.ledger import post_receipt
from tests.factories.otc import user_with_role

from .conftest import AS_OF, item_of

D = Decimal


def _block(**kw):
    params = AgingParams(as_of=kw.pop("as_of", AS_OF), **kw)
    return aging_report(params=params, user=None).entities[0]


def _row(block, label):
    return next(r for r in block.rows if r.label == label)


def test_each_document_lands_in_its_bucket_with_credits_and_cash_beside(aging_book):
    block = _block(legal_entity_id=aging_book["entity"].id)
    assert block.bucket_labels == ["Current", "1-30", "31-60", "61-90", "91-120", "Over 120"]
    acme, beta = _row(block, "Acme GmbH"), _row(block, "Beta SA")
    assert acme.buckets == [D("1000.0000"), D("500.0000"), 0, 0, D("1400.0000"), 0]
    assert (acme.credits, acme.unapplied, acme.total) == (D("-100.0000"), 0, D("2800.0000"))
    assert beta.buckets == [0, 0, 0, 0, 0, D("300.0000")]
    assert (beta.credits, beta.unapplied, beta.total) == (0, D("-50.0000"), D("250.0000"))


def test_bucket_totals_add_up_to_the_total_and_to_the_trial_balance(aging_book):
    """Complaint: bucket totals that do not add up to the total or do not match the trial balance."""
    entity = aging_book["entity"]
    for net in (False, True):
        block = _block(legal_entity_id=entity.id, net=net)
        eur = block.totals["EUR"]
        assert sum(eur["buckets"]) + eur["credits"] + eur["unapplied"] == eur["total"] == D("3050.0000")
        tb = trial_balance(legal_entity_id=entity.id, date_to=AS_OF)
        control = sum(r.balance for r in tb.rows if r.code in ("1100", "2050") or "unapplied" in r.name.lower())
        assert control == eur["total"]
        assert [(c["currency"], c["difference"]) for c in block.control] == [("EUR", 0)]
    netted = _block(legal_entity_id=entity.id, net=True)
    # netted, credits and cash age by their own dates: CN1 (06-20) and R1 (06-25) sit in 1-30
    assert _row(netted, "Acme GmbH").buckets == [D("1000.0000"), D("400.0000"), 0, 0, D("1400.0000"), 0]
    assert _row(netted, "Beta SA").buckets == [0, D("-50.0000"), 0, 0, 0, D("300.0000")]


def test_a_past_as_of_date_is_not_silently_computed_as_of_today(aging_book):
    """Complaint: aging "as of" a past date computed as of today. As of 06-10 the payment of
    06-15, the credit of 06-20, the cash of 06-25 and B2 of 07-05 had not happened."""
    block = _block(legal_entity_id=aging_book["entity"].id, as_of=dt.date(2026, 6, 10))
    acme = _row(block, "Acme GmbH")
    assert acme.buckets == [D("1000.0000"), D("500.0000"), 0, D("2000.0000"), 0, 0]  # A3: 71 days on 06-10
    assert (acme.credits, acme.total) == (0, D("3500.0000"))
    assert _row(block, "Beta SA").total == D("300.0000")
    today = _block(legal_entity_id=aging_book["entity"].id, as_of=dt.date(2026, 7, 31))
    assert _row(today, "Beta SA").total == D("950.0000")  # B2 counts from its posting date on


def test_an_item_settled_after_the_as_of_date_is_still_open_on_that_date(aging_book):
    a2 = item_of(aging_book["a2"])
    post_receipt(a2, "500.00", date=dt.date(2026, 7, 10))
    assert OpenItem.objects.get(pk=a2.pk).open_amount == 0
    assert _row(_block(legal_entity_id=aging_book["entity"].id), "Acme GmbH").buckets[1] == D("500.0000")
    rows = open_items_as_of(customer_id=aging_book["acme"].id, as_of=AS_OF)
    assert {r["item"].document_number: r["open_at"] for r in rows} == {
        "A1": D("1000.0000"), "A2": D("500.0000"), "A3": D("1400.0000"), "CN1": D("-100.0000")}
    assert {r["item"].document_number: r["days"] for r in rows}["A3"] == 91


def test_a_document_without_a_due_date_is_aged_from_its_document_date_and_says_so(aging_book):
    """Complaint: entries dropped when the due date is missing."""
    entity, acme = aging_book["entity"], aging_book["acme"]
    entry = journal_post(legal_entity_id=entity.id, kind="invoice", document_date=dt.date(2026, 5, 20), by=None,
                         currency="EUR", lines=[
                             LineSpec(D("80.00"), role="ar", customer_id=acme.id,
                                      open_item=OpenItemSpec("invoice", "NODUE", dt.date(2026, 5, 20), None)),
                             LineSpec(D("-80.00"), role="revenue")])
    item = item_of(entry)
    assert item.due_date == dt.date(2026, 5, 20)
    assert "no due date: due on the document date" in JournalLine.objects.get(open_item=item).description
    acme_row = _row(_block(legal_entity_id=entity.id), "Acme GmbH")
    assert acme_row.buckets[2] == D("80.0000")  # 41 days after its document date
    assert acme_row.total == D("2880.0000")


def test_by_document_date_ages_from_the_document_date(aging_book):
    acme = _row(_block(legal_entity_id=aging_book["entity"].id, basis="document"), "Acme GmbH")
    # A1 30 days, A2 60 days, A3 121 days since their document dates
    assert acme.buckets == [0, D("1000.0000"), D("500.0000"), 0, 0, D("1400.0000")]


def test_by_document_and_by_customer_oldest_overdue_are_both_offered(aging_book):
    """Complaint: the choice between aging each document and the customer's oldest overdue."""
    entity = aging_book["entity"]
    by_doc = _row(_block(legal_entity_id=entity.id, by="document"), "Acme GmbH")
    by_customer = _row(_block(legal_entity_id=entity.id, by="customer"), "Acme GmbH")
    assert by_customer.buckets == [0, 0, 0, 0, D("2900.0000"), 0]  # all of it where A3 sits
    assert by_customer.total == by_doc.total == D("2800.0000")
    post_receipt(item_of(aging_book["a3"]), "1400.00", date=dt.date(2026, 6, 29))
    assert _row(_block(legal_entity_id=entity.id, by="customer"), "Acme GmbH").buckets == [0, D("1500.0000"), 0, 0, 0, 0]


def test_grouped_by_country_risk_group_and_sales_rep(aging_book):
    entity = aging_book["entity"]
    by_country = {r.label: r.total for r in _block(legal_entity_id=entity.id, group_by="country").rows}
    assert by_country == {"Germany (DE)": D("2800.0000"), "France (FR)": D("250.0000")}
    parent = aging_book["acme"]
    beta = aging_book["beta"]
    beta.parent = parent
    beta.save()
    groups = _block(legal_entity_id=entity.id, group_by="group").rows
    assert [(r.label, r.total) for r in groups] == [("Acme GmbH", D("3050.0000"))]
    assert [r.total for r in _block(legal_entity_id=entity.id, group_by="risk").rows] == [D("3050.0000")]
    assert [r.label for r in _block(legal_entity_id=entity.id, group_by="sales_rep").rows] == ["(no sales rep)"]


def test_foreign_currency_in_functional_at_the_as_of_rate(aging_book):
    from tests.factories.ledger import FxRateFactory, post_invoice

    entity = aging_book["entity"]
    FxRateFactory(date=dt.date(2026, 1, 1), from_currency="USD", to_currency="EUR", rate=D("0.9000000000"))
    FxRateFactory(date=dt.date(2026, 6, 1), from_currency="USD", to_currency="EUR", rate=D("0.8000000000"))
    post_invoice(entity, aging_book["beta"], "1000.00", number="U1", date=dt.date(2026, 6, 20), currency="USD")
    block = _block(legal_entity_id=entity.id)
    usd = next(r for r in block.rows if r.currency == "USD")
    assert (usd.total, usd.functional_total) == (D("1000.0000"), D("800.00"))
    assert block.fx_rates == {"EUR": 1, "USD": D("0.8000000000")}
    assert block.functional_total == D("3850.00")
    assert {c["currency"]: c["difference"] for c in block.control} == {"EUR": 0, "USD": 0}


def test_a_sales_rep_sees_only_their_customers_and_no_tie_out(aging_book):
    rep = user_with_role(SALES_REP)
    aging_book["beta"].sales_owner = rep
    aging_book["beta"].save()
    block = aging_report(params=AgingParams(as_of=AS_OF), user=rep).entities[0]
    assert [r.label for r in block.rows] == ["Beta SA"]
    assert block.control is None
    auditor_block = aging_report(params=AgingParams(as_of=AS_OF), user=user_with_role("Auditor")).entities[0]
    assert {r.label for r in auditor_block.rows} == {"Acme GmbH", "Beta SA"}


@pytest.mark.parametrize(("params", "message"), [
    ({"as_of": dt.date(2025, 12, 31)}, "before the first posting (2026-01-01)"),
    ({"legal_entity_id": 999999}, "no legal entity 999999"),
    ({"currency": "XYZ"}, "Unknown currency code"),
    ({"buckets": "..0, 1-30, 25-60, 61.."}, "overlap"),
    ({"buckets": "..0, 1-30, 45-60, 61.."}, "gap (days 31-44 is in no bucket)"),
    ({"buckets": "1-30, 31.."}, "must be open below"),
    ({"group_by": "planet"}, "group_by"),
])
def test_bad_parameters_are_refused_naming_the_problem(aging_book, params, message):
    with pytest.raises(ValidationFailed, match=message.replace("(", r"\(").replace(")", r"\)")):
        check_params(AgingParams(**{"as_of": AS_OF, **params}))


def test_bucket_policy_per_entity_refuses_gaps_and_stores_nothing(aging_book):
    entity, controller = aging_book["entity"], user_with_role(CONTROLLER)
    with pytest.raises(ValidationFailed, match="leave a gap"):
        aging_policy_set(legal_entity_id=entity.id, buckets="..0, 1-30, 32..", by=controller)
    assert not AgingPolicy.objects.exists()
    aging_policy_set(legal_entity_id=entity.id, buckets="..0,1-15,16-45,46..", by=controller)
    block = _block(legal_entity_id=entity.id)
    assert block.bucket_labels == ["Current", "1-15", "16-45", "Over 45"]
    assert _row(block, "Acme GmbH").buckets == [D("1000.0000"), 0, D("500.0000"), D("1400.0000")]


def test_parse_buckets_labels():
    assert [b.label for b in parse_buckets("..0, 1-30, 31-60, 61-90, 91-120, 121..")] == [
        "Current", "1-30", "31-60", "61-90", "91-120", "Over 120"]


def test_customer_not_visible_is_not_drilled(aging_book):
    customer = CustomerFactory()
    assert open_items_as_of(customer_id=customer.id, as_of=AS_OF) == []
