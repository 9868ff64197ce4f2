"""Write-off services: request, evidence, approval chain, posting, recoveries (docs/write-offs.md).

Rules:
- A write-off is one customer's AR open items (invoices, or items without an invoice such as
  migrated opening balances) in one legal entity and currency; each item is written off for its
  whole open amount (an invoice's whole or remaining balance) or, when an amount is given for it,
  for part of it (a partial line: the rest stays open, in dunning and the worklist). An item is in at most one live
  (draft, submitted, approved) write-off. An invoice under an open dispute is refused until the
  dispute is resolved (checked when requested, approved and posted).
- Approval chain by amount: one approval, or two when the amount (in the functional currency)
  is above the entity's `second_approval_above`. Each level is a different person, never the
  requester, holding collections_app.approve_writeoff and a write-off ApprovalLimit (otc) in the
  write-off's currency; the last level's limit must cover the amount.
- Posting (approved -> posted) in an open period only (a closed period is refused, never rolled
  forward): debit the allowance for doubtful accounts (or bad-debt expense when the entity's
  policy has no allowance), debit the tax portion (amount x tax / gross of the invoice, pro rata
  for a partial line) to each output-VAT account the invoice credited, when the entity allows VAT
  bad-debt relief, credit AR settling each item; the invoices move to written off through
  billing's own service.
- Recoveries: receivables calls `writeoff_recover_for_receipt` (a registry hook) before it applies
  cash to a written-off invoice or item: the item is reopened by what the cash pays beyond its
  open amount, crediting the account the write-off debited (reinstate) or bad-debt recoveries
  (income), and VAT payable with the relief repaid; then receivables applies the cash as usual.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import defaultdict
from decimal import Decimal
from typing import Any

from django.core.files.base import ContentFile
from django.db import transaction

from billing.models import Invoice
from billing.services import invoices_record_write_offs, lock_invoices
from collections_app.models import Dispute
from collections_app.models.disputes import OPEN_DISPUTE_STATUSES
from collections_app.models.writeoffs import (
    LIVE_STATUSES,
    RecoveryMode,
    WriteOff,
    WriteOffApproval,
    WriteOffAttachment,
    WriteOffBatch,
    WriteOffLine,
    WriteOffPolicy,
    WriteOffReason,
    WriteOffRecovery,
    WriteOffStatus,
)
from ledger.models import Account, JournalEntry, LegalEntity, OpenItem
from ledger.services import LineSpec, fx_rate_for, journal_post
from otc import dates
from otc.errors import (
    Conflict,
    DomainError,
    InvalidTransition,
    LimitExceeded,
    PermissionDenied,
    SegregationOfDuties,
    ValidationFailed,
)
from otc.models import User
from otc.money import ZERO, money_text, quantize
from otc.services import approval_limit, ensure_transition, record_status_change

ALLOWANCE, EXPENSE, RECOVERY = Account.Role.ALLOWANCE, Account.Role.BAD_DEBT_EXPENSE, Account.Role.BAD_DEBT_RECOVERY
MAX_ATTACHMENT = 10 * 1024 * 1024


def _require(by: User | None, perm: str, what: str) -> None:
    if by is None or not by.has_perm(perm):
        raise PermissionDenied(f"Your role may not {what}.")


def policy_for(legal_entity_id: int) -> WriteOffPolicy:
    """The entity's write-off policy (an unsaved default one when none is set)."""
    return WriteOffPolicy.objects.filter(legal_entity_id=legal_entity_id).first() or WriteOffPolicy(
        legal_entity_id=legal_entity_id)


POLICY_FIELDS = ("use_allowance", "vat_relief", "recovery_mode", "second_approval_above", "small_balance_enabled",
                 "small_balance_max", "small_balance_min_age_days")


