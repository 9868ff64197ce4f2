"""The review page's "Terms against the finance policy" table takes each row's state from the
stored findings (one source of truth), so it cannot disagree with them."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.urls import reverse

from contracts.assessment import contract_assess
from contracts.models import Finding
from contracts.selectors_terms import ROW_RULES, row_states
from tests.factories.contracts import ContractLineFactory, ContractVersionFactory, FinancePolicyFactory
from tests.factories.otc import user_with_role

pytestmark = pytest.mark.django_db


def _states(client, version) -> dict[str, str]:
    client.force_login(user_with_role("Contract Reviewer"))
    page = client.get(reverse("contracts:detail", args=[version.contract_id])).content.decode()
    table = page[page.index('data-testid="terms"'):]
    table = table[:table.index("</table>")]
    states = {}
    for row in re.findall(r"<tr>(.*?)</tr>", table, flags=re.S)[1:]:
        term = re.search(r"<td>(.*?)</td>", row).group(1)
        badge = re.search(r"status-(\w+)", row)
        states[term] = badge.group(1) if badge else ("ok" if "within policy" in row else "not assessed")
    return states


def _version(today, *, assess=True, **terms):
    today(dt.date(2026, 1, 1))
    customer_terms = {k: terms.pop(k) for k in ("risk_rating",) if k in terms}
    policy_terms = {k: terms.pop(k) for k in ("allowed_currencies", "max_free_periods") if k in terms}
    version = ContractVersionFactory(**terms)
    if customer_terms:
        for key, value in customer_terms.items():
            setattr(version.contract.customer, key, value)
        version.contract.customer.save()
    FinancePolicyFactory(legal_entity=version.contract.legal_entity, **policy_terms)
    ContractLineFactory(version=version)
    if assess:
        contract_assess(version_id=version.id)
    return version


def _finding_severity(version, rule: str) -> str:
    return version.assessments.get().findings.get(rule=rule).severity


def test_free_periods_over_the_maximum_are_high_as_the_finding(client, today):
    version = _version(today, free_periods=3, max_free_periods=1)

    assert _finding_severity(version, "free_periods") == "high"
    assert _states(client, version)["Free periods"] == "high"  # was "warning"


def test_a_currency_not_allowed_is_blocking_as_the_finding(client, today):
    version = _version(today, currency="CHF", allowed_currencies=["EUR"])

    assert _finding_severity(version, "currency_not_allowed") == "blocking"
    assert _states(client, version)["Currency"] == "blocking"  # was "high"


def test_a_missing_high_risk_prepayment_is_blocking_and_the_rating_alone_is_not_a_prepayment_problem(client, today):
    short = _version(today, risk_rating="high", prepayment_percent=Decimal("10"))
    enough = _version(today, risk_rating="high", prepayment_percent=Decimal("25"))

    assert _finding_severity(short, "customer_risk") == "blocking"
    assert _states(client, short)["Prepayment"] == "blocking"  # was "high"
    assert _finding_severity(enough, "customer_risk") == "high"  # the rating, not the prepayment
    assert _states(client, enough)["Prepayment"] == "ok"


def test_within_policy_every_row_is_ok_and_a_version_never_assessed_says_so(client, today):
    assessed = _version(today)
    assert set(_states(client, assessed).values()) == {"ok"}

    never = _version(today, assess=False)
    assert set(_states(client, never).values()) == {"not assessed"}


def test_each_row_takes_the_highest_severity_of_its_rules():
    findings = [Finding(rule="currency_fx", severity="info"), Finding(rule="currency_not_allowed", severity="blocking"),
                Finding(rule="payment_terms", severity="warning"),
                Finding(rule="customer_risk", severity="high", data={"rating": "high"})]

    states = row_states(findings)

    assert (states["Currency"], states["Payment terms"], states["Prepayment"], states["PO number"]) == (
        "blocking", "warning", "ok", "ok")
    assert row_states(None) == dict.fromkeys(ROW_RULES)
