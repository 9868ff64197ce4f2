"""Published worked examples of provision matrices and loss-rate derivations, reproduced to the
cent with their data entered through the product: receivables posted to the ledger (invoices,
receipts, write-offs), aging snapshots taken by the aging service, policies entered through the
policy service, the rates derived by `derive_rates` and the allowance computed by
`reserve_compute`. (IFRS 9 Illustrative Example 12 is in test_reserve_compute.py.)

Rounding (docs/reserve.md): each bucket's allowance is rounded once to the cent and the total is
the sum of the rounded buckets. Where a source shows rounded figures, the test says how its
figure relates to the product's cents."""

import datetime as dt
from decimal import Decimal

import pytest

from collections_app.selectors.reserve import reserve_compute
from collections_app.selectors.reserve_derivation import derive_rates
from collections_app.services.reserve import provision_policy_create
from otc.roles import CONTROLLER
from tests.factories.collections_reserve import reserve_entity, snapshot, write_off
from tests.factories.customers import CustomerFactory
from tests.factories.ledger import post_invoice, post_receipt
from tests.factories.otc import user_with_role

D = Decimal


@pytest.fixture
def controller(db):
    return user_with_role(CONTROLLER)


def _item(entity, amount, *, issued, due):
    from ledger.models import OpenItem

    entry = post_invoice(entity, CustomerFactory(), amount, date=issued, due=due)
    return OpenItem.objects.get(lines__entry=entry)


def test_ifrscommunity_provision_matrix_b2c_historical_loss_rates(controller):
    """IFRScommunity.com, knowledge base "IFRS 9 Impairment", example "lifetime ECL for trade
    receivables using a provision matrix" (Entity A, B2C segment; the calculations accompanying
    it are published as "IFRS 9 example: lifetime ECL trade receivables provision matrix 01").

    Loss rates from history: sales in January 100,000; paid on time 50,000 (50,000 left, not
    overdue), paid 1-30 days after the due date 27,000 (23,000 left 1-30 overdue), paid 31-60
    days after 15,000 (8,000 left), paid 61-90 days after 6,000 (2,000 left), 2,000 never paid.
    Loss rate of each bucket = what was never paid / what reached the bucket: 2,000 / 100,000 =
    2.0 %, / 50,000 = 4.0 %, / 23,000 = 8.7 %, / 8,000 = 25.0 %, / 2,000 = 100.0 %.
    Applied on 31 December 20X1 to 300,000 not overdue, 140,000 1-30, 60,000 31-60, 23,000 61-90
    and 5,000 91+: 6,000 + 5,600 + 5,217 + 5,750 + 5,000 = 27,567.

    Here the history is the product's historical loss-rate method: the January cohort's five
    month-end snapshots (each in the bucket the cohort had reached) and the 2,000 written off
    in June. 2,000 / 23,000 is 8.69565217 % to the product's 8 places (the source shows 8.7 %
    and multiplies by the unrounded rate: 60,000 x 8.69565... = 5,217.39, shown as 5,217). The
    product rounds each bucket to the cent and sums: 27,567.39; the source shows the same sum
    rounded to whole units (27,567). Months of the look-back without a snapshot (June to
    November: the cohort is gone) are named and left out."""
    entity = reserve_entity("IFC")
    jan, feb, mar, apr, may = (dt.date(2025, 1, 31), dt.date(2025, 2, 28), dt.date(2025, 3, 31),
                               dt.date(2025, 4, 30), dt.date(2025, 5, 31))
    # January sales, due on 1 February; each group pays on the last day before the next month-end
    issued, due = dt.date(2025, 1, 2), dt.date(2025, 2, 1)
    on_time = _item(entity, "50000.00", issued=issued, due=due)
    late_1_30 = _item(entity, "27000.00", issued=issued, due=due)
    late_31_60 = _item(entity, "15000.00", issued=issued, due=due)
    late_61_90 = _item(entity, "6000.00", issued=issued, due=due)
    never = _item(entity, "2000.00", issued=issued, due=due)
    snapshot(entity, jan)                                            # 100,000 not overdue (due tomorrow)
    post_receipt(on_time, "50000.00", date=due)                      # paid on time
    snapshot(entity, feb)                                            # 50,000 1-30 days (27)
    post_receipt(late_1_30, "27000.00", date=dt.date(2025, 3, 2))    # 29 days after the due date
    snapshot(entity, mar)                                            # 23,000 31-60 days (58)
    post_receipt(late_31_60, "15000.00", date=dt.date(2025, 4, 1))   # 59 days after
    snapshot(entity, apr)                                            # 8,000 61-90 days (88)
    post_receipt(late_61_90, "6000.00", date=dt.date(2025, 5, 1))    # 89 days after
    snapshot(entity, may)                                            # 2,000 91+ (119)
    write_off(never, "2000.00", date=dt.date(2025, 6, 15))

    # 31 December 20X1: the portfolio the rates are applied to (issued from August on)
    dec = dt.date(2025, 12, 31)
    for amount, days in (("300000.00", -10), ("140000.00", 20), ("60000.00", 45), ("23000.00", 75),
                         ("5000.00", 120)):
        _item(entity, amount, issued=dec - dt.timedelta(days=days + 30), due=dec - dt.timedelta(days=days))
    snapshot(entity, dec)
    provision_policy_create(legal_entity_id=entity.id, effective_date=dt.date(2025, 12, 1), method="loss_rate",
                            lookback_months=11, by=controller, rates=[],
                            note="Historical loss rates of the B2C segment (IFRScommunity example)")

    derivation = derive_rates(legal_entity_id=entity.id, as_of=dec, method="loss_rate", lookback_months=11)
    assert derivation["missing_snapshots"] == ["2025-06-30", "2025-07-31", "2025-08-31", "2025-09-30",
                                               "2025-10-31", "2025-11-30"]
    assert derivation["denominators"] == ["100000.0000", "50000.0000", "23000.0000", "8000.0000", "2000.0000"]
    assert derivation["numerators"] == ["2000.0000"] * 5
    assert derivation["loss_rates"] == ["0.02000000", "0.04000000", "0.08695652", "0.25000000", "1.00000000"]
    # the cohort view: January's billing, 2,000 of it written off after it reached 91+
    january = derivation["cohorts"][0]
    assert (january["month"], january["billed"], january["written_off"], january["rate"]) == (
        "2025-01-31", "100000.0000", "2000.0000", "0.02000000")
    assert january["written_off_by_bucket_reached"] == ["0", "0", "0", "0", "2000.0000"]

    calc = reserve_compute(legal_entity_id=entity.id, as_of=dec)
    assert [(line.bucket_label, line.balance, line.rate, line.allowance) for line in calc.lines] == [
        ("Current", D("300000.0000"), D("0.02000000"), D("6000.00")),
        ("1-30", D("140000.0000"), D("0.04000000"), D("5600.00")),
        ("31-60", D("60000.0000"), D("0.08695652"), D("5217.39")),
        ("61-90", D("23000.0000"), D("0.25000000"), D("5750.00")),
        ("Over 90", D("5000.0000"), D("1.00000000"), D("5000.00")),
    ]
    assert calc.total == D("27567.39")
    assert calc.total.quantize(D("1")) == D("27567")  # the source's figure, in whole units


