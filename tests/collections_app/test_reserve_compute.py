"""The reserve calculation reproduces published worked examples to the cent, with the data
entered through the product (invoices posted to the ledger, the aging snapshot taken by the aging
service, the policy entered by a Controller through the policy service)."""

import datetime as dt
from decimal import Decimal

import pytest

from collections_app.selectors.reserve import reserve_compute
from collections_app.selectors.reserve_derivation import derive_rates
from collections_app.services.reserve import provision_policy_create, specific_reserve_create
from otc.errors import DomainError, ValidationFailed
from otc.roles import CONTROLLER
from tests.factories.billing import InvoiceFactory
from tests.factories.collections_reserve import item_in_bucket, reserve_entity, snapshot, write_off
from tests.factories.customers import CustomerFactory
from tests.factories.ledger import post_receipt
from tests.factories.otc import user_with_role

D = Decimal
AS_OF = dt.date(2026, 6, 30)
# days past due placing an item in each bucket of "..0, 1-30, 31-60, 61-90, 91.."
AGES = [-5, 15, 45, 75, 120]


def _matrix(entity, controller, rates, **kwargs):
    return provision_policy_create(
        legal_entity_id=entity.id, effective_date=dt.date(2026, 1, 1), method="matrix", by=controller,
        rates=[{"bucket": b, "rate": r} for b, r in enumerate(rates)], **kwargs)


@pytest.fixture
def controller(db):
    return user_with_role(CONTROLLER)


def test_ifrs9_illustrative_example_12_provision_matrix(controller):
    """IFRS 9 Financial Instruments, Illustrative Examples, Example 12 "Provision matrix"
    (IE74-IE77): Company M's trade receivables of CU30 million in one geographical region; the
    provision matrix rates 0.3 %, 1.6 %, 3.6 %, 6.6 % and 10.6 % on gross carrying amounts of
    15,000,000 / 7,500,000 / 4,000,000 / 2,500,000 / 1,000,000 give a lifetime expected credit
    loss allowance of 45,000 + 120,000 + 144,000 + 165,000 + 106,000 = CU580,000."""
    entity = reserve_entity("IE12")
    amounts = ["15000000.00", "7500000.00", "4000000.00", "2500000.00", "1000000.00"]
    for age, amount in zip(AGES, amounts, strict=True):
        item_in_bucket(entity, CustomerFactory(), amount, as_of=AS_OF, days_past_due=age, currency="EUR")
    snapshot(entity, AS_OF)
    _matrix(entity, controller, ["0.003", "0.016", "0.036", "0.066", "0.106"])

    calc = reserve_compute(legal_entity_id=entity.id, as_of=AS_OF)

    assert calc.bucket_labels == ["Current", "1-30", "31-60", "61-90", "Over 90"]
    assert [(line.bucket_label, line.balance, line.rate, line.allowance) for line in calc.lines] == [
        ("Current", D("15000000.0000"), D("0.00300000"), D("45000.00")),
        ("1-30", D("7500000.0000"), D("0.01600000"), D("120000.00")),
        ("31-60", D("4000000.0000"), D("0.03600000"), D("144000.00")),
        ("61-90", D("2500000.0000"), D("0.06600000"), D("165000.00")),
        ("Over 90", D("1000000.0000"), D("0.10600000"), D("106000.00")),
    ]
    assert calc.gross_balance == D("30000000.0000")
    assert (calc.matrix_total, calc.specific_total, calc.total) == (D("580000.00"), D("0"), D("580000.00"))
    assert calc.functional_currency == "EUR"


