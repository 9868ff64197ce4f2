"""Reads of the customer master file."""

from __future__ import annotations

from typing import Any, cast

from django.db.models import Count, Field, Q, QuerySet

from otc.models import User

from .models import Contact, Customer


def customers_visible_to(user: User) -> QuerySet[Customer]:
    """Every customer for finance roles; only owned customers for a sales rep; none otherwise.
    Mirrors the `customers.access_customer` rule."""
    qs = Customer.objects.all()
    if not user.is_authenticated or not user.has_perm("customers.view_customer"):
        return qs.none()
    if user.has_perm("customers.view_all_customers"):
        return qs
    return qs.filter(sales_owner=user)


def customer_list(*, user: User, search: str = "") -> QuerySet[Customer]:
    qs = customers_visible_to(user).select_related("sales_owner", "parent")
    if search:
        qs = qs.filter(
            Q(legal_name__icontains=search) | Q(display_name__icontains=search)
            | Q(account_number__icontains=search) | Q(tax_id__icontains=search)
            | Q(external_crm_id__iexact=search)
        )
    return qs.annotate(contact_count=Count("contacts"))


def contact_history_rows(customer: Customer, limit: int = 50) -> list[dict[str, Any]]:
    """History of the customer's contacts (deleted ones too), newest first, in the shape of
    `otc.history.history_rows` so the same template shows it."""
    records = list(
        Contact.history.filter(customer_id=customer.pk).select_related("history_user").order_by("-history_date", "-history_id")[:limit]
    )
    ids = {r.id for r in records}
    # the record before the oldest shown one of each contact, to diff against
    older = Contact.history.filter(id__in=ids, customer_id=customer.pk).order_by("id", "-history_date", "-history_id")
    by_contact: dict[int, list] = {}
    for record in older:
        by_contact.setdefault(record.id, []).append(record)
    rows = []
    for record in records:
        chain = by_contact.get(record.id, [])
        position = next((i for i, r in enumerate(chain) if r.history_id == record.history_id), None)
        previous = chain[position + 1] if position is not None and position + 1 < len(chain) else None
        changes = []
        if previous is not None and record.history_type == "~":
            for change in record.diff_against(previous).changes:
                field = cast(Field, Contact._meta.get_field(change.field))  # a history diff names concrete fields
                changes.append((field.verbose_name, change.old, change.new))
        kind = {"+": "added", "~": "changed", "-": "deleted"}[record.history_type]
        rows.append({
            "when": record.history_date, "who": record.history_user, "type": f"contact {record.name} {kind}",
            "reason": record.history_change_reason or "", "changes": changes,
        })
    return rows


def billing_emails(customer_id: int) -> list[str]:
    """The e-mail addresses of the customer's billing contacts, oldest contact first: where
    invoices, credit notes, reminders and statements go."""
    return list(Contact.objects.filter(customer_id=customer_id, is_billing_contact=True).exclude(email="")
                .order_by("id").values_list("email", flat=True))
