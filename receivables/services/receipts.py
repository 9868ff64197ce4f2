"""Receivables services: recording receipts, identifying the payer, applying cash to invoices,
reversing applications, putting cash on account, refunds and returned (NSF) receipts.

Every write posts through `ledger` in the same transaction (the postings are described in
receivables/models.py) and moves the invoices' paid amounts through `billing`'s
`invoices_record_payments`.

Locks, always in this order: the receipt row, the invoices (id order, in billing), then the
ledger's (period, open items in id order, numbering series). Two specialists applying the same
receipt at once queue on the receipt row; two receipts paying the same invoice queue on the
invoice row; the second sees what the first applied and is refused if nothing is left. The
database backs it: `Receipt` cannot be applied past its amount, an invoice cannot be paid past
its gross, an open item cannot move past zero.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction

from billing.models import Invoice
from billing.services import invoices_record_payments
from customers.models import Customer
from ledger.models import Account, JournalEntry, LegalEntity, OpenItem
from ledger.services import (
    EntrySpec,
    LineSpec,
    journal_post,
    journal_post_batch,
    journal_reverse,
    number_series_take,
)
from otc import dates
from otc.bulk import bulk_insert_rows, bulk_update_rows, history_insert
from otc.errors import InvalidTransition, PermissionDenied, ValidationFailed
from otc.models import User
from otc.money import check_plausible, minor_units, money_text, quantize, to_decimal, validate_currency
from otc.registry import registry
from otc.services import outbox_emit, outbox_emit_many, status_move, text_within
from receivables.matching import normalize_payer
from receivables.models import BankAccount, PayerAlias, Receipt, ReceiptApplication

from .postings import (  # noqa: F401 - SUSPENSE, UNAPPLIED: still importable from here
    CASH,
    SUSPENSE,
    UNAPPLIED,
    application_entry,
    identification_entry,
    item_application_entry,
    recording_entry,
    status_after,
)

ON_ACCOUNT_NOTE_LIMIT = 500  # characters of the optional note when cash is left on account
LIVE = (Receipt.Status.UNAPPLIED, Receipt.Status.PARTIALLY_APPLIED, Receipt.Status.APPLIED, Receipt.Status.ON_ACCOUNT)


def require_perm(by: User | None, perm: str, what: str) -> None:
    if by is None or not by.has_perm(perm):
        raise PermissionDenied(f"Your role may not {what}.")


def lock_receipt(receipt_id: int) -> Receipt:
    receipt = Receipt.objects.select_for_update(of=("self",)).filter(pk=receipt_id).first()
    if receipt is None:
        raise ValidationFailed(f"Receipt {receipt_id} does not exist.")
    return receipt


def normalize_account(value: str) -> str:
    """An account number or IBAN as compared: no spaces or dashes, upper case."""
    return re.sub(r"[\s\-]", "", value or "").upper()


# --- bank accounts -----------------------------------------------------------------------------

@transaction.atomic(durable=True)
def bank_account_create(*, legal_entity_id: int, name: str, account_number: str, currency: str,
                        gl_account_id: int | None = None, bank_name: str = "", bic: str = "",
                        by: User | None) -> BankAccount:
    """A bank account of an entity; its cash account defaults to the entity's lowest-code cash
    account (it must be a cash account of the same entity)."""
    require_perm(by, "receivables.add_bankaccount", "add bank accounts")
    entity = LegalEntity.objects.filter(pk=legal_entity_id).first()
    if entity is None:
        raise ValidationFailed(f"Legal entity {legal_entity_id} does not exist.")
    accounts = Account.objects.filter(legal_entity=entity, role=CASH, is_active=True).order_by("code")
    gl = accounts.filter(pk=gl_account_id).first() if gl_account_id else accounts.first()
    if gl is None:
        raise ValidationFailed(f"{entity.code} has no active cash account{' with that id' if gl_account_id else ''}.",
                               fields={"gl_account": ["not a cash account of the entity"]})
    number = normalize_account(account_number)
    if not number:
        raise ValidationFailed("Give the account number or IBAN.", fields={"account_number": ["required"]})
    if BankAccount.objects.filter(account_number=number).exists():
        raise ValidationFailed(f"Bank account {number} already exists.", fields={"account_number": ["duplicate"]})
    return BankAccount.objects.create(legal_entity=entity, name=name.strip() or number, account_number=number,
                                      currency=validate_currency(currency), gl_account=gl, bank_name=bank_name,
                                      bic=bic)


# --- recording ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class ReceiptInput:
    """One receipt to record (from a statement line, a cheque, a bank integration)."""

    bank_account_id: int
    value_date: dt.date
    amount: Decimal
    currency: str = ""
    payer_name: str = ""
    payer_account: str = ""
    remittance: str = ""
    bank_reference: str = ""
    end_to_end_id: str = ""
    customer_id: int | None = None
    statement_id: int | None = None


class RecordedReceipts(list):
    """The receipts recorded (a list) with `.duplicates`: the inputs skipped because their bank
    reference was already recorded on that account (or appears twice in the batch)."""

    duplicates: list[ReceiptInput]


def receipts_record(*, items: list[ReceiptInput], by: User | None, source: str = Receipt.Source.MANUAL
                    ) -> RecordedReceipts:
    """Record receipts in bulk inside the caller's transaction: validate, skip duplicates by bank
    reference, number them per entity and year, post each (cash against unapplied cash of the
    identified customer, else against suspense) with one batch posting per entity and date."""
    result = RecordedReceipts()
    result.duplicates = []
    if not items:
        return result
    accounts = BankAccount.objects.select_related("legal_entity").in_bulk({i.bank_account_id for i in items})
    customers = Customer.objects.in_bulk({i.customer_id for i in items if i.customer_id})
    seen: set[tuple[int, str]] = set()
    existing = set(Receipt.objects.filter(
        bank_account_id__in=list(accounts), bank_reference__in=[i.bank_reference for i in items if i.bank_reference],
    ).values_list("bank_account_id", "bank_reference"))
    todo: list[tuple[ReceiptInput, BankAccount, Decimal]] = []
    for index, item in enumerate(items, start=1):
        account = accounts.get(item.bank_account_id)
        if account is None or not account.is_active:
            raise ValidationFailed(f"Receipt {index}: bank account {item.bank_account_id} is unknown or inactive.")
        currency = validate_currency(item.currency or account.currency)
        if currency != account.currency:
            raise ValidationFailed(f"Receipt {index}: {currency} does not go into {account} ({account.currency}).",
                                   fields={"currency": ["not the account's currency"]})
        amount = to_decimal(item.amount)
        if amount <= 0:
            raise ValidationFailed(f"Receipt {index}: {amount} is not a positive amount in {currency}.",
                                   fields={"amount": ["invalid"]})
        if quantize(amount, currency) != amount:
            raise ValidationFailed(f"Receipt {index}: {amount} has more than {minor_units(currency)} decimal places, "
                                   f"which {currency} does not allow.", fields={"amount": ["too many decimals"]})
        check_plausible(amount, currency, what=f"Receipt {index}: the amount", field="amount")
        if item.customer_id and item.customer_id not in customers:
            raise ValidationFailed(f"Receipt {index}: customer {item.customer_id} does not exist.")
        key = (account.pk, item.bank_reference)
        if item.bank_reference and (key in existing or key in seen):
            result.duplicates.append(item)
            continue
        seen.add(key)
        todo.append((item, account, amount))
    if not todo:
        return result

    stamp = dates.now()
    receipts: list[Receipt] = []
    by_entity_year: dict[tuple[int, int], list[Receipt]] = defaultdict(list)
    for item, account, amount in todo:
        receipt = Receipt(
            legal_entity_id=account.legal_entity_id, bank_account=account, statement_id=item.statement_id,
            source=source, value_date=item.value_date, amount=amount, currency=account.currency,
            payer_name=item.payer_name[:200], payer_account=normalize_account(item.payer_account)[:60],
            remittance=item.remittance, bank_reference=item.bank_reference[:100],
            end_to_end_id=item.end_to_end_id[:100], customer_id=item.customer_id, created_by=by,
            created_at=stamp, updated_at=stamp,
        )
        receipts.append(receipt)
        by_entity_year[account.legal_entity_id, item.value_date.year].append(receipt)
    for (entity_id, year), group in sorted(by_entity_year.items()):
        code = group[0].bank_account.legal_entity.code
        numbers = number_series_take(legal_entity_id=entity_id, doc_type="receipt", fiscal_year=year, count=len(group))
        for receipt, n in zip(group, numbers, strict=True):
            receipt.number = f"RC-{code}-{year}-{n:06d}"
    bulk_insert_rows(receipts)

    batches: dict[tuple[int, dt.date], list[Receipt]] = defaultdict(list)
    for receipt in receipts:
        batches[receipt.legal_entity_id, receipt.value_date].append(receipt)
    for (entity_id, on), group in sorted(batches.items()):
        entries = journal_post_batch(legal_entity_id=entity_id, kind=JournalEntry.Kind.RECEIPT, document_date=on, by=by,
                                     entries=[recording_entry(receipt) for receipt in group])
        for receipt, entry in zip(group, entries, strict=True):
            receipt.journal_entry = entry
            receipt.open_item = entry.opened_items[0] if entry.opened_items else None
    bulk_update_rows(receipts, ["journal_entry", "open_item"])
    history_insert(receipts, created=True, by=by, reason=f"recorded ({source})", at=stamp)
    outbox_emit_many(topic="receipt.recorded", subject_type="receipt", events=[(r.pk, {
        "id": r.pk, "number": r.number, "amount": str(r.amount), "currency": r.currency,
        "value_date": r.value_date.isoformat(), "customer_id": r.customer_id}) for r in receipts])
    result.extend(receipts)
    return result


def payable_items(receipt: Receipt, wanted: dict[int, Decimal]) -> dict[int, OpenItem]:
    """The AR open items without an invoice that `wanted` ({open item id: amount}) pays, checked:
    the receipt's entity and currency, something open, no more than is open. Locked in id order
    (the ledger settles them in the same transaction)."""
    if not wanted:
        return {}
    items = {item.pk: item for item in OpenItem.objects.select_for_update(of=("self",)).select_related("customer", "account")
             .filter(pk__in=sorted(wanted)).order_by("pk")}
    for item_id, amount in wanted.items():
        item = items.get(item_id)
        if item is None or item.account.role != Account.Role.AR or item.original_amount <= 0 \
                or item.document_type == "invoice":
            raise ValidationFailed(f"Open item {item_id} is not an open receivable without an invoice.")
        if item.currency != receipt.currency or item.legal_entity_id != receipt.legal_entity_id:
            raise ValidationFailed(f"{item.document_number} is in {item.currency} of another entity or currency than "
                                   f"{receipt.number}.", fields={"currency": ["mismatch"]})
        if amount > item.open_amount:
            raise ValidationFailed(f"{item.document_number} has {money_text(item.open_amount, item.currency)} open; "
                                   f"{money_text(amount, item.currency)} is too much.", fields={"amount": ["over"]})
    return items


@transaction.atomic
def receipt_record(*, data: dict[str, Any], by: User) -> Receipt:
    """One manual receipt (a cheque, a lockbox item): bank_account_id, value_date, amount and
    optionally payer_name, payer_account, remittance, bank_reference, customer_id. A bank
    reference already recorded on the account is refused (not silently skipped)."""
    require_perm(by, "receivables.add_receipt", "record receipts")
    missing = [name for name in ("bank_account_id", "value_date", "amount") if data.get(name) in (None, "")]
    if missing:
        raise ValidationFailed(f"Give the {', '.join(m.replace('_id', '').replace('_', ' ') for m in missing)}.",
                               fields={name: ["required"] for name in missing})
    fields = ReceiptInput.__dataclass_fields__
    item = ReceiptInput(**{k: v for k, v in data.items() if k in fields and v is not None})
    recorded = receipts_record(items=[item], by=by, source=data.get("source") or Receipt.Source.MANUAL)
    if recorded.duplicates:
        raise duplicate_bank_reference(bank_account_id=item.bank_account_id, bank_reference=item.bank_reference)
    return recorded[0]


class DuplicateBankReference(ValidationFailed):
    """A bank reference already recorded on the account: 409 naming the receipt it is on."""

    code = "conflict"
    http_status = 409

    def __init__(self, message: str, *, receipt: Receipt | None, **kwargs) -> None:
        super().__init__(message, **kwargs)
        self.receipt = receipt


def duplicate_bank_reference(*, bank_account_id: int, bank_reference: str) -> DuplicateBankReference:
    existing = Receipt.objects.filter(bank_account_id=bank_account_id, bank_reference=bank_reference).first()
    on = f" as receipt {existing.number} (id {existing.pk})" if existing else ""
    return DuplicateBankReference(
        f"Bank reference {bank_reference} is already recorded on this account{on}.", receipt=existing,
        fields={"bank_reference": ["duplicate"], **({"receipt": [str(existing.pk)]} if existing else {})})


# --- identifying the payer ------------------------------------------------------------------------

def receipt_identify_locked(receipt: Receipt, customer: Customer, by: User | None) -> None:
    """Give an unidentified receipt, locked by the caller, its customer: suspense to unapplied cash
    (opening the item). No permission check: the caller's service made it."""
    if receipt.customer_id == customer.pk:
        return
    if receipt.customer_id is not None:
        raise InvalidTransition(f"{receipt.number} is already {receipt.customer}'s receipt.")
    [entry] = journal_post_batch(
        legal_entity_id=receipt.legal_entity_id, kind=JournalEntry.Kind.RECEIPT, document_date=dates.today(), by=by,
        entries=[identification_entry(receipt, customer.pk, f"Receipt {receipt.number} identified as {customer.legal_name}")])
    receipt.customer, receipt.identify_entry, receipt.open_item = customer, entry, entry.opened_items[0]
    receipt.save(update_fields=["customer", "identify_entry", "open_item", "updated_at"])