@transaction.atomic(durable=True)
def writeoff_policy_save(*, legal_entity_id: int, data: dict[str, Any], by: User) -> WriteOffPolicy:
    """Set an entity's write-off policy (a Controller): fields in POLICY_FIELDS."""
    _require(by, "collections_app.manage_writeoff_policy", "set write-off policies")
    if not LegalEntity.objects.filter(pk=legal_entity_id).exists():
        raise ValidationFailed(f"Legal entity {legal_entity_id} does not exist.")
    policy, _ = WriteOffPolicy.objects.select_for_update().get_or_create(legal_entity_id=legal_entity_id)
    for name in POLICY_FIELDS:
        if name in data:
            setattr(policy, name, data[name])
    if policy.recovery_mode not in RecoveryMode.values:
        raise ValidationFailed("Recoveries are reinstated or booked as income.", fields={"recovery_mode": ["invalid"]})
    for name in ("second_approval_above", "small_balance_max"):
        value = getattr(policy, name)
        if value is not None and (isinstance(value, float) or value < 0):
            raise ValidationFailed("Amounts are non-negative.", fields={name: ["invalid"]})
    policy._history_user = by
    policy.save()
    return policy


# --- locks and checks -----------------------------------------------------------------------

def lock_write_off(write_off_id: int) -> WriteOff:
    write_off = WriteOff.objects.select_for_update(of=("self",)).filter(pk=write_off_id).first()
    if write_off is None:
        raise ValidationFailed(f"Write-off {write_off_id} does not exist.")
    return write_off


def _disputed(invoice_ids: list[int]) -> list[str]:
    rows = (Dispute.objects.filter(invoice_id__in=invoice_ids, status__in=OPEN_DISPUTE_STATUSES)
            .values_list("invoice__number", flat=True).distinct())
    return sorted(rows)


def _refuse_disputed(invoice_ids: list[int]) -> None:
    numbers = _disputed(invoice_ids)
    if numbers:
        raise DomainError(f"{', '.join(numbers)} {'is' if len(numbers) == 1 else 'are'} under an open dispute: resolve "
                          "the dispute (credit note, rejection or withdrawal) before writing off.",
                          code="disputed", fields={"invoices": numbers})


def _functional(amount: Decimal, currency: str, entity: LegalEntity, on: dt.date) -> Decimal:
    rate = fx_rate_for(from_currency=currency, to_currency=entity.functional_currency, on=on)
    return quantize(amount * rate, entity.functional_currency)


def _invoice_for_items(items: list[OpenItem]) -> dict[int, Invoice]:
    """Open item id -> the invoice it is the AR item of."""
    invoices = Invoice.objects.filter(open_item_id__in=[i.pk for i in items])
    return {invoice.open_item_id: invoice for invoice in invoices}


def _items(open_item_ids: list[int], invoice_ids: list[int]) -> list[OpenItem]:
    ids = set(open_item_ids)
    if invoice_ids:
        invoices = dict(Invoice.objects.filter(pk__in=invoice_ids).values_list("pk", "open_item_id"))
        missing = set(invoice_ids) - set(invoices)
        if missing:
            raise ValidationFailed(f"Invoice {min(missing)} does not exist.", fields={"invoices": ["unknown"]})
        for invoice_id, item_id in invoices.items():
            if item_id is None:
                raise ValidationFailed(f"Invoice {invoice_id} is not issued: nothing to write off.")
            ids.add(item_id)
    if not ids:
        raise ValidationFailed("Choose at least one invoice or open item to write off.", fields={"items": ["required"]})
    items = list(OpenItem.objects.select_related("account").filter(pk__in=sorted(ids)).order_by("pk"))
    if len(items) != len(ids):
        raise ValidationFailed("An open item to write off does not exist.", fields={"items": ["unknown"]})
    return items


def _check_items(items: list[OpenItem], *, exclude_write_off: int | None = None) -> None:
    for item in items:
        if item.account.role != Account.Role.AR or item.original_amount <= 0:
            raise ValidationFailed(f"{item.document_number} is not a receivable (only AR debits are written off).")
        if item.open_amount <= 0:
            raise ValidationFailed(f"{item.document_number} has nothing open to write off.",
                                   fields={"items": [item.document_number]})
    if len({(i.legal_entity_id, i.customer_id, i.currency) for i in items}) != 1:
        raise ValidationFailed("One write-off covers one customer's items in one legal entity and currency.")
    live = (WriteOffLine.objects.filter(open_item__in=items, write_off__status__in=LIVE_STATUSES)
            .exclude(write_off_id=exclude_write_off).select_related("write_off").first())
    if live is not None:
        raise ValidationFailed(f"{live.document_number} is already in write-off {live.write_off} "
                               f"({live.write_off.get_status_display().lower()}).", fields={"items": ["in progress"]})


