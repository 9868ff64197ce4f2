"""Procurement-portal uploads: the task that an issued invoice must be uploaded to the customer's
portal (SAP Ariba, Coupa), and its workflow

    pending -> uploaded (portal reference, who, when) -> accepted | rejected (reason)
    rejected -> resubmitted (new reference) -> accepted | rejected

Each transition is an entry point (durable transaction), needs billing.change_portalsubmission,
locks the row, checks PortalSubmission.TRANSITIONS, saves with update_fields, writes a status
change row and an outbox event in the same transaction. Refusals write nothing.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import IntegrityError, transaction

from billing.models import CreditNote, Invoice, PortalSubmission
from customers.models import Customer
from otc import dates
from otc.errors import NotFound, PermissionDenied, ValidationFailed
from otc.models import User
from otc.services import ensure_transition, outbox_emit, record_status_change

PORTAL_DUE_BUSINESS_DAYS = 5
ISSUED_STATES = (Invoice.Status.ISSUED, Invoice.Status.PARTIALLY_PAID, Invoice.Status.PAID)
Status = PortalSubmission.Status


def add_business_days(start: dt.date, days: int) -> dt.date:
    """`days` working days (Monday to Friday) after `start`; public holidays are not modelled."""
    current = start
    while days > 0:
        current += dt.timedelta(days=1)
        if current.weekday() < 5:
            days -= 1
    return current


def lock_portal_submission(submission_id: int) -> PortalSubmission:
    locked = list(PortalSubmission.objects.select_for_update(of=("self",)).filter(pk=submission_id))
    if not locked:
        raise NotFound("No such portal upload task.")
    return locked[0]


def _ensure_may_change(by: User) -> None:
    if by is None or not by.has_perm("billing.change_portalsubmission"):
        raise PermissionDenied("Your role may not record portal uploads.")


def _required(value: str, field: str, message: str) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationFailed(message, fields={field: ["required"]})
    return value


def _emit(submission: PortalSubmission, topic: str, **extra: Any) -> None:
    payload = {
        "portal_submission_id": submission.id, "invoice_id": submission.invoice_id,
        "credit_note_id": submission.credit_note_id, "customer_id": submission.customer_id,
        "portal": submission.portal, "status": submission.status,
        "portal_reference": submission.portal_reference, **extra,
    }
    outbox_emit(topic=f"portal_submission.{topic}", subject_type="portal_submission", subject_id=submission.id,
                payload=payload)


def _move(submission: PortalSubmission, to: str, *, by: User, fields: list[str], note: str = "") -> PortalSubmission:
    from_state = submission.status
    submission.status = to
    submission.save(update_fields=["status", *fields])
    record_status_change(submission, by=by, from_state=from_state, note=note)
    _emit(submission, to, **({"reason": note} if to == Status.REJECTED else {}))
    return submission


def _upload(submission_id: int, by: User, portal_reference: str, to: str) -> PortalSubmission:
    _ensure_may_change(by)
    reference = _required(portal_reference, "portal_reference", "Enter the reference the portal gave the upload.")
    submission = lock_portal_submission(submission_id)
    ensure_transition(submission, to=to)
    submission.portal_reference, submission.uploaded_by, submission.uploaded_at = reference, by, dates.now()
    return _move(submission, to, by=by, fields=["portal_reference", "uploaded_by", "uploaded_at"])


@transaction.atomic(durable=True)
def portal_submission_mark_uploaded(*, submission_id: int, by: User, portal_reference: str) -> PortalSubmission:
    """Record that the document was uploaded to the portal, with the portal's reference."""
    return _upload(submission_id, by, portal_reference, Status.UPLOADED)


@transaction.atomic(durable=True)
def portal_submission_resubmit(*, submission_id: int, by: User, portal_reference: str) -> PortalSubmission:
    """Record a corrected upload after a rejection (the new portal reference replaces the old one;
    the rejection reason stays for the history)."""
    return _upload(submission_id, by, portal_reference, Status.RESUBMITTED)


@transaction.atomic(durable=True)
def portal_submission_accept(*, submission_id: int, by: User) -> PortalSubmission:
    """The customer's portal accepted the upload: the task is done."""
    _ensure_may_change(by)
    submission = lock_portal_submission(submission_id)
    ensure_transition(submission, to=Status.ACCEPTED)
    submission.decided_at = dates.now()
    return _move(submission, Status.ACCEPTED, by=by, fields=["decided_at"])


@transaction.atomic(durable=True)
def portal_submission_reject(*, submission_id: int, by: User, reason: str) -> PortalSubmission:
    """The customer's portal rejected the upload, for `reason`; it must be corrected and resubmitted."""
    _ensure_may_change(by)
    reason = _required(reason, "reason", "Say why the portal rejected the upload.")
    submission = lock_portal_submission(submission_id)
    ensure_transition(submission, to=Status.REJECTED)
    submission.decided_at, submission.rejection_reason = dates.now(), reason
    return _move(submission, Status.REJECTED, by=by, fields=["decided_at", "rejection_reason"], note=reason)


@transaction.atomic
def portal_submission_ensure(*, invoice_id: int | None = None,
                             credit_note_id: int | None = None) -> tuple[PortalSubmission, bool]:
    """The upload task of an issued invoice or credit note whose customer uses a procurement
    portal, created once (the unique constraints decide under concurrency): (task, created). Due
    five business days after the issue date. Not durable: issuing and delivery call it inside
    their transaction."""
    if (invoice_id is None) == (credit_note_id is None):
        raise ValueError("Give an invoice or a credit note.")
    key = {"invoice_id": invoice_id} if invoice_id is not None else {"credit_note_id": credit_note_id}
    existing = PortalSubmission.objects.filter(**key).first()
    if existing is not None:
        return existing, False
    document: Invoice | CreditNote | None
    if invoice_id is not None:
        document = Invoice.objects.select_related("customer").filter(pk=invoice_id).first()
        issued = document is not None and document.status in ISSUED_STATES
    else:
        assert credit_note_id is not None  # one of the two, checked above
        document = CreditNote.objects.select_related("customer").filter(pk=credit_note_id).first()
        issued = document is not None and document.status == CreditNote.Status.ISSUED
    if document is None:
        raise NotFound("No such document.")
    if not issued or document.issue_date is None:
        raise ValidationFailed(f"{document} is not issued: only issued documents are uploaded to portals.")
    customer = document.customer
    if customer.procurement_portal == Customer.Portal.NONE:
        raise ValidationFailed(f"{customer.legal_name} does not use a procurement portal.")
    try:
        with transaction.atomic():
            submission = PortalSubmission.objects.create(
                **key, customer=customer, portal=customer.procurement_portal, status=Status.PENDING,
                due_date=add_business_days(document.issue_date, PORTAL_DUE_BUSINESS_DAYS),
            )
    except IntegrityError:  # created concurrently
        return PortalSubmission.objects.get(**key), False
    record_status_change(submission, by=None, from_state="")
    _emit(submission, "created", due_date=submission.due_date.isoformat())
    return submission, True