@transaction.atomic(durable=True)
def receipt_identify(*, receipt_id: int, customer_id: int, by: User) -> Receipt:
    """Say who paid an unidentified receipt (without applying it yet)."""
    require_perm(by, "receivables.apply_receipt", "identify receipts")
    receipt = lock_receipt(receipt_id)
    if receipt.status not in LIVE:
        raise InvalidTransition(f"{receipt.number} is {receipt.get_status_display().lower()}.")
    customer = Customer.objects.filter(pk=customer_id).first()
    if customer is None:
        raise ValidationFailed(f"Customer {customer_id} does not exist.")
    receipt_identify_locked(receipt, customer, by)
    _learn(receipt, customer)
    return receipt


def _learn(receipt: Receipt, customer: Customer) -> None:
    """Remember the payer's name and account for this customer (the matching rules read them)."""
    rows = []
    if receipt.payer_name and (key := normalize_payer(receipt.payer_name)):
        rows.append(PayerAlias(kind=PayerAlias.Kind.NAME, value=key[:200], customer=customer, learned_from=receipt))
    if receipt.payer_account:
        rows.append(PayerAlias(kind=PayerAlias.Kind.ACCOUNT, value=receipt.payer_account, customer=customer,
                               learned_from=receipt))
    PayerAlias.objects.bulk_create(rows, ignore_conflicts=True)