def _required_approvals(write_off: WriteOff, entity: LegalEntity, policy: WriteOffPolicy) -> int:
    if policy.second_approval_above is None:
        return 1
    try:
        amount = _functional(write_off.amount, write_off.currency, entity, dates.today())
    except DomainError:  # no rate to the functional currency: the stricter chain
        return 2
    return 2 if amount > policy.second_approval_above else 1


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


def _create(*, items: list[OpenItem], reason: str, explanation: str, by: User | None,
            batch: WriteOffBatch | None = None, amounts: dict[int, Decimal] | None = None) -> WriteOff:
    if reason not in WriteOffReason.values:
        raise ValidationFailed(f"Unknown reason {reason!r}.", fields={"reason": ["invalid"]})
    _check_items(items)
    line_amounts = _line_amounts(items, amounts or {})
    by_item = _invoice_for_items(items)
    _refuse_disputed([inv.pk for inv in by_item.values()])
    first = items[0]
    entity = LegalEntity.objects.get(pk=first.legal_entity_id)
    total = sum(line_amounts.values(), ZERO)
    write_off = WriteOff(legal_entity=entity, customer_id=first.customer_id, currency=first.currency, amount=total,
                         reason=reason, explanation=explanation.strip(), requested_by=by, batch=batch)
    write_off.required_approvals = _required_approvals(write_off, entity, policy_for(entity.pk))
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
    _require(by, "collections_app.request_writeoff", "request write-offs")
    if reason != WriteOffReason.SMALL_BALANCE and not (explanation or "").strip():
        raise ValidationFailed("Explain why the balance is uncollectible.", fields={"explanation": ["required"]})
    invoice_amounts, item_amounts = dict(invoice_amounts or {}), dict(item_amounts or {})
    items = _items(list(open_item_ids or []) + list(item_amounts), list(invoice_ids or []) + list(invoice_amounts))
    amounts = dict(item_amounts)
    if invoice_amounts:
        for invoice_id, item_id in Invoice.objects.filter(pk__in=list(invoice_amounts)).values_list("pk", "open_item_id"):
            amounts[item_id] = invoice_amounts[invoice_id]
    write_off = _create(items=items, reason=reason, explanation=explanation or "", by=by, amounts=amounts)
    if submit:
        _submit(write_off, by)
    return write_off


def _submit(write_off: WriteOff, by: User | None) -> None:
    ensure_transition(write_off, to=WriteOffStatus.SUBMITTED)
    write_off.status, write_off.submitted_at = WriteOffStatus.SUBMITTED, dates.now()
    write_off.save(update_fields=["status", "submitted_at", "updated_at"])
    record_status_change(write_off, by=by, from_state=WriteOffStatus.DRAFT)


@transaction.atomic(durable=True)
def writeoff_submit(*, write_off_id: int, by: User) -> WriteOff:
    _require(by, "collections_app.request_writeoff", "submit write-offs")
    write_off = lock_write_off(write_off_id)
    if write_off.batch_id:
        raise InvalidTransition("This write-off is part of a small-balance batch: submit the batch.")
    _submit(write_off, by)
    return write_off


@transaction.atomic(durable=True)
def writeoff_attach(*, write_off_id: int, name: str, content: bytes, by: User) -> WriteOffAttachment:
    """Add evidence (a court notice, the agency's closing letter...) until the write-off is posted."""
    _require(by, "collections_app.request_writeoff", "add write-off evidence")
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
    if write_off.batch_id and write_off.batch.submitted_by_id == by.id:
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
    _require(by, "collections_app.approve_writeoff", "approve write-offs")
    write_off = lock_write_off(write_off_id)
    if write_off.batch_id:
        raise InvalidTransition("This write-off is part of a small-balance batch: approve the batch.")
    ensure_transition(write_off, to=WriteOffStatus.APPROVED)
    _refuse_disputed(list(write_off.lines.exclude(invoice=None).values_list("invoice_id", flat=True)))
    if _approve_level(write_off, by, (note or "").strip()):
        _decide(write_off, by, WriteOffStatus.APPROVED, (note or "").strip())
    return write_off


