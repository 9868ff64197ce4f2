"""The risk rules. Each takes an assessment Context and returns FindingResults, each with a
severity (info < warning < high < blocking), a plain-language explanation with the numbers, and
a suggested mitigation. Add a rule by writing a function and listing it in RULES.

Thresholds are inclusive: a value equal to the policy's limit is within policy; one unit (day,
cent, hundredth of a percent) beyond it is a finding. Amounts are Decimal, shown to the
currency's minor unit; money thresholds are in the legal entity's functional currency."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

from otc.money import ZERO, format_amount, quantize

from .assessment import Context, FindingResult
from .values import discount_factor, effective_discount_percent

HUNDRED = Decimal(100)
INFO, WARNING, HIGH, BLOCKING = "info", "warning", "high", "blocking"


# --- formatting helpers ------------------------------------------------------------------------

def money(amount: Decimal, currency: str) -> str:
    """240000 EUR -> '240,000.00 EUR' (to the currency's minor unit)."""
    return f"{format_amount(amount, currency)} {currency}"


def pct(value: Decimal) -> str:
    """Decimal('23.5000') -> '23.5%'; Decimal('15') -> '15%'; at most two decimals shown."""
    text = f"{Decimal(value).quantize(Decimal('0.01'), rounding=ROUND_HALF_UP):f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return f"{text}%"


def plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


ADVERBS = {"monthly": "monthly", "quarterly": "quarterly", "semi_annual": "half-yearly", "annual": "annually",
           "one_time": "once"}


def day(value: dt.date) -> str:
    return value.isoformat()


def line_label(index: int, line) -> str:
    """'line 2 (Platform subscription)': the position on the contract as a reader counts it."""
    return f"line {index} ({line.description or line.product.name})"


def first_upper(text: str) -> str:
    return text[:1].upper() + text[1:]


def _term(ctx: Context) -> str:
    version = ctx.version
    return f"{day(version.start_date)} to {day(version.end_date)}" if version.end_date else (
        f"from {day(version.start_date)} (no end date)")


# --- payment terms, discounts, value -----------------------------------------------------------

def payment_terms(ctx: Context) -> list[FindingResult]:
    """Terms beyond the standard: warning; beyond the maximum without escalation: high."""
    terms = ctx.version.payment_terms_days
    own = terms is not None
    if terms is None:
        terms = ctx.customer.payment_terms_days
    standard, maximum = ctx.policy.standard_payment_terms_days, ctx.policy.max_payment_terms_days
    if terms <= standard:
        return []
    above_max = terms > maximum
    source = "" if own else " (the customer's default terms)"
    explanation = f"Net {terms}{source} exceeds the standard Net {standard} by {terms - standard} days"
    explanation += f" and the maximum of Net {maximum} without escalation." if above_max else "."
    mitigation = (f"Ask for Net {standard} (at most Net {maximum}), or a prepayment to offset the longer terms."
                  if above_max else f"Ask for Net {standard}, or a prepayment to offset the longer terms.")
    return [FindingResult(
        rule="payment_terms", severity=HIGH if above_max else WARNING, explanation=explanation, mitigation=mitigation,
        data={"terms": terms, "standard": standard, "maximum": maximum},
    )]


def discount_above_policy(ctx: Context) -> list[FindingResult]:
    """Per line: the line discount then the contract discount, combined, above the policy's
    maximum is high (one finding per line)."""
    maximum = ctx.policy.max_discount_percent
    contract_discount = ctx.version.discount_percent
    findings = []
    for index, line in enumerate(ctx.lines, start=1):
        combined = effective_discount_percent(line.discount_percent, contract_discount)
        if combined <= maximum:
            continue
        parts = []
        if line.discount_percent:
            parts.append(f"{pct(line.discount_percent)} on the line")
        if contract_discount:
            parts.append(f"{pct(contract_discount)} on the contract")
        how = f" ({' then '.join(parts)})" if len(parts) > 1 else ""
        findings.append(FindingResult(
            rule="discount_above_policy", severity=HIGH,
            explanation=(f"The discount on {line_label(index, line)} is {pct(combined)}{how}, above the policy's "
                         f"maximum of {pct(maximum)} without escalation."),
            mitigation=f"Bring the combined discount to {pct(maximum)} or less, or have a Finance Manager approve it.",
            data={"line": index, "line_discount": str(line.discount_percent),
                  "contract_discount": str(contract_discount),
                  "combined": str(combined.quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)), "maximum": str(maximum)},
        ))
    return findings