# --- applying ----------------------------------------------------------------------------------

@transaction.atomic
def receipt_apply(*, receipt_id: int, allocations: list[tuple[int, Decimal]], by: User | None,
                  rule: str = "manual", score: float | None = None, reason: str = "",
                  on_account: bool = False) -> list[ReceiptApplication]:
    """Apply part or all of a receipt to open invoices of one customer: one posting per invoice
    (debit unapplied cash, credit AR), the invoices' paid amounts and statuses follow. Refused
    past what is left on the receipt or on any invoice, across currencies, entities or customers.
    `by=None` is the automatic matcher (the rule and score are recorded); a person needs
    receivables.apply_receipt, and what they apply teaches the matcher the payer's name and account.
    `on_account`: leave what remains as the customer's credit (an accepted overpayment)."""
    if by is not None:
        require_perm(by, "receivables.apply_receipt", "apply receipts")
    receipt = lock_receipt(receipt_id)
    if receipt.status not in LIVE:
        raise InvalidTransition(f"{receipt.number} is {receipt.get_status_display().lower()}: nothing can be applied.")
    wanted: dict[int, Decimal] = defaultdict(Decimal)
    for invoice_id, amount in allocations:
        amount = check_plausible(to_decimal(amount), receipt.currency, field="amount")
        if amount <= 0 or quantize(amount, receipt.currency) != amount:
            raise ValidationFailed(f"{amount} is not a positive amount in {receipt.currency}.",
                                   fields={"amount": ["invalid"]})
        wanted[int(invoice_id)] += amount
    if not wanted:
        raise ValidationFailed("Choose at least one invoice to apply the receipt to.", fields={"allocations": ["required"]})
    total = sum(wanted.values(), Decimal(0))
    if total > receipt.unapplied_amount:
        raise ValidationFailed(
            f"{receipt.number} has {money_text(receipt.unapplied_amount, receipt.currency)} left to apply; "
            f"{money_text(total, receipt.currency)} is too much.", fields={"amount": ["over the receipt"]})
    # Higher apps act first (collections reinstates written-off invoices and items the cash pays).
    for hook in registry.receipt_application_hooks:
        hook(receipt=receipt, invoice_amounts={i: a for i, a in wanted.items() if i > 0},
             item_amounts={-i: a for i, a in wanted.items() if i < 0}, by=by)
    invoices = Invoice.objects.select_related("customer").in_bulk([i for i in wanted if i > 0])
    items = payable_items(receipt, {-i: wanted[i] for i in wanted if i < 0})
    for invoice_id in (i for i in wanted if i > 0):
        invoice = invoices.get(invoice_id)
        if invoice is None:
            raise ValidationFailed(f"Invoice {invoice_id} does not exist.")
        if invoice.currency != receipt.currency:
            raise ValidationFailed(f"{invoice.number} is in {invoice.currency}; {receipt.number} is in "
                                   f"{receipt.currency}: apply cash only in the invoice's currency.",
                                   fields={"currency": ["mismatch"]})
        if invoice.legal_entity_id != receipt.legal_entity_id:
            raise ValidationFailed(f"{invoice.number} belongs to another legal entity than {receipt.number}.")
    owners = {invoice.customer_id for invoice in invoices.values()} | {item.customer_id for item in items.values()}
    if len(owners) != 1:
        raise ValidationFailed("One receipt pays one customer's invoices at a time; these belong to several.")
    customer = (next(iter(invoices.values())) if invoices else next(iter(items.values()))).customer
    if receipt.customer_id is not None and receipt.customer_id != customer.pk:
        raise ValidationFailed(f"{receipt.number} is {receipt.customer}'s receipt; the invoices are "
                               f"{customer.legal_name}'s.", fields={"customer": ["mismatch"]})
    # Invoices first (locked in id order, balances checked), then the postings.
    if invoices:
        invoices_record_payments(changes={i: a for i, a in wanted.items() if i > 0}, by=by,
                                 note=f"Receipt {receipt.number}")
    if receipt.customer_id is None:
        receipt_identify_locked(receipt, customer, by)
    on = max(dates.today(), receipt.value_date)
    order = sorted(wanted, key=lambda i: (i < 0, abs(i)))

    def spec(i: int) -> EntrySpec:
        return (application_entry(receipt, customer.pk, invoices[i], wanted[i]) if i > 0
                else item_application_entry(receipt, customer.pk, items[-i], wanted[i]))

    entries = journal_post_batch(
        legal_entity_id=receipt.legal_entity_id, kind=JournalEntry.Kind.APPLICATION, document_date=on, by=by,
        entries=[spec(i) for i in order])
    applications = bulk_insert_rows([
        ReceiptApplication(receipt=receipt, invoice=invoices.get(i) if i > 0 else None,
                           open_item=items.get(-i) if i < 0 else None, amount=wanted[i], journal_entry=entry,
                           rule=rule, score=score, reason=reason[:2000], applied_by=by)
        for i, entry in zip(order, entries, strict=True)])
    receipt.amount_applied += total
    status = status_after(receipt)
    if on_account and status == Receipt.Status.PARTIALLY_APPLIED:
        status = Receipt.Status.ON_ACCOUNT
    receipt.match_status = Receipt.Match.MANUAL if by is not None else Receipt.Match.AUTO
    if score is not None:
        receipt.match_score = score
    status_move(receipt, to=status, by=by, note=reason[:500],
                update_fields=["amount_applied", "match_status", "match_score"])
    if by is not None:
        _learn(receipt, customer)
    outbox_emit(topic="receipt.applied", subject_type="receipt", subject_id=receipt.pk, payload={
        "id": receipt.pk, "number": receipt.number, "customer_id": customer.pk,
        "applications": [{"invoice_id": i, "invoice_number": invoices[i].number, "amount": str(wanted[i])} if i > 0
                         else {"open_item_id": -i, "document_number": items[-i].document_number,
                               "amount": str(wanted[i])} for i in order],
    })
    return applications


