"""Writes to the customer master file: create, update and the CRM upsert.

Each entry point owns its transaction, checks the caller's permission (including the
object rule `customers.edit_customer` for an existing record), validates with the model's
rules (`full_clean`), locks what it changes and records who changed what and why in the
history (simple_history)."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction

from otc.errors import NotFound, PermissionDenied, ValidationFailed
from otc.history import history_stamp
from otc.models import User
from otc.services import counter_next, outbox_emit
from otc.validation import raise_if_errors

from ..models import Contact, Customer
from .fields import FINANCE_FIELDS, contact_errors, customer_errors, finance_field_changes

MAX_CONTACTS = 100  # per create, update or upsert: thousands of contacts in one request is a client bug


def lock_customers(ids: list[int]) -> list[Customer]:
    """Lock customers in primary-key order (one order everywhere avoids deadlocks)."""
    return list(Customer.objects.filter(pk__in=ids).order_by("pk").select_for_update(of=("self",)))


def next_account_number() -> str:
    return f"C{100000 + counter_next(name='customer')[0]}"


def _ensure_may_edit(customer: Customer, by: User) -> None:
    if not by.has_perm("customers.access_customer", customer):
        raise NotFound("No such customer.")
    if not by.has_perm("customers.edit_customer", customer):
        raise PermissionDenied(f"You may not change customer {customer.account_number}.")


def _split_contacts(data: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]] | None]:
    data = dict(data)
    contacts = data.pop("contacts", None)
    if contacts is not None and len(contacts) > MAX_CONTACTS:
        raise_if_errors({"contacts": [f"At most {MAX_CONTACTS} contacts per request ({len(contacts)} sent)."]}, model=Customer)
    return data, contacts


def _without_finance_fields(customer: Customer, fields: dict[str, Any], by: User) -> dict[str, Any]:
    """Integrations never write finance-controlled fields: unchanged values are dropped, a
    change is refused naming the fields (nothing is written)."""
    if not by.is_integration:
        return fields
    changed = finance_field_changes(customer, fields)
    if changed:
        raise ValidationFailed(
            f"{', '.join(changed)} {'is' if len(changed) == 1 else 'are'} controlled by finance and read-only for "
            "integrations; send the current value or leave the field out.",
            fields={name: ["Controlled by finance: read-only for integrations."] for name in changed},
            code="finance_controlled",
        )
    return {name: value for name, value in fields.items() if name not in FINANCE_FIELDS}


def _sync_contacts(customer: Customer, contacts: list[dict[str, Any]], *, by: User, reason: str) -> None:
    """Create or update contacts given with a customer. A contact matches an existing one by
    e-mail (case-insensitive), else by name; contacts not mentioned are left alone."""
    existing = list(customer.contacts.all()) if customer.pk else []
    errors: dict[str, list[str]] = {}
    pending: list[Contact] = []
    for index, item in enumerate(contacts):
        email = str(item.get("email") or "").strip().lower()
        name = str(item.get("name") or "").strip().lower()
        match = next((c for c in existing if email and c.email.lower() == email), None) or next(
            (c for c in existing if not email and c.name.lower() == name), None
        )
        contact = match or Contact(customer=customer)
        for field, messages in contact_errors(contact, item).items():
            errors[f"contacts[{index}].{field}"] = messages
        pending.append(contact)
    raise_if_errors(errors, model=Contact)
    if pending and not by.has_perm("customers.add_contact") and any(c.pk is None for c in pending):
        raise PermissionDenied("Your role may not add contacts.")
    if any(c.pk for c in pending) and not by.has_perm("customers.change_contact"):
        raise PermissionDenied("Your role may not change contacts.")
    for contact in pending:
        contact.customer = customer
        history_stamp(contact, by=by, reason=reason)
        contact.save()


def _save(customer: Customer, *, by: User, reason: str) -> None:
    history_stamp(customer, by=by, reason=reason)
    customer.save()


@transaction.atomic(durable=True)
def customer_create(*, data: dict, by: User) -> Customer:
    """Create a customer with a generated account number (C100001, C100002...). `data` holds
    editable fields and optionally `contacts`: a list of contact dicts."""
    if not by.has_perm("customers.add_customer"):
        raise PermissionDenied("Your role may not create customers.")
    return _create(data=data, by=by, reason="created")


def _create(*, data: dict, by: User, reason: str) -> Customer:
    fields, contacts = _split_contacts(data)
    fields = _without_finance_fields(Customer(), fields, by)
    customer = Customer(account_number=next_account_number())
    raise_if_errors(customer_errors(customer, fields), model=Customer)
    _save(customer, by=by, reason=reason)
    if contacts:
        _sync_contacts(customer, contacts, by=by, reason=reason)
    _emit("customer.created", customer)
    return customer


def _emit(topic: str, customer: Customer) -> None:
    """The webhook-ready event (customer.created / customer.updated), in the changing transaction."""
    outbox_emit(topic=topic, subject_type="customer", subject_id=customer.pk, payload=customer_event_payload(customer))


def customer_event_payload(customer: Customer) -> dict[str, Any]:
    return {"id": customer.pk, "account_number": customer.account_number, "external_crm_id": customer.external_crm_id,
            "name": customer.name, "status": customer.status}


@transaction.atomic(durable=True)
def customer_update(*, customer_id: int, data: dict, by: User, reason: str = "") -> Customer:
    """Change the given fields of one customer (others keep their values)."""
    return _update(customer_id=customer_id, data=data, by=by, reason=reason)


def _update(*, customer_id: int, data: dict, by: User, reason: str) -> Customer:
    if not by.has_perm("customers.view_customer"):
        raise PermissionDenied("Your role may not change customers.")
    locked = lock_customers([customer_id])
    if not locked:
        raise NotFound("No such customer.")
    customer = locked[0]
    _ensure_may_edit(customer, by)
    fields, contacts = _split_contacts(data)
    fields = _without_finance_fields(customer, fields, by)
    raise_if_errors(customer_errors(customer, fields), model=Customer)
    _save(customer, by=by, reason=reason)
    if contacts:
        _sync_contacts(customer, contacts, by=by, reason=reason)
    _emit("customer.updated", customer)
    return customer


@transaction.atomic(durable=True)
def customer_upsert_by_crm_id(*, external_crm_id: str, data: dict, by: User) -> tuple[Customer, bool]:
    """Create the customer the CRM knows as `external_crm_id`, or update it when it exists.
    Returns (customer, created). Safe when two calls race: the unique CRM id decides, and the
    loser updates the row the winner created."""
    crm_id = str(external_crm_id or "").strip()
    if not crm_id:
        raise_if_errors({"external_crm_id": ["Enter the CRM id."]}, model=Customer)
    data = {**data, "external_crm_id": crm_id}
    reason = "CRM upsert"
    existing = Customer.objects.filter(external_crm_id=crm_id).values_list("pk", flat=True).first()
    if existing is None:
        if not by.has_perm("customers.add_customer"):
            raise PermissionDenied("Your role may not create customers.")
        try:
            with transaction.atomic():
                return _create(data=data, by=by, reason=reason), True
        except (IntegrityError, ValidationFailed):
            # Another call created this CRM id meanwhile (seen by the unique check or by the
            # unique index): update that row. Any other problem is re-raised.
            existing = Customer.objects.filter(external_crm_id=crm_id).values_list("pk", flat=True).first()
            if existing is None:
                raise
    return _update(customer_id=existing, data=data, by=by, reason=reason), False