def _decide(write_off: WriteOff, by: User, to: str, note: str) -> None:
    before = write_off.status
    write_off.status, write_off.decided_by, write_off.decided_at, write_off.decision_note = to, by, dates.now(), note
    write_off.save(update_fields=["status", "decided_by", "decided_at", "decision_note", "updated_at"])
    record_status_change(write_off, by=by, from_state=before, note=note[:500])


@transaction.atomic(durable=True)
def writeoff_reject(*, write_off_id: int, by: User, note: str) -> WriteOff:
    """Reject a submitted or approved (not yet posted) write-off, with the reason."""
    _require(by, "collections_app.approve_writeoff", "reject write-offs")
    if not (note or "").strip():
        raise ValidationFailed("Say why the write-off is rejected.", fields={"note": ["required"]})
    write_off = lock_write_off(write_off_id)
    if write_off.batch_id:
        raise InvalidTransition("This write-off is part of a small-balance batch: reject the batch.")
    ensure_transition(write_off, to=WriteOffStatus.REJECTED)
    if write_off.requested_by_id == by.id:
        raise SegregationOfDuties(f"You requested {write_off}; another person must decide on it.")
    _decide(write_off, by, WriteOffStatus.REJECTED, note.strip())
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


def _split(total: Decimal, weights: dict[int, Decimal], currency: str) -> dict[int, Decimal]:
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


def _post(write_off: WriteOff, by: User | None, on: dt.date) -> WriteOff:
    ensure_transition(write_off, to=WriteOffStatus.POSTED)
    lines = list(write_off.lines.order_by("pk"))
    # Lock order as in cash application: the invoices (id order), then the ledger (period, items).
    invoices = {i.pk: i for i in lock_invoices([line.invoice_id for line in lines if line.invoice_id])}
    for line in lines:
        line.invoice = invoices.get(line.invoice_id)
    _refuse_disputed(list(invoices))
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
    vat_accounts = _vat_accounts(write_off.legal_entity_id, [line.invoice for line in lines if line.invoice_id]) \
        if policy.vat_relief else {}
    for line in lines:
        invoice = line.invoice
        tax = ZERO
        line.tax_accounts = {}
        if policy.vat_relief and invoice is not None and invoice.tax_total and invoice.gross_total:
            tax = quantize(line.amount * invoice.tax_total / invoice.gross_total, cur)
            line.tax_accounts = {str(k): str(v) for k, v in _split(tax, vat_accounts[invoice.pk], cur).items()}
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
    _require(by, "collections_app.post_writeoff", "post write-offs")
    write_off = lock_write_off(write_off_id)
    if write_off.batch_id:
        raise InvalidTransition("This write-off is part of a small-balance batch: post the batch.")
    return _post(write_off, by, posting_date or dates.today())


# --- small-balance batches --------------------------------------------------------------------

def small_balance_candidates(*, legal_entity_id: int, as_of: dt.date) -> list[list[OpenItem]]:
    """The AR items the entity's small-balance policy would write off on `as_of`, grouped per
    customer and currency: open, at most the policy's amount (converted to the functional
    currency at the day's rate), due at least the policy's days ago, not disputed, not already
    in a live write-off."""
    policy = policy_for(legal_entity_id)
    if not policy.small_balance_enabled or policy.small_balance_max <= 0:
        return []
    entity = LegalEntity.objects.get(pk=legal_entity_id)
    cutoff = as_of - dt.timedelta(days=policy.small_balance_min_age_days)
    items = (OpenItem.objects.filter(legal_entity_id=legal_entity_id, account__role=Account.Role.AR,
                                     open_amount__gt=0, due_date__lte=cutoff)
             .exclude(write_off_lines__write_off__status__in=LIVE_STATUSES)
             .order_by("customer_id", "currency", "pk"))
    rates: dict[str, Decimal] = {}
    disputed_items = set(Invoice.objects.filter(
        disputes__status__in=OPEN_DISPUTE_STATUSES, legal_entity_id=legal_entity_id).values_list("open_item_id", flat=True))
    groups: dict[tuple[int, str], list[OpenItem]] = defaultdict(list)
    for item in items.filter(open_amount__lte=_max_in_any_currency(policy.small_balance_max)):
        if item.pk in disputed_items:
            continue
        if item.currency not in rates:
            try:
                rates[item.currency] = fx_rate_for(from_currency=item.currency, to_currency=entity.functional_currency,
                                                   on=as_of)
            except DomainError:
                rates[item.currency] = Decimal(0)  # no rate: not judged small
        rate = rates[item.currency]
        if rate and quantize(item.open_amount * rate, entity.functional_currency) <= policy.small_balance_max:
            groups[item.customer_id, item.currency].append(item)
    return [groups[key] for key in sorted(groups)]