@transaction.atomic(durable=True)
def application_reverse(*, application_id: int, by: User, reason: str) -> ReceiptApplication:
    """Take back one application: post the exact reversal, re-open the invoice by that amount."""
    require_perm(by, "receivables.apply_receipt", "reverse applications")
    if not (reason or "").strip():
        raise ValidationFailed("Say why the application is reversed.", fields={"reason": ["required"]})
    application = ReceiptApplication.objects.filter(pk=application_id).first()
    if application is None:
        raise ValidationFailed(f"Application {application_id} does not exist.")
    receipt = lock_receipt(application.receipt_id)
    _reverse_applications(receipt, [application_id], by, reason.strip())
    application.refresh_from_db()
    return application


def _reverse_applications(receipt: Receipt, ids: list[int], by: User | None, reason: str) -> None:
    apps = list(ReceiptApplication.objects.select_for_update(of=("self",)).filter(pk__in=ids).order_by("pk"))
    if any(a.reversed_at for a in apps):
        raise InvalidTransition("That application has already been reversed.")
    if not apps:
        return
    if any(a.invoice_id for a in apps):
        taken: dict[int, Decimal] = defaultdict(Decimal)  # one invoice may carry several of the applications
        for a in apps:
            if a.invoice_id:
                taken[a.invoice_id] -= a.amount
        invoices_record_payments(changes=dict(taken), by=by, note=f"Receipt {receipt.number}: {reason}"[:500])
    stamp = dates.now()
    for application in apps:
        application.reversal_entry = journal_reverse(
            entry_id=application.journal_entry_id, by=by, document_date=dates.today(),
            memo=f"Application of {receipt.number} reversed: {reason}"[:255])
        application.reversed_at, application.reversed_by, application.reversal_reason = stamp, by, reason
    bulk_update_rows(apps, ["reversal_entry", "reversed_at", "reversed_by", "reversal_reason"])
    receipt.amount_applied -= sum((a.amount for a in apps), Decimal(0))
    status_move(receipt, to=status_after(receipt), by=by, note=reason[:500], update_fields=["amount_applied"])