def test_rounding_is_per_bucket_then_summed(controller):
    """0.5 % of 100.10 is 0.5005 -> 0.50 and of 100.30 is 0.5015 -> 0.50 (ROUND_HALF_UP on the
    third place: 0.5015 rounds to 0.50); summed: 1.00, whereas rounding the sum (1.002) would
    also give 1.00 but 0.5 % of 100.90 + 100.90 gives 0.50 + 0.50 = 1.00 (per bucket) vs
    1.009 -> 1.01 (once): the rule is per bucket."""
    entity = reserve_entity("RND")
    item_in_bucket(entity, CustomerFactory(), "100.90", as_of=AS_OF, days_past_due=-5, currency="EUR")
    item_in_bucket(entity, CustomerFactory(), "100.90", as_of=AS_OF, days_past_due=15, currency="EUR")
    snapshot(entity, AS_OF)
    _matrix(entity, controller, ["0.005"] * 5)
    calc = reserve_compute(legal_entity_id=entity.id, as_of=AS_OF)
    assert [line.allowance for line in calc.lines] == [D("0.50"), D("0.50")]
    assert calc.total == D("1.00")


def test_specific_reserves_are_taken_out_of_the_matrix(controller):
    entity = reserve_entity("SPC")
    bankrupt, disputed, other = CustomerFactory(), CustomerFactory(), CustomerFactory()
    item_in_bucket(entity, bankrupt, "1000.00", as_of=AS_OF, days_past_due=45, currency="EUR")
    item_in_bucket(entity, bankrupt, "500.00", as_of=AS_OF, days_past_due=-5, currency="EUR")
    item = item_in_bucket(entity, disputed, "800.00", as_of=AS_OF, days_past_due=75, currency="EUR")
    item_in_bucket(entity, disputed, "200.00", as_of=AS_OF, days_past_due=75, currency="EUR")
    item_in_bucket(entity, other, "2000.00", as_of=AS_OF, days_past_due=75, currency="EUR")
    invoice = InvoiceFactory(legal_entity=entity, customer=disputed, currency="EUR")
    item.source_type_id, item.source_id = _invoice_ct(), invoice.id
    item.save(update_fields=["source_type", "source_id"])
    snapshot(entity, AS_OF)
    _matrix(entity, controller, ["0.01", "0.02", "0.05", "0.10", "0.50"])
    specific_reserve_create(legal_entity_id=entity.id, customer_id=bankrupt.id, percent=D("100"),
                            reason="bankruptcy", effective_from=dt.date(2026, 6, 1), by=controller)
    specific_reserve_create(legal_entity_id=entity.id, customer_id=disputed.id, invoice_id=invoice.id,
                            percent=D("25"), reason="dispute", effective_from=dt.date(2026, 6, 1), by=controller)

    calc = reserve_compute(legal_entity_id=entity.id, as_of=AS_OF)

    # matrix: 61-90 holds 200.00 (disputed's other invoice) + 2,000.00 = 2,200.00 x 10 % = 220.00
    assert [(line.bucket_label, line.balance, line.allowance) for line in calc.lines] == [
        ("61-90", D("2200.0000"), D("220.00"))]
    assert sorted((s.balance, s.allowance) for s in calc.specifics) == [
        (D("800.00"), D("200.00")), (D("1500.0000"), D("1500.00"))]
    assert calc.total == D("1920.00")


def _invoice_ct():
    from django.contrib.contenttypes.models import ContentType

    from billing.models import Invoice

    return ContentType.objects.get_for_model(Invoice).id


def test_forward_looking_factor_and_overlay_apply_on_top(controller):
    entity = reserve_entity("FLA")
    item_in_bucket(entity, CustomerFactory(), "10000.00", as_of=AS_OF, days_past_due=120, currency="EUR")
    snapshot(entity, AS_OF)
    provision_policy_create(
        legal_entity_id=entity.id, effective_date=dt.date(2026, 1, 1), method="matrix", by=controller,
        overlay_factor=D("1.10"), overlay_reason="Recession expected in the region",
        rates=[*({"bucket": b, "rate": "0.01"} for b in range(4)),
               {"bucket": 4, "rate": "0.106", "overlay": "0.02", "overlay_reason": "Construction sector stress"}])
    [line] = reserve_compute(legal_entity_id=entity.id, as_of=AS_OF).lines
    assert (line.base_rate, line.overlay, line.rate, line.allowance) == (
        D("0.10600000"), D("0.02000000"), D("0.13660000"), D("1366.00"))  # 0.106 x 1.1 + 0.02