def _max_in_any_currency(amount: Decimal) -> Decimal:
    """A coarse database pre-filter (no currency's rate to the functional one is above 1,000,000)."""
    return amount * 1_000_000


@transaction.atomic
def small_balance_batch_propose(*, legal_entity_id: int, as_of: dt.date | None = None,
                                by: User | None = None) -> WriteOffBatch | None:
    """Propose this month's small-balance batch (idempotent: an existing batch for the month is
    returned, never duplicated). `by` None is the monthly schedule. None when nothing qualifies."""
    if by is not None:
        _require(by, "collections_app.request_writeoff", "propose small-balance write-offs")
    as_of = as_of or dates.today()
    month = as_of.replace(day=1)
    LegalEntity.objects.select_for_update().get(pk=legal_entity_id)  # one proposal at a time per entity
    existing = WriteOffBatch.objects.filter(legal_entity_id=legal_entity_id, month=month).first()
    if existing is not None:
        return existing
    groups = small_balance_candidates(legal_entity_id=legal_entity_id, as_of=as_of)
    if not groups:
        return None
    batch = WriteOffBatch.objects.create(legal_entity_id=legal_entity_id, month=month, as_of=as_of, proposed_by=by)
    for group in groups:
        _create(items=group, reason=WriteOffReason.SMALL_BALANCE, by=by, batch=batch,
                explanation=f"Small balance under the policy of {as_of.isoformat()}")
    record_status_change(batch, by=by, from_state="", note=f"{len(groups)} write-offs proposed")
    return batch


def lock_batch(batch_id: int) -> WriteOffBatch:
    batch = WriteOffBatch.objects.select_for_update(of=("self",)).filter(pk=batch_id).first()
    if batch is None:
        raise ValidationFailed(f"Batch {batch_id} does not exist.")
    return batch


def _batch_write_offs(batch: WriteOffBatch) -> list[WriteOff]:
    return list(WriteOff.objects.select_for_update(of=("self",)).filter(batch=batch).order_by("pk"))


def _batch_move(batch: WriteOffBatch, to: str, by: User | None, note: str = "") -> None:
    ensure_transition(batch, to=to)
    before, batch.status = batch.status, to
    batch.save()
    record_status_change(batch, by=by, from_state=before, note=note[:500])


@transaction.atomic(durable=True)
def batch_submit(*, batch_id: int, by: User) -> WriteOffBatch:
    """A person reviews the proposal and sends it for approval (they cannot approve it then)."""
    _require(by, "collections_app.request_writeoff", "submit write-off batches")
    batch = lock_batch(batch_id)
    batch.submitted_by = by
    _batch_move(batch, WriteOffStatus.SUBMITTED, by)
    for write_off in _batch_write_offs(batch):
        _submit(write_off, by)
    return batch