# --- on account, refunds, returns --------------------------------------------------------------

@transaction.atomic(durable=True)
def receipt_put_on_account(*, receipt_id: int, by: User, note: str = "") -> Receipt:
    """Leave what remains of an identified receipt as the customer's credit (on account)."""
    require_perm(by, "receivables.apply_receipt", "put receipts on account")
    note = text_within(note, limit=ON_ACCOUNT_NOTE_LIMIT)
    receipt = lock_receipt(receipt_id)
    if receipt.customer_id is None:
        raise InvalidTransition(f"Identify who paid {receipt.number} before putting it on account.")
    if receipt.status not in (Receipt.Status.UNAPPLIED, Receipt.Status.PARTIALLY_APPLIED):
        raise InvalidTransition(f"{receipt.number} is {receipt.get_status_display().lower()}.")
    status_move(receipt, to=Receipt.Status.ON_ACCOUNT, by=by, note=note)
    return receipt


@transaction.atomic(durable=True)
def receipt_refund(*, receipt_id: int, amount: Decimal, by: User, reason: str) -> Receipt:
    """Pay unapplied cash back to the customer: debit unapplied cash, credit the bank account."""
    require_perm(by, "receivables.refund_receipt", "refund receipts")
    if not (reason or "").strip():
        raise ValidationFailed("Say why the cash is refunded.", fields={"reason": ["required"]})
    receipt = lock_receipt(receipt_id)
    amount = check_plausible(to_decimal(amount), receipt.currency, field="amount")
    if receipt.status not in LIVE or receipt.customer_id is None:
        raise InvalidTransition(f"{receipt.number} cannot be refunded: identify the customer first, and only live "
                                "receipts are refunded.")
    if amount <= 0 or quantize(amount, receipt.currency) != amount or amount > receipt.unapplied_amount:
        raise ValidationFailed(f"Refund between 0 and the {money_text(receipt.unapplied_amount, receipt.currency)} left "
                               "unapplied.", fields={"amount": ["invalid"]})
    journal_post(
        legal_entity_id=receipt.legal_entity_id, kind=JournalEntry.Kind.RECEIPT, document_date=dates.today(), by=by,
        currency=receipt.currency, memo=f"Refund of {receipt.number}: {reason.strip()}"[:255], source=receipt,
        source_reference=receipt.number, lines=[
            LineSpec(amount=amount, role=UNAPPLIED, customer_id=receipt.customer_id, settle_item_id=receipt.open_item_id,
                     description=f"Refund {receipt.number}"),
            LineSpec(amount=-amount, account_id=receipt.bank_account.gl_account_id, description=f"Refund {receipt.number}"),
        ])
    receipt.amount_refunded += amount
    status_move(receipt, to=status_after(receipt), by=by, note=reason.strip(), update_fields=["amount_refunded"])
    return receipt