def contract_value_tier(ctx: Context) -> list[FindingResult]:
    """The total contract value against the approval thresholds (in the entity's currency):
    above the reviewer's -> a Finance Manager approves too (info); above the manager's -> a
    Controller approves too (info). Without an FX rate the comparison is impossible: high."""
    version, policy = ctx.version, ctx.policy
    total, currency = ctx.values.total, version.currency
    entity_currency = ctx.entity_currency or currency
    if ctx.entity_total is None and currency != entity_currency:
        return [FindingResult(
            rule="contract_value_tier", severity=HIGH,
            explanation=(f"No {currency} to {entity_currency} FX rate on or before {day(ctx.today)}: the TCV of "
                         f"{money(total, currency)} cannot be compared with the approval thresholds in "
                         f"{entity_currency}, so a Finance Manager approves."),
            mitigation=f"Ask a Controller to enter the {currency}/{entity_currency} rate, then re-assess.",
            data={"total": str(total), "currency": currency, "entity_currency": entity_currency},
        )]
    tier_total = ctx.tier_total
    shown = money(total, currency)
    if currency != entity_currency:
        shown += f" ({money(tier_total, entity_currency)})"
    reviewer, manager = policy.reviewer_max_value, policy.manager_max_value
    data = {"total": str(total), "currency": currency, "entity_total": str(tier_total),
            "entity_currency": entity_currency, "reviewer_max": str(reviewer), "manager_max": str(manager)}
    if tier_total > manager:
        return [FindingResult(
            rule="contract_value_tier", severity=INFO,
            explanation=(f"TCV {shown} is above the Finance Manager's {money(manager, entity_currency)}: "
                         f"a Controller approves too."),
            data={**data, "levels": 3},
        )]
    if tier_total > reviewer:
        return [FindingResult(
            rule="contract_value_tier", severity=INFO,
            explanation=(f"TCV {shown} is above the reviewer's {money(reviewer, entity_currency)}: "
                         f"a Finance Manager approves too."),
            data={**data, "levels": 2},
        )]
    return []


# --- the customer ------------------------------------------------------------------------------

def credit_exposure(ctx: Context) -> list[FindingResult]:
    """Open AR plus this contract's first-year value against the credit limit (in the customer's
    currency): above the policy's warning share -> warning; above 100% -> high; no credit limit
    -> warning. Balances that no FX rate converts are left out and named."""
    exposure, policy = ctx.exposure, ctx.policy
    cur = exposure.currency
    limit, total = exposure.credit_limit, exposure.total
    missing = ""
    if exposure.unconverted:
        missing = (f" Amounts in {', '.join(exposure.unconverted)} are left out: no FX rate to {cur}"
                   f"{'' if exposure.contract_converted else ', including this contract'}.")
    makes = (f"Open AR of {money(exposure.open_ar, cur)} plus this contract's first-year value of "
             f"{money(exposure.contract_first_year, cur)} makes {money(total, cur)}")
    data = exposure.as_dict()
    if exposure.credit_hold:  # collections put the customer on credit hold (read through otc.registry)
        return [FindingResult(
            rule="credit_exposure", severity=HIGH,
            explanation=f"{ctx.customer.name} is {exposure.credit_hold}. {makes}.{missing}",
            mitigation="Collect the overdue invoices first, or have a Finance Manager release the credit hold.",
            data=data,
        )]
    if limit <= 0:
        return [FindingResult(
            rule="credit_exposure", severity=WARNING,
            explanation=f"The customer has no credit limit. {makes}.{missing}",
            mitigation="Ask Credit to set a credit limit for the customer, or ask for a prepayment.",
            data=data,
        )]
    share = (total / limit * HUNDRED).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    data["utilisation_percent"] = str(share)
    if total > limit:
        over = total - limit
        return [FindingResult(
            rule="credit_exposure", severity=HIGH,
            explanation=(f"{makes}, {pct(share)} of the credit limit of {money(limit, cur)}: "
                         f"{money(over, cur)} over the limit.{missing}"),
            mitigation=(f"Ask for a prepayment of at least {money(over, cur)}, collect open invoices first, "
                        f"or have Credit raise the limit."),
            data=data,
        )]
    if total * HUNDRED > limit * policy.credit_warning_percent:
        return [FindingResult(
            rule="credit_exposure", severity=WARNING,
            explanation=(f"{makes}, {pct(share)} of the credit limit of {money(limit, cur)} "
                         f"(warning above {pct(policy.credit_warning_percent)}).{missing}"),
            mitigation="Watch the customer's payments; consider a prepayment or shorter payment terms.",
            data=data,
        )]
    if missing:
        return [FindingResult(
            rule="credit_exposure", severity=INFO,
            explanation=f"{makes}, {pct(share)} of the credit limit of {money(limit, cur)}.{missing}",
            mitigation=f"Enter the missing FX rates to {cur} and re-assess for a complete exposure.",
            data=data,
        )]
    return []


