"""The finance policy page: every legal entity's policy side by side (read with
`contracts.view_financepolicy`), and the edit form for Controllers (`contracts.manage_finance_policy`).
A GET never writes: an entity without a saved policy shows the defaults until a Controller saves."""

from __future__ import annotations

import ast
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from ledger.models import LegalEntity
from otc.actions import service_on_form
from otc.history import history_rows

from ..forms_policy import FinancePolicyForm
from ..models import FinancePolicy
from ..policy_services import finance_policy_update
from ..risk_rules import pct, plural

# (label, attribute, kind) rows of the side-by-side table.
POLICY_ROWS: list[tuple[str, str, str]] = [
    ("Standard payment terms", "standard_payment_terms_days", "net"),
    ("Maximum payment terms", "max_payment_terms_days", "net"),
    ("Maximum combined discount", "max_discount_percent", "percent"),
    ("Reviewer approves alone up to", "reviewer_max_value", "money"),
    ("Finance Manager approves up to", "manager_max_value", "money"),
    ("Allowed currencies", "allowed_currencies", "currencies"),
    ("High-risk customers must prepay", "high_risk_requires_prepayment", "bool"),
    ("Minimum prepayment (high risk)", "high_risk_min_prepayment_percent", "percent"),
    ("Credit warning above", "credit_warning_percent", "percent_limit"),
    ("Maximum free periods", "max_free_periods", "int"),
    ("Minimum renewal notice", "min_renewal_notice_days", "days"),
    ("Longest period billed in arrears", "arrears_max_months", "months"),
    ("Maximum backdating", "max_backdating_days", "days"),
]


def _display(kind: str, value: Any) -> str:
    if kind == "net":
        return f"Net {value}"
    if kind == "percent":
        return pct(value)
    if kind == "percent_limit":
        return f"{pct(value)} of the limit"
    if kind == "currencies":
        return ", ".join(value) if value else "any"
    if kind == "bool":
        return "yes" if value else "no"
    if kind == "days":
        return plural(value, "day")
    if kind == "months":
        return plural(value, "month")
    return str(value)


def _policies() -> list[dict[str, Any]]:
    """Each entity with its saved policy, or an unsaved one with the defaults."""
    entities = list(LegalEntity.objects.order_by("code"))
    saved = {p.legal_entity_id: p for p in FinancePolicy.objects.filter(legal_entity__in=entities)}
    out = []
    for entity in entities:
        policy = saved.get(entity.pk)
        out.append({"entity": entity, "policy": policy or FinancePolicy(legal_entity=entity), "saved": policy is not None})
    return out


def _readable(value: str) -> str:
    """A JSON list as history stores it ("['EUR', 'USD']") -> "EUR, USD"."""
    if value.startswith("["):
        try:
            items = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            return value
        return ", ".join(map(str, items)) or "any"
    return value


def policy_history(policy: FinancePolicy, limit: int = 50) -> list[dict[str, Any]]:
    """The policy's history in the page's words, without the 'updated at' every save carries."""
    labels = {str(FinancePolicy._meta.get_field(attr).verbose_name): label for label, attr, _ in POLICY_ROWS}
    rows = history_rows(policy, limit=limit)
    for row in rows:
        row["changes"] = [(labels.get(name, name), _readable(old), _readable(new))
                          for name, old, new in row["changes"] if name != "updated at"]
    return rows


def _show_history(request: HttpRequest) -> bool:
    return request.user.has_perm("otc.view_audit_trail")


@login_required
@permission_required("contracts.view_financepolicy", raise_exception=True)
def policy_list(request: HttpRequest) -> HttpResponse:
    columns = _policies()
    rows = [{"label": label, "kind": kind,
             "cells": [{"value": getattr(c["policy"], attr), "currency": c["entity"].functional_currency,
                        "display": _display(kind, getattr(c["policy"], attr))} for c in columns]}
            for label, attr, kind in POLICY_ROWS]
    histories = []
    if _show_history(request):
        histories = [{"entity": c["entity"], "rows": policy_history(c["policy"], limit=10)} for c in columns if c["saved"]]
    return render(request, "contracts/policy_list.html", {
        "columns": columns, "rows": rows, "histories": histories,
        "can_edit": request.user.has_perm("contracts.manage_finance_policy"),
    })


@login_required
@permission_required("contracts.manage_finance_policy", raise_exception=True)
@require_http_methods(["GET", "POST"])
def policy_edit(request: HttpRequest, entity_pk: int) -> HttpResponse:
    entity = get_object_or_404(LegalEntity, pk=entity_pk)
    policy = FinancePolicy.objects.filter(legal_entity=entity).first()
    current = policy or FinancePolicy(legal_entity=entity)
    form = FinancePolicyForm(request.POST or None, policy=current, currency=entity.functional_currency)
    if request.method == "POST" and form.is_valid():
        data = {**form.cleaned_data}
        if service_on_form(form, lambda: finance_policy_update(legal_entity_id=entity.pk, data=data,
                                                               by=request.user)) is not None:
            messages.success(request, f"Finance policy of {entity.code} saved.")
            return redirect("contracts:policy")
    history = policy_history(policy) if policy is not None and _show_history(request) else None
    return render(request, "contracts/policy_edit.html", {
        "entity": entity, "form": form, "policy": current, "history": history,
    })
