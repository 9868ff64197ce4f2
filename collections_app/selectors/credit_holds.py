"""Credit holds as others read them (the registry reader), and the overdue position per customer
that the daily task compares with the entity's policy (one aggregate query per entity)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db.models import Min, Q, Sum

from collections_app.models import CreditHold
from ledger.models import Account, OpenItem
from otc.errors import DomainError
from otc.money import ZERO, quantize


def active_holds(*, customer_ids: list[int], legal_entity_id: int | None = None) -> dict[int, str]:
    """The registry reader: {customer id: "On credit hold (ENTITY): reason"} for active holds."""
    rows = CreditHold.objects.filter(customer_id__any=customer_ids, status=CreditHold.Status.ACTIVE)
    if legal_entity_id is not None:
        rows = rows.filter(legal_entity_id=legal_entity_id)
    out: dict[int, str] = {}
    for customer_id, code, reason in rows.order_by("placed_at").values_list("customer_id", "legal_entity__code",
                                                                              "reason"):
        out.setdefault(customer_id, f"on credit hold ({code}): {reason}")
    return out


def overdue_positions(*, legal_entity_id: int, functional: str, as_of: dt.date,
                      customer_ids: list[int] | None = None) -> dict[int, dict[str, Any]]:
    """Customer id -> {"overdue": total overdue in the entity's currency at the as-of rate,
    "oldest_days": days the oldest overdue receivable is past due}; only customers with something
    overdue. Amounts in a currency without a rate are left out and named in "unconverted"."""
    from ledger.services import fx_rate_for

    rows = (OpenItem.objects.filter(legal_entity_id=legal_entity_id, account__role=Account.Role.AR,
                                    original_amount__gt=0, open_amount__gt=0, due_date__lt=as_of)
            .values("customer_id", "currency").annotate(total=Sum("open_amount"), oldest=Min("due_date")).order_by())
    if customer_ids is not None:
        rows = rows.filter(customer_id__in=customer_ids)
    rates: dict[str, Decimal | None] = {}
    out: dict[int, dict[str, Any]] = {}
    for row in rows:
        cur = row["currency"]
        if cur not in rates:
            try:
                rates[cur] = fx_rate_for(from_currency=cur, to_currency=functional, on=as_of)
            except DomainError:
                rates[cur] = None
        pos = out.setdefault(row["customer_id"], {"overdue": ZERO, "oldest_days": 0, "unconverted": []})
        if rates[cur] is None:
            pos["unconverted"].append(cur)
        else:
            pos["overdue"] += quantize(row["total"] * rates[cur], functional)
        pos["oldest_days"] = max(pos["oldest_days"], (as_of - row["oldest"]).days)
    return out


def holds_list(*, status: str = "active") -> Any:
    return (CreditHold.objects.filter(Q(status=status) if status else Q())
            .select_related("customer", "legal_entity", "placed_by", "released_by").order_by("-placed_at", "-id"))