def overdue_balance(ctx: Context) -> list[FindingResult]:
    exposure = ctx.exposure
    if exposure.overdue <= 0:
        return []
    cur = exposure.currency
    return [FindingResult(
        rule="overdue_balance", severity=WARNING,
        explanation=f"The customer has {money(exposure.overdue, cur)} overdue "
                    f"(of {money(exposure.open_ar, cur)} open).",
        mitigation="Collect the overdue invoices or agree a payment plan before the contract starts.",
        data={"currency": cur, "overdue": str(exposure.overdue), "open_ar": str(exposure.open_ar)},
    )]


def customer_risk(ctx: Context) -> list[FindingResult]:
    """A high risk rating is high; when the policy requires a prepayment from high-risk customers
    and the contract has less, blocking."""
    customer, policy, version = ctx.customer, ctx.policy, ctx.version
    if customer.risk_rating != "high":
        return []
    required = policy.high_risk_min_prepayment_percent
    if policy.high_risk_requires_prepayment and version.prepayment_percent < required:
        amount = quantize(ctx.values.first_year * required / HUNDRED, version.currency)
        return [FindingResult(
            rule="customer_risk", severity=BLOCKING,
            explanation=(f"{customer.name} is rated high risk and the contract has a {pct(version.prepayment_percent)}"
                         f" prepayment; the policy requires at least {pct(required)} from high-risk customers."),
            mitigation=(f"Ask for a {pct(required)} prepayment ({money(amount, version.currency)} of the first-year "
                        f"value of {money(ctx.values.first_year, version.currency)})."),
            data={"rating": customer.risk_rating, "prepayment": str(version.prepayment_percent),
                  "required": str(required), "prepayment_amount": str(amount)},
        )]
    prepaid = f" It has a {pct(version.prepayment_percent)} prepayment." if version.prepayment_percent else ""
    return [FindingResult(
        rule="customer_risk", severity=HIGH,
        explanation=f"{customer.name} is rated high risk.{prepaid}",
        mitigation="Consider a prepayment, shorter payment terms or a lower credit exposure.",
        data={"rating": customer.risk_rating, "prepayment": str(version.prepayment_percent)},
    )]


def customer_status(ctx: Context) -> list[FindingResult]:
    """On hold or blocked: blocking, with the customer's status reason."""
    customer = ctx.customer
    if customer.status not in ("on_hold", "blocked"):
        return []
    label = customer.get_status_display().lower()
    reason = f": {customer.status_reason}" if customer.status_reason else "."
    return [FindingResult(
        rule="customer_status", severity=BLOCKING,
        explanation=f"{customer.name} is {label}{reason}",
        mitigation=("Resolve the customer's status with Credit/Collections first; only a Controller may "
                    "override this with a written reason."),
        data={"status": customer.status, "reason": customer.status_reason},
    )]


def po_missing(ctx: Context) -> list[FindingResult]:
    if not ctx.customer.po_required or (ctx.version.po_number or "").strip():
        return []
    return [FindingResult(
        rule="po_missing", severity=HIGH,
        explanation=(f"{ctx.customer.name} requires a PO number on its invoices and the contract has none: "
                     f"its accounts payable would reject the invoices."),
        mitigation="Get the purchase order number from the customer and enter it on the contract.",
    )]


# --- currency ----------------------------------------------------------------------------------

