"""Billing periods and amounts (billing/periods.py): pure computation, exact amounts.

The run of month M bills advance periods starting in M, arrears periods whose service ended in
M-1, usage and milestones of M-1, one-time fees with their first period."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

from billing.periods import LineTerms, VersionSlice, bill_month, period_containing

D = Decimal
KEY = uuid.UUID("00000000-0000-0000-0000-000000000001")
KEY2 = uuid.UUID("00000000-0000-0000-0000-000000000002")


def line(kind: str = "recurring", price: str = "1000.00", key=KEY, **kw) -> LineTerms:
    return LineTerms(line_key=key, kind=kind, name=kw.pop("name", "Platform"), unit_price=D(price), **kw)


def version(*lines: LineTerms, start=dt.date(2026, 1, 1), end=dt.date(2026, 12, 31), frequency="monthly",
            timing="advance", currency="EUR", effective_from=None, effective_to=None, **kw) -> VersionSlice:
    return VersionSlice(currency=currency, start_date=start, end_date=end, effective_from=effective_from or start,
                        effective_to=effective_to, lines=tuple(lines or (line(),)), billing_frequency=frequency,
                        billing_timing=timing, **kw)


def bill(*slices, month, **kw):
    return bill_month(slices=list(slices), month=month, **kw)


def nets(result) -> list[Decimal]:
    return [spec.net for spec in result.lines]


# --- grid ----------------------------------------------------------------------------------------

def test_period_grid_counts_whole_calendar_months_from_the_start_month():
    p = period_containing(dt.date(2026, 2, 15), 3, dt.date(2026, 6, 30))
    assert (p.index, p.start, p.end, p.days) == (1, dt.date(2026, 5, 1), dt.date(2026, 7, 31), 92)
    assert period_containing(dt.date(2026, 2, 15), 3, dt.date(2026, 1, 31)) is None
    year = period_containing(dt.date(2027, 3, 1), 12, dt.date(2028, 2, 29))
    assert (year.start, year.end, year.days) == (dt.date(2027, 3, 1), dt.date(2028, 2, 29), 366)


# --- proration ---------------------------------------------------------------------------------

def test_design_example_mid_month_start_bills_22_of_31_days():
    result = bill(version(line(price="3100.00"), start=dt.date(2026, 3, 10)), month=dt.date(2026, 3, 1))
    [spec] = result.lines
    assert (spec.service_start, spec.service_end) == (dt.date(2026, 3, 10), dt.date(2026, 3, 31))
    assert (spec.unit_price, spec.net) == (D("2200.0000"), D("2200.00"))
    assert spec.description == "Platform, 10 Mar 2026 - 31 Mar 2026 (22/31 days)"
    assert nets(bill(version(line(price="3100.00"), start=dt.date(2026, 3, 10)), month=dt.date(2026, 4, 1))) == [
        D("3100.00")]


def test_prorated_net_is_computed_from_the_unrounded_price_and_rounded_once():
    """200 seats x 45.00 x 12/31 less 10%: 3,135.48 (3,135.4838...); rounding the prorated price
    to 17.4194 first would bill 3,135.49."""
    seats = line(price="45.00", quantity=D(200), discount_percent=D(10))
    result = bill(version(seats, start=dt.date(2026, 1, 20), end=None), month=dt.date(2026, 1, 1))
    [spec] = result.lines
    assert (spec.service_start, spec.service_end) == (dt.date(2026, 1, 20), dt.date(2026, 1, 31))  # 12 of 31 days
    assert (spec.quantity, spec.unit_price, spec.discount_percent, spec.net) == (
        D(200), D("17.4194"), D(10), D("3135.48"))


def test_leap_year_february_has_29_days():
    start = dt.date(2028, 2, 10)
    result = bill(version(line(price="2900.00"), start=start, end=None), month=dt.date(2028, 2, 1))
    assert nets(result) == [D("2000.00")]  # 20/29
    assert result.lines[0].description.endswith("(20/29 days)")
    result = bill(version(line(price="2800.00"), start=dt.date(2026, 2, 10), end=None), month=dt.date(2026, 2, 1))
    assert nets(result) == [D("1900.00")]  # 19/28


def test_start_on_the_31st_bills_one_day_then_whole_months():
    v = version(line(price="3100.00"), start=dt.date(2026, 1, 31), end=None)
    assert nets(bill(v, month=dt.date(2026, 1, 1))) == [D("100.00")]
    feb = bill(v, month=dt.date(2026, 2, 1)).lines[0]
    assert (feb.service_start, feb.service_end, feb.net) == (dt.date(2026, 2, 1), dt.date(2026, 2, 28), D("3100.00"))
    quarterly = version(line(price="1000.00"), start=dt.date(2026, 1, 31), end=None, frequency="quarterly")
    q1 = bill(quarterly, month=dt.date(2026, 1, 1)).lines[0]
    # Jan 31 - Mar 31 = 60 of the quarter's 90 days, of 3 x 1,000.00
    assert (q1.service_end, q1.unit_price, q1.net) == (dt.date(2026, 3, 31), D("2000.0000"), D("2000.00"))
    assert bill(quarterly, month=dt.date(2026, 2, 1)).lines == []


def test_mid_month_end_prorates_the_last_month():
    v = version(line(price="3000.00"), start=dt.date(2026, 1, 1), end=dt.date(2026, 6, 10))
    [spec] = bill(v, month=dt.date(2026, 6, 1)).lines
    assert (spec.service_end, spec.net) == (dt.date(2026, 6, 10), D("1000.00"))  # 10/30
    assert bill(v, month=dt.date(2026, 7, 1)).lines == []


def test_termination_mid_period_cuts_the_period():
    v = version(line(price="900.00"), start=dt.date(2026, 1, 1), frequency="quarterly")
    # Q2 (Apr-Jun, 91 days) billed in advance in April, terminated on 2026-04-30: 30/91 x 2,700.00
    [spec] = bill(v, month=dt.date(2026, 4, 1), terminated_on=dt.date(2026, 4, 30)).lines
    assert (spec.service_end, spec.unit_price, spec.net) == (dt.date(2026, 4, 30), D("890.1099"), D("890.11"))
    assert bill(v, month=dt.date(2026, 7, 1), terminated_on=dt.date(2026, 4, 30)).lines == []


def test_termination_in_arrears_bills_the_cut_period_in_the_next_run():
    v = version(line(price="900.00"), start=dt.date(2026, 1, 1), frequency="quarterly", timing="arrears")
    cut = dt.date(2026, 5, 15)
    [spec] = bill(v, month=dt.date(2026, 6, 1), terminated_on=cut).lines  # Apr 1 - May 15 = 45/91
    assert (spec.service_start, spec.service_end, spec.net) == (dt.date(2026, 4, 1), cut, D("1335.16"))
    assert bill(v, month=dt.date(2026, 7, 1), terminated_on=cut).lines == []


# --- frequency and timing ----------------------------------------------------------------------

def test_monthly_advance_bills_the_month_arrears_bills_the_previous_month():
    advance = bill(version(line(price="500.00")), month=dt.date(2026, 3, 1)).lines[0]
    arrears = bill(version(line(price="500.00"), timing="arrears"), month=dt.date(2026, 3, 1)).lines[0]
    assert (advance.service_start, advance.service_end, advance.net) == (dt.date(2026, 3, 1), dt.date(2026, 3, 31),
                                                                       D("500.00"))
    assert (arrears.service_start, arrears.service_end, arrears.net) == (dt.date(2026, 2, 1), dt.date(2026, 2, 28),
                                                                       D("500.00"))
    assert bill(version(line(), timing="arrears"), month=dt.date(2026, 1, 1)).lines == []  # nothing ended yet
    last = bill(version(line(), timing="arrears"), month=dt.date(2027, 1, 1)).lines[0]  # December, after the end
    assert last.service_start == dt.date(2026, 12, 1)


def test_quarterly_advance_and_arrears():
    adv = version(line(price="1000.00"), frequency="quarterly", start=dt.date(2026, 2, 1), end=None)
    assert [(s.service_start, s.service_end, s.net) for s in bill(adv, month=dt.date(2026, 5, 1)).lines] == [
        (dt.date(2026, 5, 1), dt.date(2026, 7, 31), D("3000.00"))]
    assert [bill(adv, month=dt.date(2026, m, 1)).lines for m in (3, 4, 6, 7)] == [[], [], [], []]
    arr = version(line(price="1000.00"), frequency="quarterly", timing="arrears", start=dt.date(2026, 2, 1), end=None)
    assert [(s.service_start, s.service_end) for s in bill(arr, month=dt.date(2026, 5, 1)).lines] == [
        (dt.date(2026, 2, 1), dt.date(2026, 4, 30))]
    assert bill(arr, month=dt.date(2026, 4, 1)).lines == []


def test_annual_advance_and_semi_annual_arrears():
    annual = version(line(price="1000.00"), frequency="annual", start=dt.date(2026, 7, 1), end=None)
    assert nets(bill(annual, month=dt.date(2026, 7, 1))) == [D("12000.00")]
    assert nets(bill(annual, month=dt.date(2027, 7, 1))) == [D("12000.00")]
    assert bill(annual, month=dt.date(2027, 6, 1)).lines == []
    half = version(line(price="100.00"), frequency="semi_annual", timing="arrears", start=dt.date(2026, 1, 1), end=None)
    assert nets(bill(half, month=dt.date(2026, 7, 1))) == [D("600.00")]


# --- free periods and discounts --------------------------------------------------------------

def test_free_periods_bill_a_zero_priced_line():
    v = version(line(price="1000.00"), free_periods=2, start=dt.date(2026, 1, 15))
    jan, feb, mar = (bill(v, month=dt.date(2026, m, 1)).lines[0] for m in (1, 2, 3))
    assert (jan.unit_price, jan.net) == (D(0), D("0.00"))
    assert jan.description.endswith("- free period")
    assert feb.net == D("0.00")
    assert mar.net == D("1000.00")
    quarterly = version(line(price="1000.00"), free_periods=1, frequency="quarterly")
    assert nets(bill(quarterly, month=dt.date(2026, 1, 1))) == [D("0.00")]
    assert nets(bill(quarterly, month=dt.date(2026, 4, 1))) == [D("3000.00")]


def test_discounts_line_then_contract_multiplied_and_rounded_once():
    v = version(line(price="99.99", quantity=D("3"), discount_percent=D("10")), discount_percent=D("5"))
    [spec] = bill(v, month=dt.date(2026, 3, 1)).lines
    # 3 x 99.99 = 299.97 x 0.9 x 0.95 = 256.47435 -> 256.47 (one rounding)
    assert (spec.discount_percent, spec.net) == (D("14.5"), D("256.47"))
    twelve = version(line(price="10.01", discount_percent=D("12.5")), discount_percent=D("12.5"))
    # 10.01 x 0.765625 = 7.66390625 -> 7.66; rounding each step would give 8.76 x 0.875 = 7.67
    assert nets(bill(twelve, month=dt.date(2026, 3, 1))) == [D("7.66")]


# --- usage, milestones, one-time fees -------------------------------------------------------

def test_usage_at_the_rate_above_the_minimum():
    v = version(line("usage", price="0.05", minimum_commitment=D("500.00"), unit_label="calls", name="API calls"))
    [spec] = bill(v, month=dt.date(2026, 4, 1), usage={KEY: D("12500")}).lines
    assert (spec.quantity, spec.unit_price, spec.net) == (D("12500"), D("0.05"), D("625.00"))
    assert (spec.service_start, spec.service_end) == (dt.date(2026, 3, 1), dt.date(2026, 3, 31))
    assert spec.description == "API calls, 01 Mar 2026 - 31 Mar 2026: usage 12,500 calls"


def test_usage_below_the_minimum_bills_the_minimum_and_says_so():
    v = version(line("usage", price="0.04", minimum_commitment=D("500.00"), unit_label="calls", name="API calls"))
    result = bill(v, month=dt.date(2026, 4, 1), usage={KEY: D("12000")})
    [spec] = result.lines
    assert (spec.quantity, spec.unit_price, spec.net) == (D(1), D("500.0000"), D("500.00"))
    assert spec.description.endswith("usage 12,000 calls, minimum 500.00 applies")
    assert result.warnings == []


def test_usage_without_minimum_and_missing_usage_warns():
    v = version(line("usage", price="0.002", name="Storage"))
    assert nets(bill(v, month=dt.date(2026, 4, 1), usage={KEY: D("123457")})) == [D("246.91")]  # 246.914
    missing = bill(v, month=dt.date(2026, 4, 1), usage={})
    assert [(s.quantity, s.net) for s in missing.lines] == [(D(0), D("0.00"))]
    assert missing.warnings == [("usage_missing", "Storage: no usage reported for March 2026.")]
    with_min = bill(version(line("usage", price="1", minimum_commitment=D("310.00"), name="X"),
                            start=dt.date(2026, 3, 11)), month=dt.date(2026, 4, 1))
    assert nets(with_min) == [D("210.00")]  # minimum prorated 21/31
    assert with_min.warnings[0][0] == "usage_missing"


def test_milestones_dated_in_the_previous_month():
    v = version(line("milestone", price="5000.00", milestone_date=dt.date(2026, 5, 20), name="Go-live"))
    assert bill(v, month=dt.date(2026, 5, 1)).lines == []
    [spec] = bill(v, month=dt.date(2026, 6, 1)).lines
    assert (spec.service_start, spec.net, spec.description) == (dt.date(2026, 5, 20), D("5000.00"),
                                                                "Go-live, milestone 20 May 2026")
    assert bill(v, month=dt.date(2026, 7, 1)).lines == []


def test_one_time_fee_in_the_first_period_only():
    v = version(line(price="1000.00"), line("one_time", price="2500.00", key=KEY2, name="Setup"),
                start=dt.date(2026, 3, 10))
    assert nets(bill(v, month=dt.date(2026, 3, 1))) == [D("709.68"), D("2500.00")]  # 1000 x 22/31 = 709.6774
    assert nets(bill(v, month=dt.date(2026, 4, 1))) == [D("1000.00")]
    arrears = version(line(price="1000.00"), line("one_time", price="2500.00", key=KEY2, name="Setup"),
                      start=dt.date(2026, 3, 10), timing="arrears")
    assert nets(bill(arrears, month=dt.date(2026, 3, 1))) == []
    assert nets(bill(arrears, month=dt.date(2026, 4, 1))) == [D("709.68"), D("2500.00")]
    assert nets(bill(arrears, month=dt.date(2026, 5, 1))) == [D("1000.00")]


# --- amendments ----------------------------------------------------------------------------------

def test_amendment_mid_period_splits_the_line_by_days():
    v1 = version(line(price="3100.00"), effective_to=dt.date(2026, 3, 14), version_id=1)
    v2 = version(line(price="6200.00", quantity=D(1)), effective_from=dt.date(2026, 3, 15), version_id=2)
    result = bill(v1, v2, month=dt.date(2026, 3, 1))
    assert [(s.line_key, s.version_id, s.service_start, s.service_end, s.net) for s in result.lines] == [
        (KEY, 1, dt.date(2026, 3, 1), dt.date(2026, 3, 14), D("1400.00")),   # 14/31 x 3,100
        (KEY, 2, dt.date(2026, 3, 15), dt.date(2026, 3, 31), D("3400.00")),  # 17/31 x 6,200
    ]
    assert nets(bill(v1, v2, month=dt.date(2026, 4, 1))) == [D("6200.00")]


def test_amendment_bills_one_time_and_usage_once_per_key():
    usage = line("usage", price="1", key=KEY2, name="Calls")
    v1 = version(line("one_time", price="100.00"), usage, effective_to=dt.date(2026, 1, 14), version_id=1)
    v2 = version(line("one_time", price="100.00"), line("usage", price="2", key=KEY2, name="Calls"),
                 effective_from=dt.date(2026, 1, 15), version_id=2)
    assert [(s.kind, s.version_id) for s in bill(v1, v2, month=dt.date(2026, 1, 1)).lines] == [("one_time", 1)]
    [spec] = bill(v1, v2, month=dt.date(2026, 2, 1), usage={KEY2: D("10")}).lines
    assert (spec.version_id, spec.net, spec.service_start) == (2, D("20.00"), dt.date(2026, 1, 1))


# --- currencies ----------------------------------------------------------------------------------

def test_jpy_rounds_to_yen_and_kwd_to_fils():
    jpy = version(line(price="100000"), start=dt.date(2026, 3, 10), currency="JPY")
    assert nets(bill(jpy, month=dt.date(2026, 3, 1))) == [D("70968")]  # 70967.74
    kwd = version(line(price="1000.000"), start=dt.date(2026, 3, 10), currency="KWD")
    assert nets(bill(kwd, month=dt.date(2026, 3, 1))) == [D("709.677")]  # 709.6774
    usage = version(line("usage", price="0.0015", minimum_commitment=D("10.000"), name="SMS", unit_label="messages"),
                    currency="KWD")
    [spec] = bill(usage, month=dt.date(2026, 4, 1), usage={KEY: D("1000")}).lines
    assert (spec.net, spec.description.endswith("minimum 10.000 applies")) == (D("10.000"), True)


def test_slices_from_versions_label_each_unit_as_the_product_displays_it():
    """The labels come from the field's choices read once per model (billing/periods.py
    `_unit_label`), and are exactly `get_unit_display()` for every unit."""
    from types import SimpleNamespace

    from billing.periods import slices_from_versions
    from contracts.models import Product

    products = [Product(sku=f"U-{code}", name=f"Unit {code}", unit=code) for code in Product.Unit.values]
    products.append(Product(sku="U-ODD", name="Odd", unit="XYZ"))  # not a choice: shown as it is
    lines = [SimpleNamespace(line_key=uuid.uuid4(), kind="recurring", description="", product=product,
                             product_id=index + 1, unit_price=D("1.00"), quantity=D(1), discount_percent=D(0),
                             minimum_commitment=None, milestone_date=None, start_date=None, end_date=None,
                             position=index + 1, pk=index + 1)
             for index, product in enumerate(products)]
    version = SimpleNamespace(id=7, version=1, currency="EUR", start_date=dt.date(2026, 1, 1), end_date=None,
                              effective_date=dt.date(2026, 1, 1), billing_frequency="monthly",
                              billing_timing="advance", discount_percent=D(0), free_periods=0)
    [piece] = slices_from_versions([version], {7: lines})
    assert [terms.unit_label for terms in piece.lines] == [p.get_unit_display() for p in products]
    assert [terms.unit_label for terms in piece.lines][:2] == ["each", "month"]
    assert piece.lines[-1].unit_label == "XYZ"


def test_period_text_kept_per_pair_of_dates_is_the_text_formatted_each_time():
    """`_period_text` is kept per (start, end): the same text as formatting it every time, for
    every pair asked twice, across month and year ends."""
    from billing.periods import _period_text

    _period_text.cache_clear()
    starts = [dt.date(2026, 1, 1) + dt.timedelta(days=n) for n in range(0, 800, 37)]
    pairs = [(start, start + dt.timedelta(days=length)) for start in starts for length in (0, 13, 30, 364)]
    for _ in range(2):
        assert [_period_text(a, b) for a, b in pairs] == [f"{a:%d %b %Y} - {b:%d %b %Y}" for a, b in pairs]
    assert _period_text.cache_info().hits == len(pairs)
