"""One write-off through its chain: request (with evidence), submit, approve or reject level by
level, post (allowance or expense, VAT relief pro rata, AR settled)."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import defaultdict
from decimal import Decimal

from django.core.files.base import ContentFile
from django.db import transaction

from billing.models import Invoice
from billing.services import invoices_record_write_offs, lock_invoices
from collections_app.models.writeoffs import (
    WriteOff,
    WriteOffApproval,
    WriteOffAttachment,
    WriteOffBatch,
    WriteOffLine,
    WriteOffReason,
    WriteOffStatus,
)
from ledger.models import Account, JournalEntry, LegalEntity, OpenItem
from ledger.services import LineSpec, journal_post
from otc import dates
from otc.errors import (
    Conflict,
    DomainError,
    InvalidTransition,
    LimitExceeded,
    SegregationOfDuties,
    ValidationFailed,
)
from otc.models import User
from otc.money import ZERO, money_text, quantize
from otc.services import approval_limit, ensure_transition, record_status_change

from .rules import (
    ALLOWANCE,
    EXPENSE,
    MAX_ATTACHMENT,
    check_items,
    invoices_for_items,
    lock_write_off,
    open_items_for,
    policy_for,
    refuse_disputed,
    require_permission,
    required_approvals,
)

# --- request ----------------------------------------------------------------------------------

def _line_amounts(items: list[OpenItem], amounts: dict[int, Decimal]) -> dict[int, Decimal]:
    """Open item id -> the amount written off: its open amount, or the part given (a Decimal in
    the currency's minor unit, above zero, at most what is open)."""
    out = {}
    for item in items:
        amount = amounts.get(item.pk)
        if amount is None:
            out[item.pk] = item.open_amount
            continue
        if not isinstance(amount, Decimal) or not amount.is_finite():
            raise ValidationFailed(f"{item.document_number}: give the amount as a decimal number.",
                                   fields={"amounts": [item.document_number]})
        if amount <= 0 or amount > item.open_amount or quantize(amount, item.currency) != amount:
            raise ValidationFailed(f"{item.document_number}: write off more than zero and at most the "
                                   f"{money_text(item.open_amount, item.currency)} open, in whole minor units.",
                                   fields={"amounts": [item.document_number]})
        out[item.pk] = amount
    unknown = set(amounts) - {i.pk for i in items}
    if unknown:
        raise ValidationFailed("An amount is given for an item that is not written off.", fields={"amounts": ["unknown"]})
    return out


def write_off_build(*, items: list[OpenItem], reason: str, explanation: str, by: User | None,
            batch: WriteOffBatch | None = None, amounts: dict[int, Decimal] | None = None) -> WriteOff:
    if reason not in WriteOffReason.values:
        raise ValidationFailed(f"Unknown reason {reason!r}.", fields={"reason": ["invalid"]})
    check_items(items)
    line_amounts = _line_amounts(items, amounts or {})
    by_item = invoices_for_items(items)
    refuse_disputed([inv.pk for inv in by_item.values()])
    first = items[0]
    entity = LegalEntity.objects.get(pk=first.legal_entity_id)
    total = sum(line_amounts.values(), ZERO)
    write_off = WriteOff(legal_entity=entity, customer_id=first.customer_id, currency=first.currency, amount=total,
                         reason=reason, explanation=explanation.strip(), requested_by=by, batch=batch)
    write_off.required_approvals = required_approvals(write_off, entity, policy_for(entity.pk))
    write_off.save()
    WriteOffLine.objects.bulk_create([
        WriteOffLine(write_off=write_off, open_item=item, invoice=by_item.get(item.pk),
                     document_number=item.document_number, amount=line_amounts[item.pk],
                     partial=line_amounts[item.pk] < item.open_amount)
        for item in items])
    record_status_change(write_off, by=by, from_state="", note=explanation[:500])
    return write_off


@transaction.atomic(durable=True)
def writeoff_request(*, invoice_ids: list[int] | None = None, open_item_ids: list[int] | None = None, reason: str,
                     explanation: str = "", by: User, submit: bool = True,
                     invoice_amounts: dict[int, Decimal] | None = None,
                     item_amounts: dict[int, Decimal] | None = None) -> WriteOff:
    """Request a write-off of invoices' remaining balances and/or open items of one customer;
    `invoice_amounts` / `item_amounts` (invoice or open item id -> amount) write off part of one
    (partial lines); `submit` sends it for approval at once (else it stays a draft to add
    evidence first)."""
    return writeoff_request_within(invoice_ids=invoice_ids, open_item_ids=open_item_ids, reason=reason,
                                   explanation=explanation, by=by, submit=submit, invoice_amounts=invoice_amounts,
                                   item_amounts=item_amounts)


def writeoff_request_within(*, invoice_ids: list[int] | None = None, open_item_ids: list[int] | None = None,
                            reason: str, explanation: str = "", by: User, submit: bool = True,
                            invoice_amounts: dict[int, Decimal] | None = None,
                            item_amounts: dict[int, Decimal] | None = None) -> WriteOff:
    """`writeoff_request` inside the caller's transaction (a placement settled for less than the
    balance requests the write-off of the rest in the same transaction)."""
    require_permission(by, "collections_app.request_writeoff", "request write-offs")
    if reason != WriteOffReason.SMALL_BALANCE and not (explanation or "").strip():
        raise ValidationFailed("Explain why the balance is uncollectible.", fields={"explanation": ["required"]})
    invoice_amounts, item_amounts = dict(invoice_amounts or {}), dict(item_amounts or {})
    items = open_items_for(list(open_item_ids or []) + list(item_amounts), list(invoice_ids or []) + list(invoice_amounts))
    amounts = dict(item_amounts)
    if invoice_amounts:
        for invoice_id, item_id in Invoice.objects.filter(pk__in=list(invoice_amounts)).values_list("pk", "open_item_id"):
            amounts[item_id] = invoice_amounts[invoice_id]
    write_off = write_off_build(items=items, reason=reason, explanation=explanation or "", by=by, amounts=amounts)
    if submit:
        write_off_submit_locked(write_off, by)
    return write_off


def write_off_submit_locked(write_off: WriteOff, by: User | None) -> None:
    ensure_transition(write_off, to=WriteOffStatus.SUBMITTED)
    write_off.status, write_off.submitted_at = WriteOffStatus.SUBMITTED, dates.now()
    write_off.save(update_fields=["status", "submitted_at", "updated_at"])
    record_status_change(write_off, by=by, from_state=WriteOffStatus.DRAFT)


@transaction.atomic(durable=True)
def writeoff_submit(*, write_off_id: int, by: User) -> WriteOff:
    require_permission(by, "collections_app.request_writeoff", "submit write-offs")
    write_off = lock_write_off(write_off_id)
    if write_off.batch_id:
        raise InvalidTransition("This write-off is part of a small-balance batch: submit the batch.")
    write_off_submit_locked(write_off, by)
    return write_off


@transaction.atomic(durable=True)
def writeoff_attach(*, write_off_id: int, name: str, content: bytes, by: User) -> WriteOffAttachment:
    """Add evidence (a court notice, the agency's closing letter...) until the write-off is posted."""
    require_permission(by, "collections_app.request_writeoff", "add write-off evidence")
    write_off = lock_write_off(write_off_id)
    if write_off.status in (WriteOffStatus.POSTED, WriteOffStatus.REJECTED):
        raise InvalidTransition(f"{write_off} is {write_off.get_status_display().lower()}: evidence is closed.")
    if not content:
        raise ValidationFailed("The file is empty.", fields={"file": ["empty"]})
    if len(content) > MAX_ATTACHMENT:
        raise ValidationFailed("Evidence files are at most 10 MB.", fields={"file": ["too large"]})
    safe = "".join(c if c.isalnum() or c in "._-" else "_" for c in (name or "evidence"))[:150] or "evidence"
    attachment = WriteOffAttachment(write_off=write_off, name=(name or safe)[:200], size=len(content),
                                    sha256=hashlib.sha256(content).hexdigest(), uploaded_by=by)
    attachment.file.save(safe, ContentFile(content), save=False)
    attachment.save()
    return attachment


# --- approve / reject -------------------------------------------------------------------------

def _approve_level(write_off: WriteOff, by: User, note: str, *, final_only: bool = False) -> bool:
    """Record one approval level; True when the write-off is now approved."""
    if write_off.requested_by_id == by.id:
        raise SegregationOfDuties(f"You requested {write_off}; another person must approve it.")
    if write_off.batch is not None and write_off.batch.submitted_by_id == by.id:
        raise SegregationOfDuties("You submitted this batch; another person must approve it.")
    levels = list(write_off.approvals.order_by("level"))
    if any(a.approver_id == by.id for a in levels):
        raise SegregationOfDuties(f"You already approved {write_off} at level "
                                  f"{next(a.level for a in levels if a.approver_id == by.id)}; each level is a "
                                  "different person.")
    level = len(levels) + 1
    last = final_only or level >= write_off.required_approvals
    limit = approval_limit(user=by, kind="write_off", currency=write_off.currency,
                           legal_entity_id=write_off.legal_entity_id)
    if limit <= 0 or (last and write_off.amount > limit):
        raise LimitExceeded(f"{money_text(write_off.amount, write_off.currency)} exceeds your write-off approval limit "
                            f"of {money_text(limit, write_off.currency)}.")
    WriteOffApproval.objects.create(write_off=write_off, level=level, approver=by, limit=limit, note=note)
    return last


@transaction.atomic(durable=True)
def writeoff_approve(*, write_off_id: int, by: User, note: str = "") -> WriteOff:
    """Approve one level of a submitted write-off (rules in the module docstring)."""
    require_permission(by, "collections_app.approve_writeoff", "approve write-offs")
    write_off = lock_write_off(write_off_id)
    if write_off.batch_id:
        raise InvalidTransition("This write-off is part of a small-balance batch: approve the batch.")
    ensure_transition(write_off, to=WriteOffStatus.APPROVED)
    refuse_disputed(list(write_off.lines.exclude(invoice=None).values_list("invoice_id", flat=True)))
    if _approve_level(write_off, by, (note or "").strip()):
        decision_record(write_off, by, WriteOffStatus.APPROVED, (note or "").strip())
    return write_off


def decision_record(write_off: WriteOff, by: User, to: str, note: str) -> None:
    before = write_off.status
    write_off.status, write_off.decided_by, write_off.decided_at, write_off.decision_note = to, by, dates.now(), note
    write_off.save(update_fields=["status", "decided_by", "decided_at", "decision_note", "updated_at"])
    record_status_change(write_off, by=by, from_state=before, note=note[:500])


@transaction.atomic(durable=True)
def writeoff_reject(*, write_off_id: int, by: User, note: str) -> WriteOff:
    """Reject a submitted or approved (not yet posted) write-off, with the reason."""
    require_permission(by, "collections_app.approve_writeoff", "reject write-offs")
    if not (note or "").strip():
        raise ValidationFailed("Say why the write-off is rejected.", fields={"note": ["required"]})
    write_off = lock_write_off(write_off_id)
    if write_off.batch_id:
        raise InvalidTransition("This write-off is part of a small-balance batch: reject the batch.")
    ensure_transition(write_off, to=WriteOffStatus.REJECTED)
    if write_off.requested_by_id == by.id:
        raise SegregationOfDuties(f"You requested {write_off}; another person must decide on it.")
    decision_record(write_off, by, WriteOffStatus.REJECTED, note.strip())
    return write_off


# --- post ---------------------------------------------------------------------------------------

def _vat_accounts(legal_entity_id: int, invoices: list[Invoice]) -> dict[int, dict[int, Decimal]]:
    """Invoice id -> output-VAT account id -> the tax the invoice credited to it: its lines' tax
    per tax code account, mapped to the entity's chart as billing posted it (the code's account,
    else the entity's tax-payable account). One query for the lines, one for the accounts."""
    from billing.models import InvoiceLine

    per_code: dict[int, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for invoice_id, code, tax in (InvoiceLine.objects.filter(invoice_id__in=[i.pk for i in invoices])
                                  .values_list("invoice_id", "tax_code__account_code", "tax_amount")):
        per_code[invoice_id][code or ""] += tax
    codes = {code for by_code in per_code.values() for code in by_code}
    chart = dict(Account.objects.filter(legal_entity_id=legal_entity_id, code__in=codes).values_list("code", "pk"))
    fallback = Account.objects.filter(legal_entity_id=legal_entity_id, role=Account.Role.TAX_PAYABLE).order_by("pk") \
        .values_list("pk", flat=True).first()
    out: dict[int, dict[int, Decimal]] = {}
    for invoice in invoices:
        accounts: dict[int, Decimal] = defaultdict(Decimal)
        for code, tax in per_code.get(invoice.pk, {}).items():
            account_id = chart.get(code, fallback)
            if account_id is None:
                raise DomainError(f"{invoice.number}: the entity has no output-VAT account {code} for the relief.")
            accounts[account_id] += tax
        if not any(accounts.values()) and fallback is not None:
            accounts = defaultdict(Decimal, {fallback: invoice.tax_total})
        out[invoice.pk] = dict(accounts)
    return out


def split_by_weight(total: Decimal, weights: dict[int, Decimal], currency: str) -> dict[int, Decimal]:
    """`total` shared pro rata to `weights` (account id -> the tax it holds), each share rounded
    half-up to the minor unit and the rounding difference on the largest share, so the shares sum
    to `total` exactly."""
    weights = {k: v for k, v in weights.items() if v}
    base = sum(weights.values(), ZERO)
    if not total or not base:
        return {}
    shares = {k: quantize(total * v / base, currency) for k, v in sorted(weights.items())}
    largest = max(sorted(shares), key=lambda k: abs(weights[k]))
    shares[largest] += total - sum(shares.values(), ZERO)
    return shares


def write_off_post_locked(write_off: WriteOff, by: User | None, on: dt.date) -> WriteOff:
    ensure_transition(write_off, to=WriteOffStatus.POSTED)
    lines = list(write_off.lines.order_by("pk"))
    # Lock order as in cash application: the invoices (id order), then the ledger (period, items).
    invoices = {i.pk: i for i in lock_invoices([line.invoice_id for line in lines if line.invoice_id])}
    for line in lines:
        line.invoice = invoices.get(line.invoice_id) if line.invoice_id else None
    refuse_disputed(list(invoices))
    items = {i.pk: i for i in OpenItem.objects.filter(pk__in=[line.open_item_id for line in lines])}
    for line in lines:
        item = items[line.open_item_id]
        # a whole line needs the balance approved; a partial one, at least its amount still open
        if (item.open_amount < line.amount) if line.partial else (item.open_amount != line.amount):
            raise Conflict(f"{line.document_number} has {money_text(item.open_amount, item.currency)} open now, not the "
                           f"{money_text(line.amount, write_off.currency)} approved: reject this write-off and request "
                           "a new one.")
    policy = policy_for(write_off.legal_entity_id)
    cur = write_off.currency
    debit_role = ALLOWANCE if policy.use_allowance else EXPENSE
    specs: list[LineSpec] = []
    relief = ZERO
    relief_by_account: dict[int, Decimal] = defaultdict(Decimal)
    vat_accounts = _vat_accounts(write_off.legal_entity_id, [line.invoice for line in lines if line.invoice is not None]) \
        if policy.vat_relief else {}
    for line in lines:
        invoice = line.invoice
        tax = ZERO
        line.tax_accounts = {}
        if policy.vat_relief and invoice is not None and invoice.tax_total and invoice.gross_total:
            tax = quantize(line.amount * invoice.tax_total / invoice.gross_total, cur)
            line.tax_accounts = {str(k): str(v) for k, v in split_by_weight(tax, vat_accounts[invoice.pk], cur).items()}
            for account_id, amount in line.tax_accounts.items():
                relief_by_account[int(account_id)] += Decimal(amount)
        line.tax_amount = tax
        relief += tax
        specs.append(LineSpec(amount=-line.amount, role=Account.Role.AR, customer_id=write_off.customer_id,
                              settle_item_id=line.open_item_id, description=f"{write_off} writes off {line.document_number}"))
    net = write_off.amount - relief
    if net:
        specs.insert(0, LineSpec(amount=net, role=debit_role, description=f"{write_off} {write_off.get_reason_display()}"))
    for position, (account_id, amount) in enumerate(sorted(relief_by_account.items()), start=1):
        if amount:
            specs.insert(position, LineSpec(amount=amount, account_id=account_id,
                                            description=f"{write_off} VAT bad-debt relief"))
    entry = journal_post(
        legal_entity_id=write_off.legal_entity_id, kind=JournalEntry.Kind.WRITE_OFF, document_date=on, currency=cur,
        by=by, lines=specs, roll_forward=False, source=write_off, source_reference=str(write_off),
        memo=f"Write-off {write_off} ({write_off.get_reason_display()}) for customer {write_off.customer_id}")
    WriteOffLine.objects.bulk_update(lines, ["tax_amount", "tax_accounts"])
    changes = {line.invoice_id: line.amount for line in lines if line.invoice_id}
    if changes:
        invoices_record_write_offs(changes=changes, by=by, note=f"Write-off {write_off}")
    write_off.status, write_off.debit_role, write_off.tax_relief = WriteOffStatus.POSTED, debit_role, relief
    write_off.journal_entry, write_off.posted_by, write_off.posted_at = entry, by, dates.now()
    write_off.save(update_fields=["status", "debit_role", "tax_relief", "journal_entry", "posted_by", "posted_at",
                                  "updated_at"])
    record_status_change(write_off, by=by, from_state=WriteOffStatus.APPROVED, note=entry.number)
    return write_off


@transaction.atomic(durable=True)
def writeoff_post(*, write_off_id: int, by: User, posting_date: dt.date | None = None) -> WriteOff:
    """Post an approved write-off in an open period (a closed one is refused)."""
    require_permission(by, "collections_app.post_writeoff", "post write-offs")
    write_off = lock_write_off(write_off_id)
    if write_off.batch_id:
        raise InvalidTransition("This write-off is part of a small-balance batch: post the batch.")
    return write_off_post_locked(write_off, by, posting_date or dates.today())