def currency(ctx: Context) -> list[FindingResult]:
    """Not among the policy's allowed currencies (when it lists any): blocking. Not the entity's
    functional currency: info (FX exposure on revenue and receivables)."""
    cur, allowed = ctx.version.currency, list(ctx.policy.allowed_currencies or [])
    entity = ctx.version.contract.legal_entity
    functional = ctx.entity_currency or entity.functional_currency
    if allowed and cur not in allowed:
        return [FindingResult(
            rule="currency_not_allowed", severity=BLOCKING,
            explanation=f"{cur} is not among the currencies {entity.code} contracts in ({', '.join(allowed)}).",
            mitigation=f"Contract in {functional}, or ask a Controller to allow {cur} in the finance policy.",
            data={"currency": cur, "allowed": allowed},
        )]
    if cur != functional:
        return [FindingResult(
            rule="currency_fx", severity=INFO,
            explanation=(f"The contract is in {cur} while {entity.code} keeps its books in {functional}: "
                         f"revenue and receivables carry FX exposure."),
            mitigation=f"Consider contracting in {functional}, or an FX clause for large movements.",
            data={"currency": cur, "functional": functional},
        )]
    return []


# --- billing terms -----------------------------------------------------------------------------

def billing_in_arrears(ctx: Context) -> list[FindingResult]:
    version, maximum = ctx.version, ctx.policy.arrears_max_months
    months = version.MONTHS_PER_PERIOD.get(version.billing_frequency, 1)
    if version.billing_timing != "arrears" or months <= maximum:
        return []
    frequency = ADVERBS.get(version.billing_frequency, version.billing_frequency)
    return [FindingResult(
        rule="billing_in_arrears", severity=WARNING,
        explanation=(f"Billed {frequency} in arrears: {plural(months, 'month')} of service before the first "
                     f"invoice, longer than the policy's {plural(maximum, 'month')}."),
        mitigation=f"Bill {frequency} in advance, or monthly in arrears.",
        data={"months": months, "maximum": maximum},
    )]


def auto_renew_notice(ctx: Context) -> list[FindingResult]:
    version, minimum = ctx.version, ctx.policy.min_renewal_notice_days
    notice = version.renewal_notice_days
    if not version.auto_renew or notice >= minimum:
        return []
    notice_text = "1 day's" if notice == 1 else f"{notice} days'"
    return [FindingResult(
        rule="auto_renew_notice", severity=WARNING,
        explanation=(f"The contract renews automatically with {notice_text} notice; the policy asks for at least "
                     f"{plural(minimum, 'day')}."),
        mitigation=f"Set a renewal notice period of at least {plural(minimum, 'day')}.",
        data={"notice": notice, "minimum": minimum},
    )]


def usage_without_minimum(ctx: Context) -> list[FindingResult]:
    cur = ctx.version.currency
    findings = []
    for index, line in enumerate(ctx.lines, start=1):
        if line.kind != "usage" or line.minimum_commitment > 0:
            continue
        findings.append(FindingResult(
            rule="usage_without_minimum", severity=WARNING,
            explanation=(f"{first_upper(line_label(index, line))} bills usage at {format_amount(line.unit_price, cur)}"
                         f" {cur} per unit with no minimum commitment: its revenue may be zero."),
            mitigation="Agree a monthly minimum commitment for the usage line.",
            data={"line": index, "unit_price": str(line.unit_price)},
        ))
    return findings


def free_periods(ctx: Context) -> list[FindingResult]:
    version, maximum = ctx.version, ctx.policy.max_free_periods
    count = version.free_periods
    if count <= 0:
        return []
    months = count * max(version.MONTHS_PER_PERIOD.get(version.billing_frequency, 1), 1)
    worth = quantize(ctx.values.monthly_recurring * months, version.currency)
    frequency = version.get_billing_frequency_display().lower()
    text = (f"{plural(count, 'free ' + frequency + ' period')} ({plural(months, 'month')} at zero, "
            f"{money(worth, version.currency)} of recurring fees)")
    data = {"free_periods": count, "months": months, "value": str(worth), "maximum": maximum}
    if count > maximum:
        return [FindingResult(
            rule="free_periods", severity=HIGH,
            explanation=f"{text}, more than the policy's {maximum}.",
            mitigation=f"Limit the free periods to {maximum}, or give a discount instead.",
            data=data,
        )]
    return [FindingResult(rule="free_periods", severity=INFO, explanation=f"{text}.", data=data)]


