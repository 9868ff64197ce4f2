"""The financial-risk assessment of a contract version.

`evaluate(version)` runs every rule in `risk_rules.RULES` over a Context (the version, its
lines, customer, finance policy, values and credit exposure) and decides how many approval
levels the contract needs. `contract_assess(version_id=...)` stores the result as an Assessment
with its Findings, tied to the version it assessed. It runs on every change of a draft and on
submission, so the stored assessment always matches the terms reviewed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.forms.models import model_to_dict

from customers.models import Customer
from ledger.selectors import customer_balance
from ledger.services import fx_rate_for
from otc import dates
from otc.errors import DomainError
from otc.money import ZERO, quantize
from otc.registry import credit_holds

from .models import Assessment, ContractLine, ContractVersion, FinancePolicy, Finding
from .values import ContractValues, contract_values

SEVERITY_RANK = Finding.RANK


@dataclass(frozen=True)
class FindingResult:
    rule: str
    severity: str
    explanation: str
    mitigation: str = ""
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Exposure:
    """The customer's credit position in the credit limit's currency (the customer's default)."""

    currency: str
    credit_limit: Decimal
    open_ar: Decimal
    overdue: Decimal
    contract_first_year: Decimal  # this contract's first-year value converted to `currency`
    unconverted: tuple[str, ...] = ()  # currencies without an FX rate (left out, and said so)
    contract_converted: bool = True  # False: no FX rate for the contract currency, its value is left out
    credit_hold: str = ""  # why collections holds the customer's credit (otc.registry.credit_holds), or ""

    @property
    def total(self) -> Decimal:
        return self.open_ar + self.contract_first_year

    def as_dict(self) -> dict[str, str]:
        return {
            "currency": self.currency, "credit_limit": str(self.credit_limit), "open_ar": str(self.open_ar),
            "overdue": str(self.overdue), "contract_first_year": str(self.contract_first_year),
            "total": str(self.total), "unconverted": list(self.unconverted),
            "contract_converted": self.contract_converted, "credit_hold": self.credit_hold,
        }


@dataclass(frozen=True)
class Context:
    version: ContractVersion
    lines: list[ContractLine]
    customer: Customer
    policy: FinancePolicy
    values: ContractValues
    exposure: Exposure
    today: dt.date
    # The total contract value in the entity's functional currency, which the policy thresholds
    # are in; None when no FX rate converts the contract currency (the value rule says so).
    entity_currency: str = ""
    entity_total: Decimal | None = None

    @property
    def tier_total(self) -> Decimal:
        """The value compared with the approval thresholds: in the entity's currency when it
        converts, else the contract currency's number (a high finding then asks for the rate)."""
        return self.values.total if self.entity_total is None else self.entity_total


@dataclass(frozen=True)
class Evaluation:
    values: ContractValues
    findings: list[FindingResult]
    required_levels: int
    highest_severity: str
    exposure: Exposure


def policy_for(legal_entity_id: int) -> FinancePolicy:
    """The entity's finance policy; an entity without one gets the defaults (saved, so a
    Controller can then edit it)."""
    policy, _ = FinancePolicy.objects.get_or_create(legal_entity_id=legal_entity_id)
    return policy


def _convert(amount: Decimal, from_currency: str, to_currency: str, on: dt.date) -> Decimal:
    return quantize(amount * fx_rate_for(from_currency=from_currency, to_currency=to_currency, on=on), to_currency)


def customer_exposure(*, customer: Customer, contract_currency: str, first_year: Decimal, on: dt.date,
                      legal_entity_id: int | None = None) -> Exposure:
    target = customer.default_currency
    open_ar = overdue = ZERO
    missing = []
    for row in customer_balance(customer_id=customer.id, on=on):
        try:
            open_ar += _convert(row["balance"], row["currency"], target, on)
            overdue += _convert(row["overdue"], row["currency"], target, on)
        except DomainError:
            missing.append(row["currency"])
    converted = True
    try:
        contract_part = _convert(first_year, contract_currency, target, on)
    except DomainError:
        # Never add an amount in another currency to the total: leave it out and say so.
        contract_part, converted = ZERO, False
        if contract_currency not in missing:
            missing.append(contract_currency)
    hold = credit_holds(customer_ids=[customer.id], legal_entity_id=legal_entity_id).get(customer.id, "")  # in the entity
    return Exposure(currency=target, credit_limit=customer.credit_limit, open_ar=open_ar, overdue=overdue,
                    contract_first_year=contract_part, unconverted=tuple(missing), contract_converted=converted,
                    credit_hold=hold)


def required_levels(*, total: Decimal, findings: list[FindingResult], policy: FinancePolicy, overridden: bool) -> int:
    """1 = Contract Reviewer; 2 = + Finance Manager; 3 = + Controller. Value tiers from the
    policy (`total` in the entity's functional currency, as the thresholds are; a value equal
    to a threshold stays within it); a high finding needs a manager; an overridden blocking
    finding needs the Controller. A blocking finding that is not overridden prevents approval
    altogether (the workflow refuses), so it does not change the chain."""
    levels = 1
    if total > policy.reviewer_max_value or any(f.severity == "high" for f in findings):
        levels = 2
    if total > policy.manager_max_value or (overridden and any(f.severity == "blocking" for f in findings)):
        levels = 3
    return levels


def evaluate(version: ContractVersion, *, today: dt.date | None = None,
             policy: FinancePolicy | None = None) -> Evaluation:
    """`policy`: the entity's finance policy when the caller has read it already (`policy_for`)."""
    from .risk_rules import RULES

    today = today or dates.today()
    lines = list(version.lines.select_related("product"))
    contract = version.contract
    values = contract_values(version, lines)
    policy = policy or policy_for(contract.legal_entity_id)
    exposure = customer_exposure(customer=contract.customer, contract_currency=version.currency,
                                 first_year=values.first_year, on=today, legal_entity_id=contract.legal_entity_id)
    entity_currency = contract.legal_entity.functional_currency
    try:
        entity_total: Decimal | None = _convert(values.total, version.currency, entity_currency, today)
    except DomainError:
        entity_total = None
    context = Context(version=version, lines=lines, customer=contract.customer, policy=policy, values=values,
                      exposure=exposure, today=today, entity_currency=entity_currency, entity_total=entity_total)
    findings = [finding for rule in RULES for finding in rule(context)]
    findings.sort(key=lambda f: -SEVERITY_RANK[f.severity])  # stable: rules keep their order within a severity
    highest = findings[0].severity if findings else "info"
    levels = required_levels(total=context.tier_total, findings=findings, policy=policy,
                             overridden=bool(version.override_by_id))
    return Evaluation(values=values, findings=findings, required_levels=levels, highest_severity=highest,
                      exposure=exposure)


@transaction.atomic
def contract_assess(*, version_id: int, today: dt.date | None = None) -> Assessment:
    """Assess a version and store the result with it (called by the workflow services)."""
    version = ContractVersion.objects.select_related("contract__customer", "contract__legal_entity").get(pk=version_id)
    policy = policy_for(version.contract.legal_entity_id)
    result = evaluate(version, today=today, policy=policy)
    snapshot = {k: str(v) if isinstance(v, Decimal) else v for k, v in model_to_dict(policy).items()}
    assessment = Assessment.objects.create(
        version=version, contract_value=result.values.total, annual_value=result.values.first_year,
        highest_severity=result.highest_severity, required_levels=result.required_levels,
        policy_snapshot=snapshot, exposure=result.exposure.as_dict(),
    )
    Finding.objects.bulk_create([
        Finding(assessment=assessment, rule=f.rule, severity=f.severity, explanation=f.explanation,
                mitigation=f.mitigation, data=f.data)
        for f in result.findings
    ])
    return assessment


def latest_assessment(version: ContractVersion) -> Assessment | None:
    return version.assessments.prefetch_related("findings").first()