@transaction.atomic(durable=True)
def batch_approve(*, batch_id: int, by: User, note: str = "") -> WriteOffBatch:
    """One approval for the whole batch: not its proposer or submitter, a limit per currency that
    covers the batch's total in that currency."""
    _require(by, "collections_app.approve_writeoff", "approve write-offs")
    batch = lock_batch(batch_id)
    ensure_transition(batch, to=WriteOffStatus.APPROVED)
    if by.id in (batch.proposed_by_id, batch.submitted_by_id):
        raise SegregationOfDuties("You proposed or submitted this batch; another person must approve it.")
    write_offs = _batch_write_offs(batch)
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for write_off in write_offs:
        totals[write_off.currency] += write_off.amount
    for currency, total in sorted(totals.items()):
        limit = approval_limit(user=by, kind="write_off", currency=currency, legal_entity_id=batch.legal_entity_id)
        if total > limit:
            raise LimitExceeded(f"The batch's {money_text(total, currency)} exceeds your write-off approval limit of "
                                f"{money_text(limit, currency)}.")
    _refuse_disputed(list(WriteOffLine.objects.filter(write_off__batch=batch).exclude(invoice=None)
                          .values_list("invoice_id", flat=True)))
    for write_off in write_offs:
        WriteOffApproval.objects.create(write_off=write_off, level=1, approver=by, note=note.strip(),
                                        limit=approval_limit(user=by, kind="write_off", currency=write_off.currency,
                                                             legal_entity_id=batch.legal_entity_id))
        _decide(write_off, by, WriteOffStatus.APPROVED, (note or "").strip())
    batch.decided_by, batch.decided_at, batch.decision_note = by, dates.now(), (note or "").strip()
    _batch_move(batch, WriteOffStatus.APPROVED, by, note)
    return batch


@transaction.atomic(durable=True)
def batch_reject(*, batch_id: int, by: User, note: str) -> WriteOffBatch:
    _require(by, "collections_app.approve_writeoff", "reject write-offs")
    if not (note or "").strip():
        raise ValidationFailed("Say why the batch is rejected.", fields={"note": ["required"]})
    batch = lock_batch(batch_id)
    ensure_transition(batch, to=WriteOffStatus.REJECTED)
    if by.id in (batch.proposed_by_id, batch.submitted_by_id):
        raise SegregationOfDuties("You proposed or submitted this batch; another person must decide on it.")
    for write_off in _batch_write_offs(batch):
        _decide(write_off, by, WriteOffStatus.REJECTED, note.strip())
    batch.decided_by, batch.decided_at, batch.decision_note = by, dates.now(), note.strip()
    _batch_move(batch, WriteOffStatus.REJECTED, by, note)
    return batch


@transaction.atomic(durable=True)
def batch_post(*, batch_id: int, by: User, posting_date: dt.date | None = None) -> WriteOffBatch:
    """Post every write-off of an approved batch (one entry each), all or nothing."""
    _require(by, "collections_app.post_writeoff", "post write-offs")
    batch = lock_batch(batch_id)
    ensure_transition(batch, to=WriteOffStatus.POSTED)
    on = posting_date or dates.today()
    for write_off in _batch_write_offs(batch):
        _post(write_off, by, on)
    batch.posted_by, batch.posted_at = by, dates.now()
    _batch_move(batch, WriteOffStatus.POSTED, by)
    return batch


# --- recoveries (registry hook called by receivables' cash application) ------------------------

def _recover(line: WriteOffLine, amount: Decimal, *, receipt: Any, by: User | None, on: dt.date) -> WriteOffRecovery:
    write_off = line.write_off
    policy = policy_for(write_off.legal_entity_id)
    cur = write_off.currency
    mode = policy.recovery_mode
    tax = ZERO
    if line.tax_amount:
        left_tax = line.tax_amount - quantize(line.tax_amount * line.recovered_amount / line.amount, cur)
        tax = left_tax if amount == line.amount - line.recovered_amount else min(
            left_tax, quantize(amount * line.tax_amount / line.amount, cur))
    credit_role = write_off.debit_role if mode == RecoveryMode.REINSTATE else RECOVERY
    specs = [LineSpec(amount=amount, role=Account.Role.AR, customer_id=write_off.customer_id,
                      settle_item_id=line.open_item_id, description=f"{line.document_number} reinstated ({write_off})")]
    if amount - tax:
        specs.append(LineSpec(amount=-(amount - tax), role=credit_role,
                              description=f"Recovery on {write_off} ({RecoveryMode(mode).label.lower()})"))
    if tax:
        accounts = {int(k): Decimal(v) for k, v in (line.tax_accounts or {}).items()}
        for account_id, share in _split(tax, accounts, cur).items():
            specs.append(LineSpec(amount=-share, account_id=account_id, description=f"{write_off} VAT relief repaid"))
        if not accounts:  # posted before relief was kept per account: the tax-payable account
            specs.append(LineSpec(amount=-tax, role=Account.Role.TAX_PAYABLE,
                                  description=f"{write_off} VAT relief repaid"))
    entry = journal_post(
        legal_entity_id=write_off.legal_entity_id, kind=JournalEntry.Kind.RECOVERY, document_date=on, currency=cur,
        by=by, lines=specs, source=write_off, source_reference=str(write_off),
        memo=f"Recovery of {line.document_number} written off by {write_off}"
             + (f" (receipt {receipt.number})" if receipt is not None else ""))
    line.recovered_amount += amount
    line.save(update_fields=["recovered_amount"])
    WriteOff.objects.filter(pk=write_off.pk).update(recovered_amount=write_off.recovered_amount + amount,
                                                    updated_at=dates.now())
    write_off.recovered_amount += amount
    return WriteOffRecovery.objects.create(write_off=write_off, line=line, mode=mode, amount=amount, tax_amount=tax,
                                           receipt=receipt, journal_entry=entry, by=by)