# --- structure and dates -----------------------------------------------------------------------

def contract_dates(ctx: Context) -> list[FindingResult]:
    """Inconsistent dates are blocking: end before start, line dates or milestones outside the
    term, a start backdated beyond the policy (for an amendment: its effective date), an
    amendment effective outside the term."""
    version, policy = ctx.version, ctx.policy
    start, end = version.start_date, version.end_date
    problems: list[tuple[str, str, dict]] = []
    if end is not None and end < start:
        problems.append((f"The contract ends on {day(end)}, before it starts on {day(start)}.",
                         "Correct the start or end date.", {"problem": "end_before_start"}))
    term = _term(ctx)
    for index, line in enumerate(ctx.lines, start=1):
        label = line_label(index, line)
        if line.start_date and line.end_date and line.end_date < line.start_date:
            problems.append((f"{first_upper(label)} ends on {day(line.end_date)}, before it starts on "
                             f"{day(line.start_date)}.", "Correct the line's dates.",
                             {"problem": "line_end_before_start", "line": index}))
            continue
        outside = [d for d in (line.start_date, line.end_date) if d and (d < start or (end and d > end))]
        if outside:
            problems.append((f"{first_upper(label)} runs {day(line.start_date or start)} to "
                             f"{day(line.end_date) if line.end_date else 'the contract end'}, outside the contract "
                             f"term {term}.", "Keep the line's dates within the contract term.",
                             {"problem": "line_outside_term", "line": index}))
        if line.kind == "milestone" and line.milestone_date and (
                line.milestone_date < start or (end and line.milestone_date > end)):
            problems.append((f"The milestone on {label} is dated {day(line.milestone_date)}, outside the "
                             f"contract term {term}.", "Move the milestone into the term, or extend the term.",
                             {"problem": "milestone_outside_term", "line": index}))
    amendment = bool(version.amends_id)
    if amendment and (version.effective_date < start or (end and version.effective_date > end)):
        problems.append((f"The amendment takes effect on {day(version.effective_date)}, outside the contract "
                         f"term {term}.", "Set an effective date within the term.",
                         {"problem": "amendment_outside_term"}))
    backdated_from = version.effective_date if amendment else start
    days_back = (ctx.today - backdated_from).days
    if days_back > policy.max_backdating_days:
        what = "The amendment takes effect" if amendment else "The contract starts"
        problems.append((f"{what} on {day(backdated_from)}, {plural(days_back, 'day')} before today "
                         f"({day(ctx.today)}); the policy allows at most {plural(policy.max_backdating_days, 'day')}"
                         f" of backdating.",
                         "Start the contract on a recent date, or ask a Controller to override with a reason.",
                         {"problem": "backdated", "days": days_back, "maximum": policy.max_backdating_days}))
    return [FindingResult(rule="contract_dates", severity=BLOCKING, explanation=text, mitigation=fix, data=data)
            for text, fix, data in problems]


def no_lines(ctx: Context) -> list[FindingResult]:
    if ctx.lines:
        return []
    return [FindingResult(
        rule="no_lines", severity=BLOCKING,
        explanation="The contract has no lines: nothing would be billed.",
        mitigation="Add the products and fees the customer signed for.",
    )]


def zero_priced_recurring(ctx: Context) -> list[FindingResult]:
    cur = ctx.version.currency
    findings = []
    for index, line in enumerate(ctx.lines, start=1):
        if line.kind != "recurring":
            continue
        monthly = line.quantity * line.unit_price * discount_factor(line.discount_percent, ctx.version.discount_percent)
        if quantize(monthly, cur) != ZERO:
            continue
        findings.append(FindingResult(
            rule="zero_priced_recurring", severity=WARNING,
            explanation=f"{first_upper(line_label(index, line))} is a recurring fee of {money(ZERO, cur)} a month.",
            mitigation="Price the line, or remove it and record the free service in the contract notes.",
            data={"line": index},
        ))
    return findings


RULES = [
    no_lines, contract_dates, customer_status, currency, customer_risk, credit_exposure, overdue_balance,
    payment_terms, discount_above_policy, po_missing, free_periods, billing_in_arrears, auto_renew_notice,
    usage_without_minimum, zero_priced_recurring, contract_value_tier,
]