def test_policy_versions_by_effective_date_and_refusals(controller):
    entity = reserve_entity("VER")
    item_in_bucket(entity, CustomerFactory(), "1000.00", as_of=AS_OF, days_past_due=15, currency="EUR")
    snapshot(entity, AS_OF)
    _matrix(entity, controller, ["0.01"] * 5)
    provision_policy_create(legal_entity_id=entity.id, effective_date=dt.date(2026, 7, 1), method="matrix",
                            by=controller, rates=[{"bucket": b, "rate": "0.5"} for b in range(5)])
    assert reserve_compute(legal_entity_id=entity.id, as_of=AS_OF).total == D("10.00")  # July's not yet in force
    with pytest.raises(ValidationFailed, match="no rate for 61-90, Over 90"):
        provision_policy_create(legal_entity_id=entity.id, effective_date=dt.date(2026, 8, 1), method="matrix",
                                by=controller, rates=[{"bucket": b, "rate": "0.01"} for b in range(3)])
    with pytest.raises(ValidationFailed, match="outside"):
        provision_policy_create(legal_entity_id=entity.id, effective_date=dt.date(2026, 8, 1), method="matrix",
                                by=controller, rates=[{"bucket": b, "rate": "3"} for b in range(5)])
    with pytest.raises(DomainError, match="not edited"):
        policy = entity.provision_policies.first()
        policy.note = "changed"
        policy.save()
    with pytest.raises(DomainError, match="no published aging snapshot"):
        reserve_compute(legal_entity_id=entity.id, as_of=dt.date(2026, 5, 31))


def test_segments_by_risk_rating(controller):
    entity = reserve_entity("SEG")
    low, high = CustomerFactory(risk_rating="low"), CustomerFactory(risk_rating="high")
    item_in_bucket(entity, low, "1000.00", as_of=AS_OF, days_past_due=15, currency="EUR")
    item_in_bucket(entity, high, "1000.00", as_of=AS_OF, days_past_due=15, currency="EUR")
    snapshot(entity, AS_OF)
    provision_policy_create(
        legal_entity_id=entity.id, effective_date=dt.date(2026, 1, 1), method="matrix", by=controller,
        segment_by="risk_rating", rates=[*({"bucket": b, "rate": "0.01"} for b in range(5)),
                                         {"bucket": 1, "segment": "high", "rate": "0.08"}])
    calc = reserve_compute(legal_entity_id=entity.id, as_of=AS_OF)
    assert [(line.segment, line.allowance) for line in calc.lines] == [("high", D("80.00")), ("low", D("10.00"))]


def _month_ends():
    return [dt.date(2026, 1, 31), dt.date(2026, 2, 28)]


def test_roll_rate_textbook_example(controller):
    """"How to Calculate Roll Rates" (Roll Rate Calculator, costcalculator.calculator.city),
    real-world calculation example: 1,000,000 outstanding 30-59 days past due on January 31st;
    200,000 of that group failed to pay and became 60-89 days past due on February 28th:
    200,000 / 1,000,000 = 20 % roll rate. Here with this entity's 31-60 and 61-90 buckets."""
    entity = reserve_entity("ROL")
    jan, feb = _month_ends()
    item = item_in_bucket(entity, CustomerFactory(), "1000000.00", as_of=jan, days_past_due=45, currency="EUR")
    snapshot(entity, jan)
    post_receipt(item, "800000.00", date=dt.date(2026, 2, 20))
    snapshot(entity, feb)

    result = derive_rates(legal_entity_id=entity.id, as_of=feb, method="roll_rate", lookback_months=1)

    [row] = result["rows"]
    assert (row["from"], row["to"]) == ("2026-01-31", "2026-02-28")
    assert row["balances"][2] == "1000000.0000" and row["rolled"][2] == "200000.0000"
    assert result["roll_rates"][2] == "0.20000000"


