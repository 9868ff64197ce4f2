"""Kernel services: counters, approval limits, state transitions, API clients."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Q

from otc.history import history_stamp

from .bulk import bulk_insert_columns, bulk_insert_values, increment_or_create
from .dates import now
from .errors import InvalidTransition, PermissionDenied, ValidationFailed
from .models import ApiClient, ApprovalLimit, Counter, StatusChange, User
from .money import ZERO, validate_currency
from .scopes import SCOPES

INTEGRATION_ROLE = "Integration"


# --- counters -------------------------------------------------------------------------------

def counter_next(*, name: str, count: int = 1) -> list[int]:
    """Reserve `count` consecutive values of a named counter under a row lock."""
    last = increment_or_create(Counter, "value", count, name=name)  # the UPDATE locks the row
    return list(range(last - count + 1, last + 1))


# --- approval limits ------------------------------------------------------------------------

def approval_limit(*, user: User, kind: str, currency: str, legal_entity_id: int | None = None) -> Decimal:
    """The most `user` may approve of `kind` in `currency`.

    A limit set on the user wins over the user's roles; a limit for the legal entity wins over
    a company-wide one. Without any configured limit the answer is zero: nothing is approvable.
    """
    currency = validate_currency(currency)
    rows = ApprovalLimit.objects.filter(kind=kind, currency=currency).filter(
        Q(legal_entity_id=legal_entity_id) | Q(legal_entity__isnull=True)
    )
    personal = rows.filter(user=user)
    by_role = rows.filter(role__in=user.groups.all())
    for scoped in (personal, by_role):
        if legal_entity_id is not None:
            specific = [r.max_amount for r in scoped if r.legal_entity_id == legal_entity_id]
            if specific:
                return max(specific)
        general = [r.max_amount for r in scoped if r.legal_entity_id is None]
        if general:
            return max(general)
    return ZERO


# --- state machines -------------------------------------------------------------------------

def ensure_transition(obj: Any, *, to: str, field: str = "status") -> None:
    """Refuse a transition that the model's TRANSITIONS map does not allow."""
    current = getattr(obj, field)
    allowed = obj.TRANSITIONS.get(current, ())
    if to not in allowed:
        label = obj._meta.verbose_name
        raise InvalidTransition(f"A {label} that is {current} cannot become {to}.")


def status_move(obj: Any, *, to: str, by: User | None, note: str = "", field: str = "status",
                update_fields: tuple[str, ...] | list[str] = ()) -> bool:
    """The one way a status moves: refuse what the model's TRANSITIONS map does not allow, then
    save the new state (with `update_fields`, and `updated_at` when the model has it) and record
    the status-change row. Staying in the same state saves the other fields and records nothing.
    Returns whether the state changed."""
    before = getattr(obj, field)
    changed = to != before
    if changed:
        ensure_transition(obj, to=to, field=field)
        setattr(obj, field, to)
    fields = list(dict.fromkeys([*update_fields, field]))
    if any(f.name == "updated_at" for f in obj._meta.concrete_fields) and "updated_at" not in fields:
        fields.append("updated_at")
    obj.save(update_fields=fields)
    if changed:
        record_status_change(obj, by=by, from_state=before, field=field, note=note)
    return changed


def text_within(text: str | None, *, limit: int, what: str = "The note", field: str = "note") -> str:
    """An optional free text, stripped; refused (never cut) when longer than `limit` characters."""
    text = (text or "").strip()
    if len(text) > limit:
        raise ValidationFailed(f"{what} may be at most {limit:,} characters; it has {len(text):,}.",
                               fields={field: [f"at most {limit} characters"]})
    return text


def record_status_change(obj: Any, *, by: User | None, from_state: str, field: str = "status", note: str = "") -> StatusChange:
    return StatusChange.objects.create(
        content_type=ContentType.objects.get_for_model(obj.__class__),
        object_id=obj.pk,
        field=field,
        from_state=from_state or "",
        to_state=getattr(obj, field),
        by=by,
        note=note,
    )


def record_status_changes(objs: list[Any], *, by: User | None, from_state: str, field: str = "status",
                          note: str = "") -> None:
    """`record_status_change` for many objects of one model in one insert (batch services)."""
    if not objs:
        return
    content_type_id = ContentType.objects.get_for_model(objs[0].__class__).pk
    constants = {"content_type_id": content_type_id, "field": field, "from_state": from_state or "",
                 "by_id": by.pk if by is not None else None, "at": now(), "note": note}
    columns: dict[str, Sequence[Any]] = {"object_id": [obj.pk for obj in objs]}
    states = [getattr(obj, field) for obj in objs]
    if len(set(states)) == 1:
        constants["to_state"] = states[0]  # a batch moves its objects to one state
    else:
        columns["to_state"] = states
    # On PostgreSQL one INSERT ... SELECT FROM unnest(keys): the database builds the rows.
    bulk_insert_columns(StatusChange, constants, columns)


# --- API clients ----------------------------------------------------------------------------

