"""The review page's "Terms against the finance policy" table, built from the stored findings of
the version's assessment: one source of truth. Each row describes a term (the contract's value
and the policy's), and its state is the highest severity of the findings its rules raised
("ok" when none did; None when the version was never assessed). The risk rules in
`risk_rules.py` decide; this module only reads what they stored."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.forms.models import model_to_dict

from ledger.services import fx_rate_for
from otc.errors import DomainError
from otc.money import quantize

from .assessment import policy_for
from .models import Assessment, ContractLine, ContractVersion, Finding
from .risk_rules import pct
from .values import ContractValues, effective_discount_percent

# The term rows and the rules whose findings decide each row's state.
ROW_RULES: dict[str, tuple[str, ...]] = {
    "Payment terms": ("payment_terms",),
    "Discount (line then contract)": ("discount_above_policy",),
    "Total contract value": ("contract_value_tier",),
    "Currency": ("currency_not_allowed", "currency_fx"),
    "Prepayment": ("customer_risk:prepayment",),
    "Free periods": ("free_periods",),
    "Billing": ("billing_in_arrears",),
    "Auto-renew notice": ("auto_renew_notice",),
    "PO number": ("po_missing",),
}


def policy_values(assessment: Assessment | None, legal_entity_id: int) -> dict[str, Any]:
    """The policy numbers the assessment used (its snapshot), else the entity's current policy."""
    raw = dict(assessment.policy_snapshot) if assessment and assessment.policy_snapshot else model_to_dict(
        policy_for(legal_entity_id))
    out: dict[str, Any] = {}
    for key, value in raw.items():
        if key.endswith(("_value", "_percent")) and value not in (None, ""):
            out[key] = Decimal(str(value))
        else:
            out[key] = value
    return out


def _finding_key(finding: Finding) -> str:
    # customer_risk raises a high finding for the rating alone and a blocking one for a missing
    # prepayment: only the latter is about the prepayment term.
    if finding.rule == "customer_risk" and "required" in (finding.data or {}):
        return "customer_risk:prepayment"
    return finding.rule


def row_states(findings: list[Finding] | None) -> dict[str, str | None]:
    """{row label: highest severity of its findings, "ok" when none}; every row None when the
    version has no assessment (`findings` None)."""
    if findings is None:
        return dict.fromkeys(ROW_RULES)
    by_key: dict[str, str] = {}
    for finding in findings:
        key = _finding_key(finding)
        if Finding.RANK.get(finding.severity, 0) >= Finding.RANK.get(by_key.get(key, ""), -1):
            by_key[key] = finding.severity
    states: dict[str, str | None] = {}
    for label, rules in ROW_RULES.items():
        found = [by_key[rule] for rule in rules if rule in by_key]
        states[label] = max(found, key=lambda s: Finding.RANK.get(s, 0)) if found else "ok"
    return states


def _value_in_entity_currency(version: ContractVersion, total: Decimal, on: dt.date) -> tuple[Decimal | None, str]:
    """The contract value in the entity's functional currency, at the rate of `on` (None when
    no rate exists), for display next to the policy's thresholds."""
    currency = version.contract.legal_entity.functional_currency
    if version.currency == currency:
        return total, currency
    try:
        rate = fx_rate_for(from_currency=version.currency, to_currency=currency, on=on)
    except DomainError:
        return None, currency
    return quantize(total * rate, currency), currency


def terms_vs_policy(
    version: ContractVersion, *, assessment: Assessment | None, findings: list[Finding] | None,
    lines: list[ContractLine], policy: dict[str, Any], values: ContractValues, customer, on: dt.date,
) -> list[dict[str, Any]]:
    """Rows of {term, contract, policy, state} (the value row has money fields instead of text).
    `findings` are the assessment's stored findings (None: not assessed)."""
    states = row_states(findings if assessment is not None else None)
    rows: list[dict[str, Any]] = []

    def add(term: str, **fields: Any) -> None:
        rows.append({"term": term, "state": states[term], **fields})

    terms = version.payment_terms_days if version.payment_terms_days is not None else customer.payment_terms_days
    add("Payment terms",
        contract=f"Net {terms}" + ("" if version.payment_terms_days is not None else " (customer's)"),
        policy=(f"standard Net {policy.get('standard_payment_terms_days')}, "
                f"max Net {policy.get('max_payment_terms_days')}"))
    combined = max((effective_discount_percent(line.discount_percent, version.discount_percent) for line in lines),
                   default=version.discount_percent)
    add("Discount (line then contract)",
        contract=f"{pct(version.discount_percent)} contract · up to {pct(combined)} combined",
        policy=f"max {pct(policy.get('max_discount_percent', Decimal(0)))}")
    compared, entity_currency = _value_in_entity_currency(version, values.total, on)
    add("Total contract value", contract_money=values.total, currency=version.currency,
        compared_money=compared if entity_currency != version.currency else None, policy_currency=entity_currency,
        policy_money=(policy.get("reviewer_max_value"), policy.get("manager_max_value")))
    allowed = policy.get("allowed_currencies") or []
    add("Currency", contract=version.currency, policy=", ".join(allowed) if allowed else "any")
    required = policy.get("high_risk_min_prepayment_percent", Decimal(0)) if (
        customer.risk_rating == "high" and policy.get("high_risk_requires_prepayment")) else Decimal(0)
    add("Prepayment", contract=pct(version.prepayment_percent),
        policy=(f"at least {pct(required)} (high-risk customer)" if required
                else f"none required ({customer.get_risk_rating_display().lower()} risk)"))
    add("Free periods", contract=str(version.free_periods), policy=f"max {policy.get('max_free_periods', 0)}")
    arrears_max = policy.get("arrears_max_months", 1)
    add("Billing",
        contract=f"{version.get_billing_frequency_display()}, {version.get_billing_timing_display().lower()}",
        policy=f"arrears on periods up to {arrears_max} month{'s' if arrears_max != 1 else ''}")
    if version.auto_renew:
        add("Auto-renew notice", contract=f"{version.renewal_notice_days} days",
            policy=f"at least {policy.get('min_renewal_notice_days', 0)} days")
    add("PO number", contract=version.po_number or "—",
        policy="required by the customer" if customer.po_required else "not required")
    return rows
