"""Disputes: opened on an invoice or some of its lines, worked, and resolved by a credit note,
rejected (the amount goes back to dunning) or withdrawn.

Resolution by credit note starts billing's credit-note request, prefilled from the dispute (its
lines, or its amount); the dispute stays in progress until that credit note is issued, when
billing's `credit_note_issued` registry hook closes it in the issue transaction
(`disputes_close_for_credit_note`; `disputes_follow_credit_notes` is the daily backstop).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Sum

from billing.models import CreditNote, Invoice, InvoiceLine
from otc import dates
from otc.errors import InvalidTransition, PermissionDenied, ValidationFailed
from otc.models import User
from otc.money import ZERO, check_plausible, minor_units, money_text, quantize, to_decimal
from otc.services import record_status_change

from ..models import Dispute, DisputeLine, DisputeReason, DisputeStatus
from ..models.disputes import OPEN_DISPUTE_STATUSES

MANAGE = "collections_app.manage_dispute"
S = DisputeStatus
TRANSITIONS: dict[str, tuple[str, ...]] = {
    S.OPEN: (S.IN_PROGRESS, S.RESOLVED_CREDIT, S.REJECTED, S.WITHDRAWN),
    S.IN_PROGRESS: (S.RESOLVED_CREDIT, S.REJECTED, S.WITHDRAWN),
    S.RESOLVED_CREDIT: (), S.REJECTED: (), S.WITHDRAWN: (),
}
OPENABLE = (Invoice.Status.ISSUED, Invoice.Status.PARTIALLY_PAID)
# The credit-note reason billing's request gets for each dispute reason.
CREDIT_REASON: dict[str, str] = {
    DisputeReason.PRICE: CreditNote.Reason.PRICING_DISPUTE, DisputeReason.QUANTITY: CreditNote.Reason.BILLING_ERROR,
    DisputeReason.NOT_RECEIVED: CreditNote.Reason.SERVICE_CREDIT, DisputeReason.PO_MISSING: CreditNote.Reason.BILLING_ERROR,
    DisputeReason.DUPLICATE: CreditNote.Reason.DUPLICATE, DisputeReason.TAX: CreditNote.Reason.BILLING_ERROR,
    DisputeReason.SERVICE_QUALITY: CreditNote.Reason.SERVICE_CREDIT,
}


def _require(by: User, what: str) -> None:
    if not by.has_perm(MANAGE):
        raise PermissionDenied(f"You may not {what}.")


def _lock(dispute_id: int) -> Dispute:
    dispute = Dispute.objects.select_for_update(of=("self",)).filter(pk=dispute_id).first()
    if dispute is None:
        raise ValidationFailed(f"Dispute {dispute_id} does not exist.")
    return dispute


def _move(dispute: Dispute, to: str, *, by: User | None, note: str = "", fields: tuple[str, ...] = ()) -> Dispute:
    if to not in TRANSITIONS.get(dispute.status, ()):
        raise InvalidTransition(f"A dispute that is {dispute.get_status_display().lower()} cannot become "
                                f"{S(to).label.lower()}.")
    before = dispute.status
    dispute.status = to
    if to not in OPEN_DISPUTE_STATUSES:
        dispute.resolved_by, dispute.resolved_at = by, dates.now()
        fields += ("resolved_by", "resolved_at")
    dispute.save(update_fields=["status", "updated_at", *fields])
    record_status_change(dispute, by=by, from_state=before, note=note)
    return dispute


def _disputed_lines(invoice: Invoice, lines: list[dict[str, Any]]) -> list[tuple[InvoiceLine, Decimal]]:
    by_id: dict[Any, InvoiceLine] = {line.pk: line for line in invoice.lines.all()}  # the request names any id
    out = []
    for position, row in enumerate(lines, start=1):
        line = by_id.get(row.get("invoice_line_id"))
        if line is None:
            raise ValidationFailed(f"Row {position}: that line is not on invoice {invoice.number}.",
                                   fields={"lines": [position]})
        gross = line.net_amount + line.tax_amount
        amount = (check_plausible(to_decimal(row["amount"]), invoice.currency, field="amount")
                  if row.get("amount") is not None else gross)
        if amount <= 0 or amount > gross or quantize(amount, invoice.currency) != amount:
            raise ValidationFailed(f"Line {line.position}: dispute between 0 and {money_text(gross, invoice.currency)}.",
                                   fields={"lines": [line.position]})
        out.append((line, amount))
    if len({line.pk for line, _ in out}) != len(out):
        raise ValidationFailed("A line is named twice.", fields={"lines": ["duplicate"]})
    return out


@transaction.atomic
def dispute_open(*, invoice_id: int, by: User, reason: str, amount: Decimal | None = None,
                 lines: list[dict[str, Any]] | None = None, owner_id: int | None = None,
                 due_date: dt.date | None = None, description: str = "", source: str = "collector",
                 source_reference: str = "") -> Dispute:
    """Open a dispute on an issued invoice: the whole open balance, an amount, or some lines
    (`[{"invoice_line_id", "amount"?}]`, amounts gross). What is already under open disputes
    cannot be disputed twice."""
    _require(by, "open disputes")
    if reason not in DisputeReason.values:
        raise ValidationFailed("Choose a reason code.", fields={"reason": ["invalid"]})
    invoice = Invoice.objects.select_for_update(of=("self",)).filter(pk=invoice_id).first()
    if invoice is None:
        raise ValidationFailed(f"Invoice {invoice_id} does not exist.", fields={"invoice": ["unknown"]})
    if invoice.status not in OPENABLE:
        raise InvalidTransition(f"Invoice {invoice.number or invoice.pk} is {invoice.get_status_display().lower()}: "
                                "only an issued invoice with something left to pay can be disputed.")
    if lines and amount is not None:
        raise ValidationFailed("Dispute either some lines or an amount, not both.", fields={"amount": ["both"]})
    disputed_lines = _disputed_lines(invoice, lines) if lines else []
    already = (Dispute.objects.filter(invoice=invoice, status__in=OPEN_DISPUTE_STATUSES)
               .aggregate(total=Sum("amount"))["total"] or ZERO)
    left = invoice.balance_due - already
    if disputed_lines:
        amount = sum((a for _, a in disputed_lines), ZERO)
    elif amount is None:
        amount = left
    amount = check_plausible(to_decimal(amount), invoice.currency, field="amount")
    if amount <= 0 or quantize(amount, invoice.currency) != amount:
        raise ValidationFailed(f"The amount must be positive with at most the decimals of {invoice.currency}.",
                               fields={"amount": ["invalid"]})
    if amount > left:
        raise ValidationFailed(f"{money_text(amount, invoice.currency)} exceeds the {money_text(left, invoice.currency)} "
                               f"of invoice {invoice.number} that is open and not already disputed.",
                               fields={"amount": ["exceeds"]})
    if due_date is not None and due_date < dates.today():
        raise ValidationFailed("The due date is in the past.", fields={"due_date": ["past"]})
    if owner_id is not None and not User.objects.filter(pk=owner_id, is_active=True).exists():
        raise ValidationFailed("Choose an active owner.", fields={"owner": ["unknown"]})
    dispute = Dispute.objects.create(
        legal_entity_id=invoice.legal_entity_id, customer_id=invoice.customer_id, invoice=invoice,
        currency=invoice.currency, amount=amount, reason=reason, description=(description or "").strip(),
        owner_id=owner_id or by.pk, due_date=due_date or dates.today() + dt.timedelta(days=14), source=source,
        source_reference=source_reference, opened_by=by)
    DisputeLine.objects.bulk_create([DisputeLine(dispute=dispute, invoice_line=line, amount=a)
                                     for line, a in disputed_lines])
    record_status_change(dispute, by=by, from_state="", note=f"{dispute.get_reason_display()}, "
                         f"{money_text(amount, invoice.currency)}")
    return dispute


@transaction.atomic
def dispute_start(*, dispute_id: int, by: User, note: str = "") -> Dispute:
    """The owner works on it: open -> in progress."""
    _require(by, "work disputes")
    return _move(_lock(dispute_id), S.IN_PROGRESS, by=by, note=note)


@transaction.atomic
def dispute_assign(*, dispute_id: int, by: User, owner_id: int, due_date: dt.date | None = None) -> Dispute:
    _require(by, "reassign disputes")
    dispute = _lock(dispute_id)
    if not dispute.is_open:
        raise InvalidTransition("A closed dispute cannot be reassigned.")
    if not User.objects.filter(pk=owner_id, is_active=True).exists():
        raise ValidationFailed("Choose an active owner.", fields={"owner": ["unknown"]})
    dispute.owner_id = owner_id
    fields = ["owner", "updated_at"]
    if due_date is not None:
        dispute.due_date = due_date
        fields.append("due_date")
    dispute.save(update_fields=fields)
    return dispute


def _credit_request_shape(dispute: Dispute, amount: Decimal | None) -> dict[str, Any]:
    """What billing's credit-note request gets: the disputed lines (their net), the whole invoice,
    or a net amount for the disputed gross."""
    invoice = dispute.invoice
    cur = invoice.currency
    gross = amount if amount is not None else dispute.amount
    lines = list(dispute.lines.select_related("invoice_line"))
    if lines and amount is None:
        rows = []
        for row in lines:
            line = row.invoice_line
            if row.amount == line.net_amount + line.tax_amount:
                rows.append({"invoice_line_id": line.pk, "quantity": line.quantity})
            else:
                rows.append({"invoice_line_id": line.pk,
                             "net_amount": quantize(row.amount / (1 + line.tax_rate / 100), cur)})
        return {"lines": rows}
    if gross == invoice.gross_total and not invoice.amount_credited:
        return {}
    if not invoice.gross_total:
        return {"amount": gross}
    # The net whose credit note carries exactly the disputed gross: tax is rounded per line, so the
    # proportional net can land a cent off; the neighbouring minor units are tried first.
    from billing.services import credit_note_gross_for_amount

    net = quantize(gross * invoice.net_total / invoice.gross_total, cur)
    unit = Decimal(1).scaleb(-minor_units(cur))
    for step in (0, 1, -1, 2, -2):
        candidate = net + step * unit
        if candidate > 0 and credit_note_gross_for_amount(invoice=invoice, amount=candidate) == gross:
            return {"amount": candidate}
    return {"amount": net}


@transaction.atomic
def dispute_resolve_by_credit_note(*, dispute_id: int, by: User, explanation: str = "",
                                   amount: Decimal | None = None) -> CreditNote:
    """Start billing's credit-note request prefilled from the dispute; the dispute is in progress
    until that credit note is issued (then resolved by credit note). `amount` (gross) credits less
    than disputed, as agreed with the customer."""
    from billing.services import credit_note_request

    _require(by, "resolve disputes")
    dispute = _lock(dispute_id)
    if not dispute.is_open:
        raise InvalidTransition(f"Dispute #{dispute.pk} is {dispute.get_status_display().lower()}.")
    if dispute.credit_note is not None and dispute.credit_note.status != CreditNote.Status.REJECTED:
        raise InvalidTransition(f"Credit note request #{dispute.credit_note_id} for this dispute is "
                                f"{dispute.credit_note.get_status_display().lower()} already.")
    if amount is not None:
        amount = check_plausible(to_decimal(amount), dispute.currency, field="amount")
        if not 0 < amount <= dispute.amount:
            raise ValidationFailed(f"Credit between 0 and the disputed {money_text(dispute.amount, dispute.currency)}.",
                                   fields={"amount": ["exceeds"]})
    text = (explanation or "").strip() or (f"Dispute #{dispute.pk} ({dispute.get_reason_display().lower()}): "
                                           f"{dispute.description or 'agreed with the customer'}")
    note = credit_note_request(invoice_id=dispute.invoice_id, by=by, reason=CREDIT_REASON[dispute.reason],
                               explanation=text, **_credit_request_shape(dispute, amount))
    dispute.credit_note = note
    dispute.resolution_note = text
    if dispute.status == S.OPEN:
        _move(dispute, S.IN_PROGRESS, by=by, note=f"Credit note requested (#{note.pk})",
              fields=("credit_note", "resolution_note"))
    else:
        dispute.save(update_fields=["credit_note", "resolution_note", "updated_at"])
        record_status_change(dispute, by=by, from_state=dispute.status, note=f"Credit note requested (#{note.pk})")
    return note


@transaction.atomic
def dispute_reject(*, dispute_id: int, by: User, note: str) -> Dispute:
    """Resolved without credit: the customer's claim is unfounded; the amount returns to dunning."""
    _require(by, "resolve disputes")
    if not (note or "").strip():
        raise ValidationFailed("Say why the dispute is rejected.", fields={"note": ["required"]})
    dispute = _lock(dispute_id)
    if dispute.credit_note is not None and dispute.credit_note.status in (CreditNote.Status.REQUESTED,
                                                                         CreditNote.Status.APPROVED):
        raise InvalidTransition(f"A credit note for this dispute is {dispute.credit_note.get_status_display().lower()}; "
                                "it must be rejected in billing first.")
    dispute.resolution_note = note.strip()
    return _move(dispute, S.REJECTED, by=by, note=note.strip(), fields=("resolution_note",))