def _reinstate_items(needs: dict[int, Decimal], *, receipt: Any, by: User | None) -> list[WriteOffRecovery]:
    """Reopen written-off items by what is needed (open item id -> amount), latest write-off first."""
    if not needs:
        return []
    # the lines locked (id order) so that two receipts recovering one item queue here
    locked = list(WriteOffLine.objects.select_for_update(of=("self",))
                  .filter(open_item_id__in=list(needs), write_off__status=WriteOffStatus.POSTED)
                  .order_by("pk").values_list("pk", flat=True))
    lines = list(WriteOffLine.objects.select_related("write_off").filter(pk__in=locked)
                 .order_by("-write_off_id", "pk"))
    on = max(dates.today(), receipt.value_date) if receipt is not None else dates.today()
    recoveries, invoice_changes = [], defaultdict(Decimal)
    for line in lines:
        need = needs.get(line.open_item_id, ZERO)
        left = line.amount - line.recovered_amount
        take = min(need, left)
        if take <= 0:
            continue
        recoveries.append(_recover(line, take, receipt=receipt, by=by, on=on))
        needs[line.open_item_id] = need - take
        if line.invoice_id:
            invoice_changes[line.invoice_id] -= take
    if invoice_changes:
        invoices_record_write_offs(changes=dict(invoice_changes), by=by,
                                   note=f"Recovery{' by receipt ' + receipt.number if receipt is not None else ''}")
    return recoveries


def writeoff_recover_for_receipt(*, receipt: Any, invoice_amounts: dict[int, Decimal],
                                 item_amounts: dict[int, Decimal], by: User | None) -> list[WriteOffRecovery]:
    """The receivables hook: for cash about to be applied beyond what is open on a written-off
    invoice or item, reinstate that much of the write-off first (inside the application's
    transaction, so a refused application undoes it too)."""
    needs: dict[int, Decimal] = {}
    if invoice_amounts:
        written = list(Invoice.objects.filter(pk__in=list(invoice_amounts), amount_written_off__gt=0)
                       .values_list("pk", flat=True))
        # locked now (id order) as receivables is about to: the written-off amount read is current
        for invoice in lock_invoices(written).filter(legal_entity_id=receipt.legal_entity_id,
                                                    currency=receipt.currency):
            beyond = invoice_amounts[invoice.pk] - max(invoice.balance_due, ZERO)
            if beyond > 0 and invoice.open_item_id:
                needs[invoice.open_item_id] = min(beyond, invoice.amount_written_off)
    if item_amounts:
        written = set(WriteOffLine.objects.filter(open_item_id__in=list(item_amounts), invoice=None,
                                                  write_off__status=WriteOffStatus.POSTED)
                      .values_list("open_item_id", flat=True))
        for item in OpenItem.objects.filter(pk__in=written, legal_entity_id=receipt.legal_entity_id,
                                            currency=receipt.currency):
            beyond = item_amounts[item.pk] - item.open_amount
            if beyond > 0:
                needs[item.pk] = beyond
    return _reinstate_items(needs, receipt=receipt, by=by)
