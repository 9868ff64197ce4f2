"""Each risk rule at, just below and just above its threshold, with the explanation's numbers;
the approval levels by value tier and findings; and the whole assessment over the database
(credit exposure from open items, FX conversion of the value for the thresholds)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from contracts import risk_rules
from contracts.assessment import Context, Exposure, FindingResult, contract_assess, evaluate, required_levels
from contracts.models import Contract, ContractLine, ContractVersion, FinancePolicy, Product
from contracts.values import contract_values
from customers.models import Customer
from ledger.models import LegalEntity
from otc.money import ZERO
from tests.factories.contracts import ContractLineFactory, ContractVersionFactory, FinancePolicyFactory
from tests.factories.ledger import FxRateFactory, post_invoice

TODAY = dt.date(2026, 1, 1)
D = Decimal


# --- building a context in memory (no database) -------------------------------------------------

def line(kind: str = "recurring", price: str = "1000.00", *, name: str = "Platform", **kw) -> ContractLine:
    kw.setdefault("quantity", D("1"))
    kw.setdefault("discount_percent", D("0"))
    kw.setdefault("minimum_commitment", ZERO)
    return ContractLine(product=Product(sku=name.upper(), name=name), kind=kind, unit_price=D(price), **kw)


def customer(**kw) -> Customer:
    defaults = {"legal_name": "Acme GmbH", "account_number": "C100001", "default_currency": "EUR",
                "payment_terms_days": 30, "credit_limit": D("100000.00")}
    return Customer(**{**defaults, **kw})


def policy(**kw) -> FinancePolicy:
    kw.setdefault("allowed_currencies", ["EUR", "USD", "GBP"])
    return FinancePolicy(**kw)


def ctx(*, lines=None, cust=None, pol=None, exposure=None, today=TODAY, entity_total="same", open_ar="0",
        overdue="0", unconverted=(), **terms) -> Context:
    entity = LegalEntity(code="IE01", name="otc Ireland", functional_currency="EUR")
    cust = cust or customer()
    contract = Contract(number="CT-000001", customer=cust, legal_entity=entity, title="Platform agreement")
    values = {"contract": contract, "version": 1, "currency": "EUR", "start_date": dt.date(2026, 1, 1),
              "end_date": dt.date(2026, 12, 31), "payment_terms_days": 30}
    values.update(terms)
    values.setdefault("effective_date", values["start_date"])
    version = ContractVersion(**values)
    lines = [line()] if lines is None else lines
    computed = contract_values(version, lines)
    exposure = exposure or Exposure(currency="EUR", credit_limit=cust.credit_limit, open_ar=D(open_ar),
                                    overdue=D(overdue), contract_first_year=computed.first_year,
                                    unconverted=tuple(unconverted))
    total = computed.total if entity_total == "same" else entity_total
    return Context(version=version, lines=lines, customer=cust, policy=pol or policy(), values=computed,
                   exposure=exposure, today=today, entity_currency="EUR", entity_total=total)


def only(findings: list[FindingResult]) -> FindingResult:
    assert len(findings) == 1, findings
    return findings[0]


# --- payment terms -------------------------------------------------------------------------------

@pytest.mark.parametrize(("terms", "severity"), [(30, None), (31, "warning"), (60, "warning"), (61, "high")])
def test_payment_terms_at_and_around_the_standard_and_the_maximum(terms, severity):
    # given the default policy: standard Net 30, maximum Net 60
    # when / then
    findings = risk_rules.payment_terms(ctx(payment_terms_days=terms))
    assert [f.severity for f in findings] == ([severity] if severity else [])


def test_payment_terms_explanation_and_mitigation_name_the_numbers():
    finding = only(risk_rules.payment_terms(ctx(payment_terms_days=90)))
    assert finding.explanation == ("Net 90 exceeds the standard Net 30 by 60 days and the maximum of Net 60 "
                                   "without escalation.")
    assert finding.mitigation == "Ask for Net 30 (at most Net 60), or a prepayment to offset the longer terms."


def test_payment_terms_fall_back_to_the_customers_default_and_say_so():
    finding = only(risk_rules.payment_terms(ctx(payment_terms_days=None, cust=customer(payment_terms_days=45))))
    assert finding.severity == "warning"
    assert finding.explanation == "Net 45 (the customer's default terms) exceeds the standard Net 30 by 15 days."


# --- discount --------------------------------------------------------------------------------

@pytest.mark.parametrize(("line_discount", "contract_discount", "severity"), [
    ("15", "0", None), ("14.99", "0", None), ("15.01", "0", "high"), ("10", "5", None), ("10", "6", "high"),
    ("0", "15", None), ("0", "15.0001", "high"),
])
def test_combined_discount_against_the_policy_maximum(line_discount, contract_discount, severity):
    # given a 15% maximum; 10% then 5% is 14.5%, 10% then 6% is 15.4%
    context = ctx(lines=[line(discount_percent=D(line_discount))], discount_percent=D(contract_discount))
    findings = risk_rules.discount_above_policy(context)
    assert [f.severity for f in findings] == ([severity] if severity else [])


def test_discount_finding_names_the_line_and_the_combined_percent():
    # given two lines, only the second discounted above policy
    context = ctx(lines=[line(name="Platform"), line(name="Support", discount_percent=D("10"))],
                  discount_percent=D("6"))
    # when
    findings = risk_rules.discount_above_policy(context)
    # then both lines carry the contract discount, but only line 2 exceeds 15% (10% then 6% = 15.4%)
    finding = only(findings)
    assert finding.explanation == ("The discount on line 2 (Support) is 15.4% (10% on the line then 6% on the "
                                   "contract), above the policy's maximum of 15% without escalation.")
    assert finding.mitigation == "Bring the combined discount to 15% or less, or have a Finance Manager approve it."
    assert finding.data["combined"] == "15.4000"


# --- contract value tiers and approval levels --------------------------------------------------

@pytest.mark.parametrize(("fee", "levels"), [
    ("100000.00", None), ("99999.99", None), ("100000.01", 2), ("500000.00", 2), ("500000.01", 3),
])
def test_value_tier_at_and_around_the_thresholds(fee, levels):
    # given reviewer 100,000.00 and manager 500,000.00 (EUR, the entity's currency); a one-time fee is the TCV
    context = ctx(lines=[line("one_time", fee)])
    findings = risk_rules.contract_value_tier(context)
    assert [f.data["levels"] for f in findings] == ([levels] if levels else [])
    assert all(f.severity == "info" for f in findings)


def test_value_tier_explains_who_approves_too():
    finding = only(risk_rules.contract_value_tier(ctx(lines=[line("one_time", "240000.00")])))
    assert finding.explanation == ("TCV 240,000.00 EUR is above the reviewer's 100,000.00 EUR: "
                                   "a Finance Manager approves too.")
    finding = only(risk_rules.contract_value_tier(ctx(lines=[line("one_time", "750000.00")])))
    assert finding.explanation == ("TCV 750,000.00 EUR is above the Finance Manager's 500,000.00 EUR: "
                                   "a Controller approves too.")


def test_value_tier_compares_in_the_entitys_currency():
    # given a USD contract of 240,000.00 worth 216,000.00 EUR
    context = ctx(currency="USD", lines=[line("one_time", "240000.00")], entity_total=D("216000.00"))
    finding = only(risk_rules.contract_value_tier(context))
    assert finding.explanation == ("TCV 240,000.00 USD (216,000.00 EUR) is above the reviewer's 100,000.00 EUR: "
                                   "a Finance Manager approves too.")
    # and 110,000.00 USD worth 99,000.00 EUR stays with the reviewer
    context = ctx(currency="USD", lines=[line("one_time", "110000.00")], entity_total=D("99000.00"))
    assert risk_rules.contract_value_tier(context) == []


def test_value_without_an_fx_rate_is_high():
    context = ctx(currency="USD", lines=[line("one_time", "50000.00")], entity_total=None)
    finding = only(risk_rules.contract_value_tier(context))
    assert finding.severity == "high"
    assert finding.explanation == ("No USD to EUR FX rate on or before 2026-01-01: the TCV of 50,000.00 USD cannot "
                                   "be compared with the approval thresholds in EUR, so a Finance Manager approves.")
    assert finding.mitigation == "Ask a Controller to enter the USD/EUR rate, then re-assess."


@pytest.mark.parametrize(("total", "severities", "overridden", "levels"), [
    ("100000.00", [], False, 1),
    ("100000.01", [], False, 2),
    ("500000.00", [], False, 2),
    ("500000.01", [], False, 3),
    ("1000.00", ["warning", "info"], False, 1),
    ("1000.00", ["high"], False, 2),
    ("1000.00", ["blocking"], False, 1),
    ("1000.00", ["blocking"], True, 3),
    ("1000.00", ["high", "warning"], True, 2),
])
def test_required_levels_by_value_tier_and_findings(total, severities, overridden, levels):
    findings = [FindingResult(rule="r", severity=s, explanation="") for s in severities]
    assert required_levels(total=D(total), findings=findings, policy=policy(), overridden=overridden) == levels


def test_required_levels_read_the_policys_thresholds():
    strict = policy(reviewer_max_value=D("10000.00"), manager_max_value=D("20000.00"))
    assert required_levels(total=D("10000.01"), findings=[], policy=strict, overridden=False) == 2
    assert required_levels(total=D("20000.01"), findings=[], policy=strict, overridden=False) == 3


# --- credit exposure --------------------------------------------------------------------------

@pytest.mark.parametrize(("open_ar", "severity"), [
    ("68000.00", None),      # 68,000 + 12,000 = 80,000.00: exactly 80% of 100,000
    ("68000.01", "warning"),
    ("88000.00", "warning"),  # exactly 100%
    ("88000.01", "high"),
])
def test_credit_exposure_at_and_around_the_warning_share_and_the_limit(open_ar, severity):
    # given a 100,000.00 EUR limit, an 80% warning share, 12,000.00 EUR first-year value
    findings = risk_rules.credit_exposure(ctx(open_ar=open_ar))
    assert [f.severity for f in findings] == ([severity] if severity else [])


def test_credit_exposure_above_the_limit_explains_the_numbers():
    finding = only(risk_rules.credit_exposure(ctx(open_ar="98000.00")))
    assert finding.explanation == (
        "Open AR of 98,000.00 EUR plus this contract's first-year value of 12,000.00 EUR makes 110,000.00 EUR, "
        "110% of the credit limit of 100,000.00 EUR: 10,000.00 EUR over the limit.")
    assert finding.mitigation == ("Ask for a prepayment of at least 10,000.00 EUR, collect open invoices first, "
                                  "or have Credit raise the limit.")


def test_credit_exposure_warning_names_the_share():
    finding = only(risk_rules.credit_exposure(ctx(open_ar="73000.00")))
    assert finding.explanation == (
        "Open AR of 73,000.00 EUR plus this contract's first-year value of 12,000.00 EUR makes 85,000.00 EUR, "
        "85% of the credit limit of 100,000.00 EUR (warning above 80%).")


def test_no_credit_limit_is_a_warning():
    finding = only(risk_rules.credit_exposure(ctx(cust=customer(credit_limit=ZERO))))
    assert finding.severity == "warning"
    assert finding.explanation == ("The customer has no credit limit. Open AR of 0.00 EUR plus this contract's "
                                   "first-year value of 12,000.00 EUR makes 12,000.00 EUR.")


def test_unconverted_currencies_are_named():
    # given balances in GBP without a GBP->EUR rate, and an exposure otherwise within the limit
    finding = only(risk_rules.credit_exposure(ctx(unconverted=["GBP"])))
    assert finding.severity == "info"
    assert finding.explanation.endswith("Amounts in GBP are left out: no FX rate to EUR.")
    # and within a warning, the sentence is appended
    finding = only(risk_rules.credit_exposure(ctx(open_ar="73000.00", unconverted=["GBP"])))
    assert finding.severity == "warning"
    assert finding.explanation.endswith("(warning above 80%). Amounts in GBP are left out: no FX rate to EUR.")


@pytest.mark.parametrize(("overdue", "severity"), [("0", None), ("0.01", "warning")])
def test_overdue_balance(overdue, severity):
    findings = risk_rules.overdue_balance(ctx(open_ar="5000.00", overdue=overdue))
    assert [f.severity for f in findings] == ([severity] if severity else [])


def test_overdue_balance_names_the_amount():
    finding = only(risk_rules.overdue_balance(ctx(open_ar="5000.00", overdue="1200.50")))
    assert finding.explanation == "The customer has 1,200.50 EUR overdue (of 5,000.00 EUR open)."


# --- customer risk rating and status ----------------------------------------------------------

@pytest.mark.parametrize(("rating", "prepayment", "severity"), [
    ("low", "0", None), ("medium", "0", None), ("high", "25", "high"), ("high", "24.99", "blocking"),
    ("high", "0", "blocking"), ("high", "100", "high"),
])
def test_customer_risk_and_the_prepayment_the_policy_requires(rating, prepayment, severity):
    # given the policy requires 25% prepayment from high-risk customers
    context = ctx(cust=customer(risk_rating=rating), prepayment_percent=D(prepayment))
    findings = risk_rules.customer_risk(context)
    assert [f.severity for f in findings] == ([severity] if severity else [])


def test_high_risk_without_prepayment_asks_for_the_policys_percent():
    finding = only(risk_rules.customer_risk(ctx(cust=customer(risk_rating="high"), prepayment_percent=D("10"))))
    assert finding.explanation == ("Acme GmbH is rated high risk and the contract has a 10% prepayment; the policy "
                                   "requires at least 25% from high-risk customers.")
    assert finding.mitigation == "Ask for a 25% prepayment (3,000.00 EUR of the first-year value of 12,000.00 EUR)."


def test_high_risk_is_high_only_when_the_policy_does_not_require_prepayment():
    pol = policy(high_risk_requires_prepayment=False)
    finding = only(risk_rules.customer_risk(ctx(cust=customer(risk_rating="high"), pol=pol)))
    assert finding.severity == "high"
    assert finding.explanation == "Acme GmbH is rated high risk."


@pytest.mark.parametrize(("status", "severity"), [
    ("active", None), ("inactive", None), ("on_hold", "blocking"), ("blocked", "blocking"),
])
def test_customer_status(status, severity):
    context = ctx(cust=customer(status=status, status_reason="Unpaid invoices since March"))
    findings = risk_rules.customer_status(context)
    assert [f.severity for f in findings] == ([severity] if severity else [])


def test_customer_on_hold_gives_the_reason():
    finding = only(risk_rules.customer_status(ctx(cust=customer(status="on_hold", status_reason="Disputed invoices"))))
    assert finding.explanation == "Acme GmbH is on hold: Disputed invoices"


# --- currency ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("currency", "allowed", "rule", "severity"), [
    ("EUR", ["EUR", "USD"], None, None),
    ("USD", ["EUR", "USD"], "currency_fx", "info"),
    ("GBP", ["EUR", "USD"], "currency_not_allowed", "blocking"),
    ("JPY", [], "currency_fx", "info"),  # an empty list allows any currency
    ("EUR", [], None, None),
])
def test_currency_allowed_and_functional(currency, allowed, rule, severity):
    findings = risk_rules.currency(ctx(currency=currency, pol=policy(allowed_currencies=allowed)))
    assert [(f.rule, f.severity) for f in findings] == ([(rule, severity)] if rule else [])


def test_currency_not_allowed_names_the_allowed_ones():
    finding = only(risk_rules.currency(ctx(currency="GBP", pol=policy(allowed_currencies=["EUR", "USD"]))))
    assert finding.explanation == "GBP is not among the currencies IE01 contracts in (EUR, USD)."
    assert finding.mitigation == "Contract in EUR, or ask a Controller to allow GBP in the finance policy."


def test_foreign_currency_explains_the_fx_exposure():
    finding = only(risk_rules.currency(ctx(currency="USD")))
    assert finding.explanation == ("The contract is in USD while IE01 keeps its books in EUR: revenue and "
                                   "receivables carry FX exposure.")


# --- PO, billing timing, renewal, usage, free periods ------------------------------------------

@pytest.mark.parametrize(("required", "po", "severity"), [
    (True, "", "high"), (True, "   ", "high"), (True, "PO-4711", None), (False, "", None),
])
def test_po_required_by_the_customer(required, po, severity):
    findings = risk_rules.po_missing(ctx(cust=customer(po_required=required), po_number=po))
    assert [f.severity for f in findings] == ([severity] if severity else [])


@pytest.mark.parametrize(("frequency", "timing", "arrears_max", "severity"), [
    ("monthly", "arrears", 1, None), ("quarterly", "arrears", 1, "warning"), ("quarterly", "advance", 1, None),
    ("quarterly", "arrears", 3, None), ("semi_annual", "arrears", 3, "warning"), ("one_time", "arrears", 1, None),
])
def test_billing_in_arrears_on_long_periods(frequency, timing, arrears_max, severity):
    context = ctx(billing_frequency=frequency, billing_timing=timing, pol=policy(arrears_max_months=arrears_max))
    findings = risk_rules.billing_in_arrears(context)
    assert [f.severity for f in findings] == ([severity] if severity else [])


def test_billing_in_arrears_explains_the_months():
    finding = only(risk_rules.billing_in_arrears(ctx(billing_frequency="quarterly", billing_timing="arrears")))
    assert finding.explanation == ("Billed quarterly in arrears: 3 months of service before the first invoice, "
                                   "longer than the policy's 1 month.")
    assert finding.mitigation == "Bill quarterly in advance, or monthly in arrears."


@pytest.mark.parametrize(("auto_renew", "notice", "severity"), [
    (True, 30, None), (True, 29, "warning"), (True, 0, "warning"), (False, 0, None),
])
def test_auto_renew_needs_notice_terms(auto_renew, notice, severity):
    findings = risk_rules.auto_renew_notice(ctx(auto_renew=auto_renew, renewal_notice_days=notice))
    assert [f.severity for f in findings] == ([severity] if severity else [])


def test_auto_renew_explanation():
    finding = only(risk_rules.auto_renew_notice(ctx(auto_renew=True, renewal_notice_days=1)))
    assert finding.explanation == ("The contract renews automatically with 1 day's notice; the policy asks for at "
                                   "least 30 days.")


@pytest.mark.parametrize(("minimum", "severity"), [("0", "warning"), ("0.01", None)])
def test_usage_without_minimum_commitment(minimum, severity):
    usage = line("usage", "0.05", name="API calls", minimum_commitment=D(minimum))
    findings = risk_rules.usage_without_minimum(ctx(lines=[line(), usage]))
    assert [f.severity for f in findings] == ([severity] if severity else [])


def test_usage_without_minimum_names_the_line_and_rate():
    usage = line("usage", "0.05", name="API calls")
    finding = only(risk_rules.usage_without_minimum(ctx(lines=[line(), usage])))
    assert finding.explanation == ("Line 2 (API calls) bills usage at 0.05 EUR per unit with no minimum "
                                   "commitment: its revenue may be zero.")


@pytest.mark.parametrize(("periods", "maximum", "severity"), [
    (0, 1, None), (1, 1, "info"), (2, 1, "high"), (2, 2, "info"), (1, 0, "high"),
])
def test_free_periods_against_the_policy(periods, maximum, severity):
    findings = risk_rules.free_periods(ctx(free_periods=periods, pol=policy(max_free_periods=maximum)))
    assert [f.severity for f in findings] == ([severity] if severity else [])


def test_free_periods_explain_the_value_given_away():
    finding = only(risk_rules.free_periods(ctx(free_periods=2, billing_frequency="quarterly")))
    assert finding.explanation == ("2 free quarterly periods (6 months at zero, 6,000.00 EUR of recurring fees), "
                                   "more than the policy's 1.")
    finding = only(risk_rules.free_periods(ctx(free_periods=1)))
    assert finding.explanation == "1 free monthly period (1 month at zero, 1,000.00 EUR of recurring fees)."


# --- dates, lines, zero prices ----------------------------------------------------------------

def test_end_before_start_is_blocking():
    context = ctx(start_date=dt.date(2026, 1, 1), end_date=dt.date(2025, 12, 31))
    findings = [f for f in risk_rules.contract_dates(context) if f.data["problem"] == "end_before_start"]
    assert only(findings).severity == "blocking"
    assert findings[0].explanation == "The contract ends on 2025-12-31, before it starts on 2026-01-01."


@pytest.mark.parametrize(("start", "end", "outside"), [
    (dt.date(2026, 1, 1), dt.date(2026, 12, 31), False),
    (dt.date(2025, 12, 31), None, True),
    (None, dt.date(2027, 1, 1), True),
    (dt.date(2026, 6, 1), None, False),
])
def test_line_dates_outside_the_term_are_blocking(start, end, outside):
    context = ctx(lines=[line(start_date=start, end_date=end)])
    findings = risk_rules.contract_dates(context)
    assert [(f.severity, f.data["problem"]) for f in findings] == (
        [("blocking", "line_outside_term")] if outside else [])


def test_line_outside_the_term_explains_the_dates():
    context = ctx(lines=[line(name="Setup", start_date=dt.date(2025, 12, 1), end_date=dt.date(2026, 6, 30))])
    finding = only(risk_rules.contract_dates(context))
    assert finding.explanation == ("Line 1 (Setup) runs 2025-12-01 to 2026-06-30, outside the contract term "
                                   "2026-01-01 to 2026-12-31.")


@pytest.mark.parametrize(("milestone", "outside"), [
    (dt.date(2026, 1, 1), False), (dt.date(2026, 12, 31), False), (dt.date(2027, 1, 1), True),
    (dt.date(2025, 12, 31), True),
])
def test_milestone_outside_the_term_is_blocking(milestone, outside):
    context = ctx(lines=[line("milestone", "5000.00", name="Go-live", milestone_date=milestone)])
    findings = risk_rules.contract_dates(context)
    assert [f.data["problem"] for f in findings] == (["milestone_outside_term"] if outside else [])


@pytest.mark.parametrize(("start", "blocking"), [
    (dt.date(2025, 12, 1), False),   # 31 days before 2026-01-01: the policy's maximum
    (dt.date(2025, 11, 30), True),   # 32 days
    (dt.date(2026, 3, 1), False),    # in the future
])
def test_backdating_beyond_the_policy_is_blocking(start, blocking):
    context = ctx(start_date=start, end_date=dt.date(2026, 12, 31))
    findings = risk_rules.contract_dates(context)
    assert [f.data["problem"] for f in findings] == (["backdated"] if blocking else [])


def test_backdating_explains_the_days():
    finding = only(risk_rules.contract_dates(ctx(start_date=dt.date(2025, 11, 1))))
    assert finding.explanation == ("The contract starts on 2025-11-01, 61 days before today (2026-01-01); the "
                                   "policy allows at most 31 days of backdating.")


def test_amendment_is_judged_by_its_effective_date():
    # given an amendment of a contract that started a year ago, taking effect today
    amendment = ctx(start_date=dt.date(2025, 1, 1), end_date=dt.date(2026, 12, 31), effective_date=TODAY,
                    amends_id=1)
    assert risk_rules.contract_dates(amendment) == []
    # and one whose effective date lies after the term
    late = ctx(start_date=dt.date(2025, 1, 1), end_date=dt.date(2026, 12, 31), effective_date=dt.date(2027, 1, 1),
               amends_id=1)
    finding = only(risk_rules.contract_dates(late))
    assert finding.data["problem"] == "amendment_outside_term"
    assert finding.explanation == ("The amendment takes effect on 2027-01-01, outside the contract term "
                                   "2025-01-01 to 2026-12-31.")


def test_a_contract_without_lines_is_blocking():
    finding = only(risk_rules.no_lines(ctx(lines=[])))
    assert finding.severity == "blocking"
    assert finding.explanation == "The contract has no lines: nothing would be billed."
    assert risk_rules.no_lines(ctx()) == []


@pytest.mark.parametrize(("price", "discount", "severity"), [
    ("0", "0", "warning"), ("0.01", "0", None), ("1000.00", "100", "warning"), ("0.004", "0", "warning"),
])
def test_recurring_line_priced_at_zero(price, discount, severity):
    context = ctx(lines=[line(price=price, discount_percent=D(discount)), line("one_time", "0")])
    findings = risk_rules.zero_priced_recurring(context)
    assert [f.severity for f in findings] == ([severity] if severity else [])


def test_every_rule_is_registered():
    assert {rule.__name__ for rule in risk_rules.RULES} == {
        "no_lines", "contract_dates", "customer_status", "currency", "customer_risk", "credit_exposure",
        "overdue_balance", "payment_terms", "discount_above_policy", "po_missing", "free_periods",
        "billing_in_arrears", "auto_renew_notice", "usage_without_minimum", "zero_priced_recurring",
        "contract_value_tier",
    }


def test_a_clean_contract_has_no_findings():
    context = ctx()
    assert [f for rule in risk_rules.RULES for f in rule(context)] == []


# --- over the database --------------------------------------------------------------------------

@pytest.mark.django_db
def test_assessment_reads_open_items_and_orders_findings_by_severity(today):
    # given a customer with 45,000.00 EUR open, 40,000.00 of it overdue, and a 50,000.00 limit
    today(TODAY)
    version = ContractVersionFactory(payment_terms_days=45)
    entity, cust = version.contract.legal_entity, version.contract.customer
    FinancePolicyFactory(legal_entity=entity)
    post_invoice(entity, cust, "40000.00", date=dt.date(2025, 11, 1), due=dt.date(2025, 12, 1))
    post_invoice(entity, cust, "5000.00", date=dt.date(2025, 12, 20), due=dt.date(2026, 1, 19))
    ContractLineFactory(version=version, unit_price=D("1000.00"))
    # when
    assessment = contract_assess(version_id=version.id, today=TODAY)
    # then 45,000 + 12,000 = 57,000.00 is 114% of the limit: high, so a manager approves
    findings = list(assessment.findings.values_list("rule", "severity"))
    assert findings == [("credit_exposure", "high"), ("overdue_balance", "warning"), ("payment_terms", "warning")]
    assert assessment.required_levels == 2
    assert assessment.highest_severity == "high"
    assert assessment.exposure["open_ar"] == "45000.00"
    assert assessment.exposure["overdue"] == "40000.00"
    assert assessment.exposure["total"] == "57000.00"
    explanation = assessment.findings.get(rule="credit_exposure").explanation
    assert "makes 57,000.00 EUR, 114% of the credit limit of 50,000.00 EUR: 7,000.00 EUR over the limit." in explanation


@pytest.mark.django_db
def test_foreign_currency_value_is_converted_for_the_thresholds(today):
    # given a USD contract of 120,000.00 USD and USD->EUR 0.9: 108,000.00 EUR, above the reviewer's 100,000.00
    today(TODAY)
    version = ContractVersionFactory(currency="USD")
    version.contract.customer.credit_limit = D("500000.00")
    version.contract.customer.save()
    FinancePolicyFactory(legal_entity=version.contract.legal_entity)
    FxRateFactory(date=dt.date(2025, 12, 31), from_currency="USD", to_currency="EUR", rate=D("0.9000000000"))
    ContractLineFactory(version=version, kind="one_time", unit_price=D("120000.00"))
    # when
    result = evaluate(version, today=TODAY)
    # then
    assert result.required_levels == 2
    tier = next(f for f in result.findings if f.rule == "contract_value_tier")
    assert tier.explanation == ("TCV 120,000.00 USD (108,000.00 EUR) is above the reviewer's 100,000.00 EUR: "
                                "a Finance Manager approves too.")
    assert result.exposure.contract_first_year == D("108000.00")


@pytest.mark.django_db
def test_without_an_fx_rate_the_contract_value_is_left_out_of_the_exposure_and_a_manager_approves(today):
    # given a GBP contract (allowed) for a EUR customer, and no GBP rate at all
    today(TODAY)
    version = ContractVersionFactory(currency="GBP")
    FinancePolicyFactory(legal_entity=version.contract.legal_entity)
    ContractLineFactory(version=version, unit_price=D("1000.00"))
    # when
    result = evaluate(version, today=TODAY)
    # then nothing in GBP is added to the EUR exposure, and both rules say why
    assert result.exposure.contract_first_year == ZERO
    assert result.exposure.unconverted == ("GBP",)
    assert result.exposure.contract_converted is False
    rules = {f.rule: f for f in result.findings}
    assert rules["contract_value_tier"].severity == "high"
    assert rules["credit_exposure"].explanation.endswith(
        "Amounts in GBP are left out: no FX rate to EUR, including this contract.")
    assert result.required_levels == 2
