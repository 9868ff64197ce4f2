"""Portfolios: assignment rules applied in bulk, manual reassignment (an override the rules keep),
release of an override, with a history row per change.

A corporate group is worked by one collector: a subsidiary (a customer with a parent) follows its
parent's collector unless it has a manual assignment of its own.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import OuterRef, Subquery

from customers.models import Customer
from ledger.models import OpenItem
from otc import dates
from otc.errors import PermissionDenied, ValidationFailed
from otc.models import User

from .. import conf_worklist as conf
from ..models import AssignmentRule, CollectorAssignment, CollectorAssignmentChange, CustomerSize

MANAGE = "collections_app.manage_portfolio"
COLLECT = "collections_app.view_worklist"
Source = CollectorAssignment.Source


def _require(by: User, perm: str, what: str) -> None:
    if not by.has_perm(perm):
        raise PermissionDenied(f"You may not {what}.")


def size_of(credit_limit: Decimal | None) -> str:
    limit = credit_limit or Decimal(0)
    if limit < Decimal(conf.get("COLLECTIONS_SIZE_SMALL_BELOW")):
        return CustomerSize.SMALL
    if limit < Decimal(conf.get("COLLECTIONS_SIZE_LARGE_FROM")):
        return CustomerSize.MEDIUM
    return CustomerSize.LARGE


def _check_collector(collector_id: int | None) -> User | None:
    if collector_id is None:
        return None
    user = User.objects.filter(pk=collector_id, is_active=True).first()
    if user is None or not user.has_perm(COLLECT):
        raise ValidationFailed("Choose an active user who works the collections worklist.",
                               fields={"collector": ["not a collector"]})
    return user


@transaction.atomic(durable=True)
def assignment_rule_create(*, by: User, collector_id: int, priority: int = 100, legal_entity_id: int | None = None,
                           country: str = "", size: str = "") -> AssignmentRule:
    _require(by, MANAGE, "edit assignment rules")
    _check_collector(collector_id)
    if size and size not in CustomerSize.values:
        raise ValidationFailed(f"Size is one of {', '.join(CustomerSize.values)}.", fields={"size": ["invalid"]})
    return AssignmentRule.objects.create(priority=priority, legal_entity_id=legal_entity_id,
                                         country=(country or "").upper(), size=size or "", collector_id=collector_id,
                                         created_by=by)


@transaction.atomic(durable=True)
def assignment_rule_deactivate(*, by: User, rule_id: int) -> AssignmentRule:
    _require(by, MANAGE, "edit assignment rules")
    rule = AssignmentRule.objects.select_for_update().get(pk=rule_id)
    rule.is_active = False
    rule.save(update_fields=["is_active"])
    return rule


def _main_entities(customer_ids: list[int] | None) -> Any:
    """Customers with their main legal entity: the entity of their latest open item (one query)."""
    latest = (OpenItem.objects.filter(customer_id=OuterRef("pk"))
              .order_by("-document_date", "-id").values("legal_entity_id")[:1])
    qs = Customer.objects.annotate(main_entity_id=Subquery(latest))
    if customer_ids is not None:
        qs = qs.filter(pk__in=customer_ids)
    return qs.values_list("pk", "parent_id", "country", "credit_limit", "main_entity_id")


def _match(rules: list[AssignmentRule], *, entity_id: int | None, country: str, size: str) -> AssignmentRule | None:
    for rule in rules:
        if rule.legal_entity_id and rule.legal_entity_id != entity_id:
            continue
        if rule.country and rule.country != country:
            continue
        if rule.size and rule.size != size:
            continue
        return rule
    return None


def _write(changes: list[tuple[int, int | None, str, int | None, bool]], current: dict[int, CollectorAssignment],
           *, by: User | None, note: str) -> int:
    """Create or update assignments and their history in bulk; `changes` are (customer, collector,
    source, rule, manual). Unchanged ones are skipped. Returns the number changed."""
    stamp = dates.now()
    new, updated, history = [], [], []
    for customer_id, collector_id, source, rule_id, manual in changes:
        row = current.get(customer_id)
        if row is not None and (row.collector_id, row.source, row.rule_id, row.is_manual) == (
                collector_id, source, rule_id, manual):
            continue
        before = row.collector_id if row is not None else None
        if row is None:
            new.append(CollectorAssignment(customer_id=customer_id, collector_id=collector_id, source=source,
                                           rule_id=rule_id, is_manual=manual, assigned_by=by, assigned_at=stamp))
        else:
            row.collector_id, row.source, row.rule_id, row.is_manual = collector_id, source, rule_id, manual
            row.assigned_by, row.assigned_at = by, stamp
            updated.append(row)
        if before != collector_id or row is None:
            history.append(CollectorAssignmentChange(customer_id=customer_id, from_collector_id=before,
                                                     to_collector_id=collector_id, source=source, rule_id=rule_id,
                                                     note=note[:255], by=by, at=stamp))
    CollectorAssignment.objects.bulk_create(new, batch_size=1000)
    CollectorAssignment.objects.bulk_update(updated, ["collector", "source", "rule", "is_manual", "assigned_by",
                                                      "assigned_at"], batch_size=1000)
    CollectorAssignmentChange.objects.bulk_create(history, batch_size=1000)
    return len(new) + len(updated)


def _locked_current(customer_ids: Iterable[int] | None) -> dict[int, CollectorAssignment]:
    qs = CollectorAssignment.objects.select_for_update().order_by("pk")
    if customer_ids is not None:
        qs = qs.filter(customer_id__in=list(customer_ids))
    return {row.customer_id: row for row in qs}


@transaction.atomic
def portfolio_apply_rules(*, by: User | None, customer_ids: list[int] | None = None,
                          override_manual: bool = False) -> dict[str, int]:
    """Assign every customer (or the given ones) by the active rules, in bulk. Manual assignments
    stay unless `override_manual`; subsidiaries follow their parent. `by=None` is the scheduler."""
    if by is not None:
        _require(by, MANAGE, "apply assignment rules")
    rules = list(AssignmentRule.objects.filter(is_active=True).order_by("priority", "id"))
    rows = list(_main_entities(customer_ids))
    parents = {parent for _, parent, *_ in rows if parent}
    if customer_ids is not None:  # a subsidiary needs its parent's target even when the parent is not asked
        missing = parents - {pk for pk, *_ in rows}
        rows += list(_main_entities(list(missing)))
    current = _locked_current({pk for pk, *_ in rows})
    target: dict[int, tuple[int | None, str, int | None, bool]] = {}
    for pk, _parent, country, limit, entity_id in rows:
        row = current.get(pk)
        if row is not None and row.is_manual and not override_manual:
            target[pk] = (row.collector_id, row.source, row.rule_id, True)
            continue
        rule = _match(rules, entity_id=entity_id, country=country, size=size_of(limit))
        target[pk] = (rule.collector_id if rule else None, Source.RULE, rule.pk if rule else None, False)
    for pk, parent, *_ in rows:
        row = current.get(pk)
        if parent and parent in target and not (row is not None and row.is_manual and not override_manual):
            target[pk] = (target[parent][0], Source.GROUP, target[parent][2], False)
    wanted = set(customer_ids) if customer_ids is not None else set(target)
    changes = [(pk, *target[pk]) for pk in sorted(wanted) if pk in target]
    changed = _write(changes, current, by=by, note="Assignment rules applied")
    return {"customers": len(changes), "changed": changed,
            "unassigned": sum(1 for c in changes if c[1] is None)}


@transaction.atomic(durable=True)
def portfolio_reassign(*, by: User, customer_ids: list[int], collector_id: int | None, note: str = "",
                       include_group: bool = True) -> int:
    """Manual override: the customers (and, by default, their corporate groups' subsidiaries) go to
    the collector; the rules leave them alone until released. Returns the number changed."""
    _require(by, MANAGE, "reassign customers")
    if not customer_ids:
        raise ValidationFailed("Choose at least one customer.", fields={"customers": ["required"]})
    _check_collector(collector_id)
    ids = set(Customer.objects.filter(pk__in=customer_ids).values_list("pk", flat=True))
    if len(ids) != len(set(customer_ids)):
        raise ValidationFailed("A chosen customer does not exist.", fields={"customers": ["unknown"]})
    if include_group:
        ids |= set(Customer.objects.filter(parent_id__in=ids).values_list("pk", flat=True))
    current = _locked_current(ids)
    changes: list[tuple[int, int | None, str, int | None, bool]] = [
        (pk, collector_id, Source.MANUAL, None, True) for pk in sorted(ids)]
    return _write(changes, current, by=by, note=note or "Reassigned")


@transaction.atomic(durable=True)
def portfolio_release_override(*, by: User, customer_ids: list[int]) -> dict[str, int]:
    """Give the customers back to the rules (their manual override ends), and re-apply them."""
    _require(by, MANAGE, "release manual assignments")
    CollectorAssignment.objects.filter(customer_id__in=customer_ids, is_manual=True).update(is_manual=False)
    return portfolio_apply_rules(by=by, customer_ids=list(customer_ids))


def collector_of(customer_id: int) -> int | None:
    return (CollectorAssignment.objects.filter(customer_id=customer_id)
            .values_list("collector_id", flat=True).first())