@transaction.atomic
def dispute_withdraw(*, dispute_id: int, by: User, note: str = "") -> Dispute:
    """The customer withdraws its claim."""
    _require(by, "withdraw disputes")
    dispute = _lock(dispute_id)
    if dispute.credit_note is not None and dispute.credit_note.status in (CreditNote.Status.REQUESTED,
                                                                         CreditNote.Status.APPROVED):
        raise InvalidTransition("A credit note for this dispute is pending; it must be rejected in billing first.")
    dispute.resolution_note = (note or "").strip() or "Withdrawn by the customer"
    return _move(dispute, S.WITHDRAWN, by=by, note=dispute.resolution_note, fields=("resolution_note",))


def disputes_close_for_credit_note(*, credit_note: CreditNote, by: User | None = None) -> int:
    """Registry hook `credit_note_issued` (inside billing's issue transaction): the disputes this
    credit note resolves become resolved by credit note."""
    if credit_note.status != CreditNote.Status.ISSUED:
        return 0
    rows = list(Dispute.objects.select_for_update(of=("self",)).filter(
        credit_note_id=credit_note.pk, status__in=OPEN_DISPUTE_STATUSES).order_by("pk"))
    for dispute in rows:
        _move(dispute, S.RESOLVED_CREDIT, by=by or credit_note.issued_by,
              note=f"Credit note {credit_note.number} issued")
    return len(rows)


def disputes_follow_credit_notes() -> int:
    """Daily backstop: close disputes whose credit note was issued (should the hook have missed)."""
    closed = 0
    ids = (Dispute.objects.filter(status__in=OPEN_DISPUTE_STATUSES, credit_note__status=CreditNote.Status.ISSUED)
           .values_list("credit_note_id", flat=True).distinct())
    for note in CreditNote.objects.filter(pk__in=list(ids)).order_by("pk"):
        with transaction.atomic():
            closed += disputes_close_for_credit_note(credit_note=note)
    return closed