def _hash_key(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def api_client_authenticate(raw_key: str) -> ApiClient | None:
    """Find the active client for a raw token `otc_<prefix>_<secret>`; None when unknown."""
    parts = raw_key.split("_", 2)  # the secret part is url-safe base64 and may itself contain "_"
    if len(parts) != 3 or parts[0] != "otc" or not parts[1] or not parts[2]:
        return None
    client = ApiClient.objects.select_related("user").filter(key_prefix=parts[1]).first()
    if client is None or not secrets.compare_digest(client.key_hash, _hash_key(raw_key)):
        return None
    return client


@transaction.atomic(durable=True)
def api_client_create(*, name: str, scopes: list[str], by: User, throttle_rate: str = "") -> tuple[ApiClient, str]:
    """Create an integration client and its user; return the client and the raw token, which
    is shown once and never stored."""
    if not by.is_superuser and not by.has_perm("otc.add_apiclient"):
        raise PermissionDenied("Only an administrator may create API clients.")
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown:
        raise ValidationFailed(f"Unknown scope(s): {', '.join(unknown)}.", fields={"scopes": unknown})
    if ApiClient.objects.filter(name=name).exists():
        raise ValidationFailed(f"An API client named {name!r} already exists.", fields={"name": ["duplicate"]})
    username = "api-" + "".join(c if c.isalnum() else "-" for c in name.lower())[:100]
    user = User.objects.create(username=username, kind=User.Kind.INTEGRATION, first_name=name[:150])
    user.set_unusable_password()
    user.save(update_fields=["password"])
    group, _ = Group.objects.get_or_create(name=INTEGRATION_ROLE)
    user.groups.add(group)
    prefix = secrets.token_hex(4)
    raw = f"otc_{prefix}_{secrets.token_urlsafe(32)}"
    client = ApiClient.objects.create(
        name=name, user=user, scopes=sorted(set(scopes)), key_prefix=prefix, key_hash=_hash_key(raw),
        created_by=by, throttle_rate=throttle_rate,
    )
    return client, raw


@transaction.atomic(durable=True)
def api_client_revoke(*, client_id: int, by: User) -> ApiClient:
    if not by.is_superuser and not by.has_perm("otc.change_apiclient"):
        raise PermissionDenied("Only an administrator may revoke API clients.")
    client = ApiClient.objects.select_for_update().get(pk=client_id)
    if client.revoked_at is None:
        client.revoked_at, client.revoked_by = now(), by
        client.save(update_fields=["revoked_at", "revoked_by"])
        User.objects.filter(pk=client.user_id).update(is_active=False)
    return client


# --- approval limits (configuration a Controller keeps) -------------------------------------

def _ensure_limit_permission(by: User, perm: str) -> None:
    if not by.has_perm(perm):
        raise PermissionDenied("Only a Controller may change approval limits.")


@transaction.atomic(durable=True)
def approval_limit_save(*, by: User, data: dict[str, Any], limit_id: int | None = None) -> ApprovalLimit:
    """Create (limit_id None) or change an approval limit. `data`: kind, legal_entity, role or
    user (exactly one), currency, max_amount (Decimal)."""
    _ensure_limit_permission(by, "otc.change_approvallimit" if limit_id else "otc.add_approvallimit")
    limit = ApprovalLimit.objects.select_for_update().get(pk=limit_id) if limit_id else ApprovalLimit()
    for field in ("kind", "legal_entity", "role", "user", "currency", "max_amount"):
        setattr(limit, field, data.get(field))
    if (limit.role is None) == (limit.user is None):
        raise ValidationFailed("Set the limit for a role or for one person, not both.", fields={"role": ["role or user"]})
    if isinstance(limit.max_amount, float) or limit.max_amount is None or limit.max_amount < 0:
        raise ValidationFailed("The maximum must be a non-negative amount.", fields={"max_amount": ["invalid"]})
    limit.currency = validate_currency(limit.currency)
    duplicate = ApprovalLimit.objects.filter(
        kind=limit.kind, legal_entity=limit.legal_entity, role=limit.role, user=limit.user, currency=limit.currency
    ).exclude(pk=limit.pk)
    if duplicate.exists():
        raise ValidationFailed("A limit for this kind, entity, holder and currency already exists: change that one.")
    history_stamp(limit, reason=data.get("reason", ""))
    limit.save()
    return limit


@transaction.atomic(durable=True)
def approval_limit_delete(*, by: User, limit_id: int) -> None:
    _ensure_limit_permission(by, "otc.delete_approvallimit")
    ApprovalLimit.objects.select_for_update().get(pk=limit_id).delete()


# --- outbox ---------------------------------------------------------------------------------

def outbox_emit(*, topic: str, subject_type: str, subject_id: int, payload: dict[str, Any]) -> None:
    """Record a webhook-ready event in the caller's transaction (so it exists iff the change does)."""
    from .models import OutboxEvent

    OutboxEvent.objects.create(topic=topic, subject_type=subject_type, subject_id=subject_id, payload=payload)


def outbox_emit_many(*, topic: str, subject_type: str, events: list[tuple[int, dict[str, Any]]]) -> None:
    """`outbox_emit` for many subjects in one insert: `events` are (subject id, payload) pairs."""
    from .models import OutboxEvent

    stamp = now()
    bulk_insert_values(OutboxEvent, ["topic", "subject_type", "subject_id", "payload", "created_at"],
                       [(topic, subject_type, subject_id, payload, stamp) for subject_id, payload in events])
