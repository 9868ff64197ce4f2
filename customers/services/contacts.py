"""Writes to customer contacts. Any role with the contact permission may maintain the contacts
of a customer it can see (collectors keep AP contacts current without changing the account)."""

from __future__ import annotations

from django.db import transaction

from otc.errors import NotFound, PermissionDenied
from otc.history import history_stamp
from otc.models import User
from otc.validation import raise_if_errors

from ..models import Contact, Customer
from .fields import contact_errors


def _visible_customer(customer_id: int, by: User) -> Customer:
    customer = Customer.objects.filter(pk=customer_id).first()
    if customer is None or not by.has_perm("customers.access_customer", customer):
        raise NotFound("No such customer.")
    return customer


def _locked_contact(contact_id: int, by: User, perm: str, verb: str) -> Contact:
    contact = Contact.objects.select_for_update(of=("self",)).filter(pk=contact_id).first()
    if contact is None:
        raise NotFound("No such contact.")
    _visible_customer(contact.customer_id, by)
    if not by.has_perm(perm):
        raise PermissionDenied(f"Your role may not {verb} contacts.")
    return contact


@transaction.atomic(durable=True)
def contact_create(*, customer_id: int, data: dict, by: User) -> Contact:
    customer = _visible_customer(customer_id, by)
    if not by.has_perm("customers.add_contact"):
        raise PermissionDenied("Your role may not add contacts.")
    contact = Contact(customer=customer)
    raise_if_errors(contact_errors(contact, data), model=Contact)
    history_stamp(contact, by=by, reason="created")
    contact.save()
    return contact


@transaction.atomic(durable=True)
def contact_update(*, contact_id: int, data: dict, by: User, reason: str = "") -> Contact:
    contact = _locked_contact(contact_id, by, "customers.change_contact", "change")
    raise_if_errors(contact_errors(contact, data), model=Contact)
    history_stamp(contact, by=by, reason=reason)
    contact.save()
    return contact


@transaction.atomic(durable=True)
def contact_delete(*, contact_id: int, by: User, reason: str = "") -> None:
    contact = _locked_contact(contact_id, by, "customers.delete_contact", "delete")
    history_stamp(contact, by=by, reason=reason or "deleted")
    contact.delete()