def test_roll_rate_chain_and_historical_loss_rate_from_write_offs(controller):
    """Three month-ends. A 1,000.00 item is current on 03-31, 1-30 on 04-30 and 31-60 on 05-31
    (in 5 buckets of 30 days): rolls of 100 % each month; 400.00 of a 1,000.00 item that is
    over 90 on 03-31 is written off in April: the last bucket's roll is 400 / 1,000 = 40 %, and
    in the roll-rate chain bucket 61-90's loss rate is 61-90 -> over 90 (no balance: 0) x 40 %."""
    entity = reserve_entity("HIS")
    mar, apr, may = dt.date(2026, 3, 31), dt.date(2026, 4, 30), dt.date(2026, 5, 31)
    item_in_bucket(entity, CustomerFactory(), "1000.00", as_of=mar, days_past_due=-1, currency="EUR")
    old = item_in_bucket(entity, CustomerFactory(), "1000.00", as_of=mar, days_past_due=100, currency="EUR")
    snapshot(entity, mar)
    write_off(old, "400.00", date=dt.date(2026, 4, 15))
    post_receipt(old, "600.00", date=dt.date(2026, 4, 16))
    snapshot(entity, apr)
    snapshot(entity, may)

    roll = derive_rates(legal_entity_id=entity.id, as_of=may, method="roll_rate", lookback_months=2)
    assert roll["denominators"] == ["1000.0000", "1000.0000", "0", "0", "1000.0000"]
    assert roll["numerators"] == ["1000.0000", "1000.0000", "0", "0", "400.0000"]
    assert roll["roll_rates"] == ["1.00000000", "1.00000000", "0.00000000", "0.00000000", "0.40000000"]
    assert roll["loss_rates"][4] == "0.40000000" and roll["loss_rates"][0] == "0.00000000"

    loss = derive_rates(legal_entity_id=entity.id, as_of=may, method="loss_rate", lookback_months=2)
    # observed at 03-31 (over 90: 1,000.00, of which 400.00 written off later) and 04-30
    assert loss["rows"][0]["written_off_later"] == ["0", "0", "0", "0", "400.0000"]
    assert loss["loss_rates"] == ["0.00000000"] * 4 + ["0.40000000"]
    # the cohort view: the old item was billed in November 2025 (outside the look-back's months)
    assert [c["written_off"] for c in loss["cohorts"]] == ["0", "0"]


def test_derived_policy_uses_the_derivation(controller):
    entity = reserve_entity("DER")
    mar, apr = dt.date(2026, 3, 31), dt.date(2026, 4, 30)
    old = item_in_bucket(entity, CustomerFactory(), "1000.00", as_of=mar, days_past_due=100, currency="EUR")
    snapshot(entity, mar)
    write_off(old, "250.00", date=dt.date(2026, 4, 15))
    item_in_bucket(entity, CustomerFactory(), "2000.00", as_of=apr, days_past_due=100, currency="EUR")
    snapshot(entity, apr)
    provision_policy_create(legal_entity_id=entity.id, effective_date=dt.date(2026, 1, 1), method="roll_rate",
                            lookback_months=1, by=controller, rates=[])
    calc = reserve_compute(legal_entity_id=entity.id, as_of=apr)
    # over 90 on 04-30: 750.00 left of the old item + 2,000.00 = 2,750.00 x 25 % = 687.50
    [line] = calc.lines
    assert (line.balance, line.rate, line.allowance) == (D("2750.0000"), D("0.25000000"), D("687.50"))
    assert calc.derivation["roll_rates"][4] == "0.25000000"