@transaction.atomic(durable=True)
def receipt_reverse(*, receipt_id: int, by: User, reason: str) -> Receipt:
    """A returned or NSF receipt: reverse every live application (re-opening the invoices), then
    the identification and the recording; the receipt stays, reversed, with the reason."""
    require_perm(by, "receivables.reverse_receipt", "reverse returned receipts")
    if not (reason or "").strip():
        raise ValidationFailed("Say why the receipt is reversed (e.g. returned: insufficient funds).",
                               fields={"reason": ["required"]})
    receipt = lock_receipt(receipt_id)
    if receipt.status == Receipt.Status.REVERSED:
        raise InvalidTransition(f"{receipt.number} is already reversed.")
    if receipt.amount_refunded:
        raise InvalidTransition(f"{receipt.number} was partly refunded: reverse the refund with a manual journal first.")
    live = list(receipt.applications.filter(reversed_at__isnull=True).values_list("pk", flat=True))
    _reverse_applications(receipt, live, by, reason.strip())
    for entry_id in (receipt.identify_entry_id, receipt.journal_entry_id):
        if entry_id:
            journal_reverse(entry_id=entry_id, by=by, document_date=dates.today(),
                            memo=f"Receipt {receipt.number} returned: {reason.strip()}"[:255])
    receipt.reversal_reason = reason.strip()
    status_move(receipt, to=Receipt.Status.REVERSED, by=by, note=reason.strip(), update_fields=["reversal_reason"])
    outbox_emit(topic="receipt.reversed", subject_type="receipt", subject_id=receipt.pk,
                payload={"id": receipt.pk, "number": receipt.number, "reason": receipt.reversal_reason})
    return receipt


# The old private names, for code that still imports them (their homes: .postings and above).
_identification, _application, _item_application = identification_entry, application_entry, item_application_entry
_recording, _status_after, _identify, _require = recording_entry, status_after, receipt_identify_locked, require_perm
identify_payer = receipt_identify_locked

__all__ = [
    "ReceiptInput", "RecordedReceipts", "application_reverse", "bank_account_create", "lock_receipt",
    "normalize_account", "payable_items", "receipt_apply", "receipt_identify", "receipt_identify_locked",
    "receipt_put_on_account", "receipt_record",
    "receipt_refund", "receipt_reverse", "receipts_record",
]
