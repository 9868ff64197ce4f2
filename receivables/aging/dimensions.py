"""The ways to group the aging (customer, corporate group, country, risk, sales rep, currency,
legal entity); higher apps add theirs with `register_dimension` in their AppConfig.ready()."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db.models import F
from django.db.models.functions import Coalesce

from customers.models import Customer
from ledger.models import LegalEntity
from otc.models import User


@dataclass(frozen=True)
class Dimension:
    """A way to group the aging. `key(prefix)` is the SQL expression over an open item (reached
    through `prefix`); `labels(keys)` names the keys in one query."""

    name: str
    title: str
    key: Callable[[str], Any]
    labels: Callable[[set], dict[Any, dict[str, Any]]]
    # False when the grouping reads something the books stamp does not see (e.g. collections'
    # placements): such a report is computed each time, never served from the cache nor read
    # from a snapshot. A cacheable key must be a function of the item's customer, currency or
    # entity: a snapshot line has only those (`key("")` is evaluated over snapshot lines).
    cacheable: bool = True


def _customer_labels(keys: set) -> dict[Any, dict[str, Any]]:
    rows = Customer.objects.filter(pk__in=keys).values_list(
        "pk", "account_number", "legal_name", "display_name", "credit_limit", "default_currency")
    return {pk: {"label": display or name, "number": number, "customer_id": pk, "credit_limit": limit,
                 "credit_currency": limit_currency}
            for pk, number, name, display, limit, limit_currency in rows}


def _user_labels(keys: set) -> dict[Any, dict[str, Any]]:
    users = User.objects.filter(pk__in={k for k in keys if k}).values_list("pk", "first_name", "last_name", "username")
    out: dict[Any, dict[str, Any]] = {pk: {"label": f"{first} {last}".strip() or username} for pk, first, last, username in users}
    out[None] = {"label": "(no sales rep)"}
    return out


def _choice_labels(choices: dict[str, str]) -> Callable[[set], dict[Any, dict[str, Any]]]:
    return lambda keys: {k: {"label": choices.get(k, k or "(none)")} for k in keys}


def _country_labels(keys: set) -> dict[Any, dict[str, Any]]:
    from otc.countries import country_choices

    names = dict(country_choices())
    return {k: {"label": f"{names.get(k, k)} ({k})"} for k in keys}


DIMENSIONS: dict[str, Dimension] = {}


def register_dimension(dimension: Dimension) -> None:
    """Higher apps add groupings here in their AppConfig.ready() (collections adds "collector")."""
    DIMENSIONS[dimension.name] = dimension


register_dimension(Dimension("customer", "Customer", lambda p: F(f"{p}customer_id"), _customer_labels))
register_dimension(Dimension("group", "Corporate group",
                             lambda p: Coalesce(F(f"{p}customer__parent_id"), F(f"{p}customer_id")), _customer_labels))
register_dimension(Dimension("country", "Country", lambda p: F(f"{p}customer__country"), _country_labels))
register_dimension(Dimension("risk", "Risk rating", lambda p: F(f"{p}customer__risk_rating"),
                             _choice_labels(dict(Customer.RiskRating.choices))))
register_dimension(Dimension("sales_rep", "Sales rep", lambda p: F(f"{p}customer__sales_owner_id"), _user_labels))
register_dimension(Dimension("currency", "Currency", lambda p: F(f"{p}currency"), lambda keys: {k: {"label": k} for k in keys}))
register_dimension(Dimension("entity", "Legal entity", lambda p: F(f"{p}legal_entity_id"),
                             lambda keys: {pk: {"label": str(e)} for pk, e in LegalEntity.objects.in_bulk(keys).items()}))