def test_occ_retail_lending_appendix_g_roll_rate_loss_factors(controller):
    """OCC Comptroller's Handbook, "Retail Lending Examination Procedures", appendix G "Loss
    Forecasting Tools", Roll Rates, step 3 "Apply loss factors to the current portfolio":
    outstandings on Dec-31-00 ($ millions) of 987.4 current, 30.2 in the 30 bucket, 11.8 in 60,
    8.2 in 90 and 5.9 in 120, with the loss factors of step 2 (0.70 %, 20.61 %, 48.41 %, 72.12 %,
    100 %): loss forecast 6.9 + 6.2 + 5.7 + 5.9 + 5.9 = 30.6 on 1,043.5, 2.93 %.

    The factors are entered as the matrix (steps 1 and 2, the monthly balances and roll rates,
    are not reproduced here: see docs/reserve.md). The product rounds each bucket to the cent:
    6.91 + 6.22 + 5.71 + 5.91 + 5.90 = 30.65; each is the source's figure to its 0.1, and the
    source's total is the sum of its rounded figures (30.6)."""
    entity = reserve_entity("OCC", buckets="..29, 30-59, 60-89, 90-119, 120..", currency="USD")
    as_of = dt.date(2025, 12, 31)  # the source's Dec-31-00, in a year the test book has open
    for amount, days in (("987.40", 0), ("30.20", 45), ("11.80", 75), ("8.20", 100), ("5.90", 130)):
        _item(entity, amount, issued=as_of - dt.timedelta(days=days + 30), due=as_of - dt.timedelta(days=days))
    snapshot(entity, as_of)
    provision_policy_create(legal_entity_id=entity.id, effective_date=dt.date(2025, 12, 1), method="matrix",
                            by=controller, note="OCC appendix G loss factors",
                            rates=[{"bucket": b, "rate": r}
                                   for b, r in enumerate(["0.0070", "0.2061", "0.4841", "0.7212", "1"])])

    calc = reserve_compute(legal_entity_id=entity.id, as_of=as_of)

    assert [(line.bucket_label, line.balance, line.allowance) for line in calc.lines] == [
        ("Up to 29", D("987.4000"), D("6.91")),
        ("30-59", D("30.2000"), D("6.22")),
        ("60-89", D("11.8000"), D("5.71")),
        ("90-119", D("8.2000"), D("5.91")),
        ("Over 119", D("5.9000"), D("5.90")),
    ]
    assert [line.allowance.quantize(D("0.1")) for line in calc.lines] == [
        D("6.9"), D("6.2"), D("5.7"), D("5.9"), D("5.9")]  # the source's loss forecasts
    assert calc.gross_balance == D("1043.5000") and calc.total == D("30.65")
    assert (calc.total / calc.gross_balance * 100).quantize(D("0.01")) == D("2.94")
    assert (sum(line.allowance.quantize(D("0.1")) for line in calc.lines) / calc.gross_balance * 100
            ).quantize(D("0.01")) == D("2.93")  # the source's 2.93 %: its rounded 30.6 on 1,043.5
