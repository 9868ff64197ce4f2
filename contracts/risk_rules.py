"""The risk rules. Each takes an assessment Context and returns FindingResults, each with a
severity (info, warning, high, blocking), a plain-language explanation with the numbers, and
a suggested mitigation. Add a rule by writing a function and listing it in RULES."""

from __future__ import annotations

from .assessment import Context, FindingResult


def payment_terms(ctx: Context) -> list[FindingResult]:
    terms = ctx.version.payment_terms_days
    if terms is None:
        terms = ctx.customer.payment_terms_days
    standard, maximum = ctx.policy.standard_payment_terms_days, ctx.policy.max_payment_terms_days
    if terms <= standard:
        return []
    severity = "high" if terms > maximum else "warning"
    return [FindingResult(
        rule="payment_terms", severity=severity,
        explanation=f"Net {terms} exceeds the standard Net {standard} by {terms - standard} days"
        + (f" and the maximum of Net {maximum} without escalation." if terms > maximum else "."),
        mitigation=f"Ask for Net {standard} or a prepayment.",
        data={"terms": terms, "standard": standard, "maximum": maximum},
    )]


RULES = [payment_terms]
